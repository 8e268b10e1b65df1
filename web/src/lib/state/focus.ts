/** Opens a twin in the inspector and flies the map to it (from the alert feed, a table row, …). */
import type { App } from './app-context.ts';
import { TWIN_LOCATION } from '../graphql/operations.ts';
import type { TwinSummary } from '../graphql/types.ts';

export async function focusTwin(app: App, model: string, id: string): Promise<void> {
  app.selection.open({ model, id });
  const known = app.twins.get(`${model}/${id}`)?.twin;
  let lat = known?.lat ?? null;
  let lng = known?.lng ?? null;
  if (lat === null || lng === null) {
    try {
      const { twin } = await app.client.request<{ twin: TwinSummary | null }>(TWIN_LOCATION, { model, id });
      lat = twin?.lat ?? null;
      lng = twin?.lng ?? null;
    } catch {
      return; // the inspector shows the error; the map stays where it is
    }
  }
  if (lat !== null && lng !== null) app.selection.flyTo(lng, lat);
}
