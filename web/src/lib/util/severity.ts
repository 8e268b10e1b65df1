/**
 * Severity levels as the map colours them; a twin's own level comes from its model (`Twin.level`).
 * Levels: 0 normal, then one per alert Severity (INFO 1 … CRITICAL 4).
 */
import type { Severity, TwinFilter } from '../graphql/types.ts';

export const Level = { Normal: 0, Info: 1, Warning: 2, Error: 3, Critical: 4 } as const;
export type Level = (typeof Level)[keyof typeof Level];

export const LEVEL_OF_SEVERITY: Record<Severity, Level> = { INFO: 1, WARNING: 2, ERROR: 3, CRITICAL: 4 };

/** Colours chosen to stay apart for common colour-vision deficiencies on a dark map. */
export const LEVEL_COLOURS: readonly string[] = ['#4fb3bf', '#6c8cff', '#f2c14e', '#f28c38', '#ff4d5e'];
export const LEVEL_NAMES: readonly string[] = ['Normal', 'Info', 'Warning', 'Error', 'Critical'];

export function severityRank(s: Severity): number {
  return LEVEL_OF_SEVERITY[s];
}

/** The map level of a twin from its `Twin.level` (what its model's `level(state)` says); null is normal. */
export function twinLevel(level: Severity | null | undefined): Level {
  return level ? LEVEL_OF_SEVERITY[level] : Level.Normal;
}

/** The twins of any model whose model says they are alerting: `Twin.level` set. */
export const ALERTING_FILTER: TwinFilter = { field: '$level', op: 'EXISTS' };
