/** Validation of accepted envelopes, shared by the engine and the cluster's ingest path. */
import { HextwinError, isModelName, isTwinId } from '@hextwin/shared';
import type { CompiledModel } from './compiled-model.js';
import type { Envelope } from './types.js';

/** Validate every envelope first: a batch is accepted whole or not at all. Throws the first coded error. */
export function validateEnvelopes(models: ReadonlyMap<string, CompiledModel>, envelopes: Envelope[]): void {
  for (let i = 0; i < envelopes.length; i++) {
    const e = envelopes[i]!;
    const cm = models.get(e.model);
    if (!cm) {
      throw new HextwinError(isModelName(String(e.model)) ? 'UNKNOWN_MODEL' : 'INVALID_ID', `no model named ${JSON.stringify(e.model)}`, {
        details: { index: i },
      });
    }
    if (typeof e.id !== 'string' || !isTwinId(e.id)) throw new HextwinError('INVALID_ID', `invalid twin id ${JSON.stringify(e.id)}`, { details: { index: i } });
    if (e.message === undefined) throw new HextwinError('INVALID_MESSAGE', `${e.model}/${e.id}: message is missing`, { details: { index: i } });
    if (cm.isQuarantined(e.id)) {
      throw new HextwinError('TWIN_QUARANTINED', `${e.model}/${e.id} is quarantined: ${(cm.quarantined.get(e.id) ?? cm.quarantined.get('*'))!.reason}`, {
        details: { index: i },
      });
    }
    cm.check(e.message, envelopes.length > 1 ? `${e.id} (item ${i})` : e.id);
  }
}
