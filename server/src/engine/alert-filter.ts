/** The alert query both the embedded alert log and the cluster's alert index answer. */
import { SEVERITY_RANK, type Severity } from '@hextwin/shared';
import type { AlertRecord } from './types.js';

export interface AlertFilter {
  model?: string;
  twinId?: string;
  minSeverity?: Severity;
  since?: number;
  acknowledged?: boolean;
  limit?: number;
}

/** Alerts of `list` (oldest first) that match, newest first, at most `limit` (default 100). */
export function queryAlerts(list: readonly AlertRecord[], f: AlertFilter): AlertRecord[] {
  const out: AlertRecord[] = [];
  const limit = f.limit ?? 100;
  const min = f.minSeverity ? SEVERITY_RANK[f.minSeverity] : 0;
  for (let i = list.length - 1; i >= 0 && out.length < limit; i--) {
    const a = list[i]!;
    if (f.since !== undefined && a.at < f.since) continue;
    if (f.model !== undefined && a.model !== f.model) continue;
    if (f.twinId !== undefined && a.twinId !== f.twinId) continue;
    if (SEVERITY_RANK[a.severity] < min) continue;
    if (f.acknowledged !== undefined && a.acknowledged !== f.acknowledged) continue;
    out.push(a);
  }
  return out;
}
