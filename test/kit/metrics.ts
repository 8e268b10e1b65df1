/** Reading the server's /metrics (Prometheus text format) in tests. */

/**
 * The value of one sample, matching the given labels exactly on those keys; 0 when absent.
 * A server with an AUTH_FILE needs `key` (viewer or above) for /metrics.
 */
export async function metric(url: string, name: string, labels: Record<string, string> = {}, key?: string): Promise<number> {
  const r = await fetch(url + '/metrics', key ? { headers: { authorization: `Bearer ${key}` } } : {});
  if (r.status !== 200) throw new Error(`GET /metrics answered ${r.status}: ${await r.text()}`);
  return sampleOf(await r.text(), name, labels);
}

export function sampleOf(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const kv of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have.set(kv[1]!, kv[2]!);
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) {
      sum += Number(m[3]);
      found = true;
    }
  }
  return found ? sum : 0;
}
