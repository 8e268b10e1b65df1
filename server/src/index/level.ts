/**
 * A twin's level: what its model's `level(state)` says, read as a Severity or null. A model that
 * declares no level, answers something that is not a Severity, or throws, leaves the twin at null
 * (normal): one model's bug must not break a query over all twins.
 */
import { Severity, type Severity as SeverityName } from '@hextwin/shared';

export type LevelFn = (state: unknown) => unknown;

const SEVERITIES = new Set<unknown>(Object.values(Severity));

/** The twin's level under `level`, null when normal or unknown. */
export function levelOf(level: LevelFn | undefined, twin: { readonly state: unknown }): SeverityName | null {
  if (!level) return null;
  try {
    const v = level(twin.state);
    return SEVERITIES.has(v) ? (v as SeverityName) : null;
  } catch {
    return null;
  }
}
