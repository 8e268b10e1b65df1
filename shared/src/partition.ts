import { twinHash } from './twin-key.js';

/** Number of partitions. Fixed for the life of a deployment: changing it moves every twin. */
export const PARTITIONS = 256;

/** The one partition function, shared by the embedded runtime and the cluster. */
export function partition(model: string, id: string, partitions: number = PARTITIONS): number {
  return twinHash(model, id) % partitions;
}
