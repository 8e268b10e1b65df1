/** A twin is identified by its model name and its id within that model. */
export interface TwinKey {
  readonly model: string;
  readonly id: string;
}

/** The one string form of a key, used in maps, logs and stores. Model names cannot contain '/'. */
export function keyString(model: string, id: string): string {
  return model + '/' + id;
}

export function parseKeyString(key: string): TwinKey {
  const slash = key.indexOf('/');
  if (slash < 0) throw new Error(`not a twin key: ${key}`);
  return { model: key.slice(0, slash), id: key.slice(slash + 1) };
}

/**
 * FNV-1a 32-bit hash over the UTF-16 code units of `model/id`. Stable across processes and
 * versions: partition ownership in the cluster depends on it, so never change it.
 */
export function twinHash(model: string, id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < model.length; i++) {
    h ^= model.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= 0x2f; // '/'
  h = Math.imul(h, 0x01000193);
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
