/**
 * Severity levels as the map colours them, and how a twin's own state says it is alerting.
 * Levels: 0 normal, then one per alert Severity (INFO 1 … CRITICAL 4).
 */
import type { FieldInfo, JSONObject, Severity, TwinFilter } from '../graphql/types.ts';

export const Level = { Normal: 0, Info: 1, Warning: 2, Error: 3, Critical: 4 } as const;
export type Level = (typeof Level)[keyof typeof Level];

export const LEVEL_OF_SEVERITY: Record<Severity, Level> = { INFO: 1, WARNING: 2, ERROR: 3, CRITICAL: 4 };

/** Colours chosen to stay apart for common colour-vision deficiencies on a dark map. */
export const LEVEL_COLOURS: readonly string[] = ['#4fb3bf', '#6c8cff', '#f2c14e', '#f28c38', '#ff4d5e'];
export const LEVEL_NAMES: readonly string[] = ['Normal', 'Info', 'Warning', 'Error', 'Critical'];

export function severityRank(s: Severity): number {
  return LEVEL_OF_SEVERITY[s];
}

/** status / condition values that mean trouble, with the level they deserve */
const WORD_LEVELS: Record<string, Level> = {
  minor: 1,
  exposed: 2,
  moderate: 2,
  unreachable: 2,
  offline: 1,
  stopped: 0,
  stalled: 2,
  offroute: 2,
  speeding: 2,
  warning: 2,
  error: 3,
  positive: 4,
  severe: 4,
  critical: 4,
  alarm: 4,
};

/**
 * The level a twin's state shows by itself, from the fields the sample models use
 * (`alertLevel`, `alarmSounded`, `limitExceeded`, `condition`, `status`). Unknown shapes are normal.
 */
export function stateLevel(state: JSONObject): Level {
  let level: Level = 0;
  const raise = (l: Level): void => {
    if (l > level) level = l;
  };
  const alertLevel = state.alertLevel;
  if (typeof alertLevel === 'number' && alertLevel > 0) raise(alertLevel >= 10 ? 4 : alertLevel >= 4 ? 2 : 1);
  if (state.alarmSounded === true) raise(4);
  else if (state.limitExceeded === true) raise(2);
  for (const key of ['condition', 'status'] as const) {
    const word = state[key];
    if (typeof word === 'string') raise(WORD_LEVELS[word.toLowerCase()] ?? 0);
  }
  return level;
}

/**
 * A filter selecting the twins of a model whose state says they are alerting, built from the
 * fields the server has seen on that model; null when the model has none of the known fields.
 */
export function alertingFilter(fields: readonly FieldInfo[]): TwinFilter | null {
  const names = new Set(fields.map((f) => f.name));
  const or: TwinFilter[] = [];
  if (names.has('alertLevel')) or.push({ field: 'alertLevel', op: 'GT', value: 0 });
  if (names.has('alarmSounded')) or.push({ field: 'alarmSounded', op: 'EQ', value: true });
  if (names.has('limitExceeded')) or.push({ field: 'limitExceeded', op: 'EQ', value: true });
  for (const key of ['condition', 'status']) {
    if (names.has(key)) {
      const words = Object.entries(WORD_LEVELS)
        .filter(([, l]) => l >= 2)
        .map(([w]) => w);
      // the models use camelCase words (offRoute): match the spelling they send too
      or.push({ field: key, op: 'IN', value: [...words, 'offRoute'] });
    }
  }
  if (or.length === 0) return null;
  return or.length === 1 ? (or[0] ?? null) : { or };
}
