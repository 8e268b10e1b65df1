/** Whether a principal may write every twin of a batch (the device scope of AUTH_FILE). */
import { HextwinError } from '@hextwin/shared';
import type { Principal } from '../auth/auth.js';

/** Throws FORBIDDEN naming the first twin outside the principal's scope; the whole batch is refused. */
export function checkWriteScope(principal: Principal, envelopes: readonly { model: string; id: string }[]): void {
  if (principal.role === 'admin' || principal.role === 'operator') return;
  for (let i = 0; i < envelopes.length; i++) {
    const e = envelopes[i]!;
    if (!principal.canWrite(e.model, e.id)) {
      throw new HextwinError('FORBIDDEN', `key "${principal.name}" (${principal.role}) may not write ${e.model}/${e.id}`, { details: { index: i } });
    }
  }
}
