/**
 * Keeps every twin with an open alert on the map, coloured by its highest open severity, even
 * when no continuous query streams it (a large model shows only twins whose *state* alerts).
 */
import type { GraphQLClient } from '../graphql/client.svelte.ts';
import { TWIN_LOCATION } from '../graphql/operations.ts';
import type { TwinSummary } from '../graphql/types.ts';
import type { AlertFeed } from './alert-feed.svelte.ts';
import { Reason, type TwinIndex } from './twin-index.svelte.ts';
import { twinKey } from './selection.svelte.ts';

export function pinAlertedTwins(alerts: AlertFeed, twins: TwinIndex, client: GraphQLClient): () => void {
  const pinned = new Set<string>();
  return alerts.onOpenLevel((model, id, level, known) => {
    twins.setAlertLevel(model, id, level);
    const key = twinKey(model, id);
    if (level === 0) {
      pinned.delete(key);
      twins.release(model, id, Reason.Alert);
      return;
    }
    if (pinned.has(key)) return;
    // a twin a stream already shows keeps its (newer) streamed state
    if (twins.hold(model, id, Reason.Alert)) {
      pinned.add(key);
      return;
    }
    if (known !== undefined) {
      // the alert brought the twin along (null: it was removed)
      if (known) {
        pinned.add(key);
        twins.upsert(known, Reason.Alert);
      }
      return;
    }
    pinned.add(key);
    client.request<{ twin: TwinSummary | null }>(TWIN_LOCATION, { model, id }).then(
      ({ twin }) => {
        if (twin && pinned.has(key)) twins.upsert(twin, Reason.Alert);
      },
      () => pinned.delete(key),
    );
  });
}
