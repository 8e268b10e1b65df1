/** The alert query both the embedded alert log and the cluster's alert index answer. */
import { SEVERITY_RANK } from '@hextwin/shared';
import type { AlertQuery, AlertRecord } from './types.js';

export type AlertFilter = AlertQuery;

/** Alerts of `list` (oldest first) that match, newest first, at most `limit` (default 100). */
export function queryAlerts(list: readonly AlertRecord[], f: AlertFilter): AlertRecord[] {
  const out: AlertRecord[] = [];
  const limit = f.limit ?? 100;
  const min = f.minSeverity ? SEVERITY_RANK[f.minSeverity] : 0;
  const severities = f.severity && f.severity.length ? new Set(f.severity) : null;
  for (let i = list.length - 1; i >= 0 && out.length < limit; i--) {
    const a = list[i]!;
    if (f.since !== undefined && (a.lastAt ?? a.at) < f.since) continue;
    if (f.model !== undefined && a.model !== f.model) continue;
    if (f.twinId !== undefined && a.twinId !== f.twinId) continue;
    if (SEVERITY_RANK[a.severity] < min) continue;
    if (f.acknowledged !== undefined && a.acknowledged !== f.acknowledged) continue;
    if (f.status !== undefined && (a.status ?? 'ACTIVE') !== f.status) continue;
    if (f.type !== undefined && (a.type ?? null) !== f.type) continue;
    if (severities && !severities.has(a.severity)) continue;
    out.push(a);
  }
  return out;
}
