/**
 * The geofences the map draws and the operator edits: loaded over GraphQL, saved with
 * putGeofence and removed with removeGeofence; and the fence being drawn (points clicked on the
 * map, closed into a polygon on save). Components only show this state and call its methods.
 */
import type { GraphQLClient } from '../graphql/client.svelte.ts';
import { GEOFENCES, PUT_GEOFENCE, REMOVE_GEOFENCE } from '../graphql/operations.ts';
import type { Geofence, GeofenceInput } from '../graphql/types.ts';

export class Geofences {
  #client: GraphQLClient;
  #list = $state.raw<Geofence[]>([]);
  #error = $state<string | null>(null);
  #drawing = $state(false);
  #draft = $state.raw<[number, number][]>([]);

  constructor(client: GraphQLClient) {
    this.#client = client;
  }

  get list(): Geofence[] {
    return this.#list;
  }
  /** why the last load, save or removal failed */
  get error(): string | null {
    return this.#error;
  }
  /** true while map clicks add points to the draft */
  get drawing(): boolean {
    return this.#drawing;
  }
  /** the points clicked so far, [lng, lat] */
  get draft(): [number, number][] {
    return this.#draft;
  }

  async load(): Promise<void> {
    try {
      this.#list = (await this.#client.request<{ geofences: Geofence[] }>(GEOFENCES)).geofences;
      this.#error = null;
    } catch (e) {
      this.#error = (e as Error).message;
    }
  }

  startDrawing(): void {
    this.#drawing = true;
    this.#draft = [];
    this.#error = null;
  }

  cancelDrawing(): void {
    this.#drawing = false;
    this.#draft = [];
  }

  addPoint(lng: number, lat: number): void {
    if (this.#drawing) this.#draft = [...this.#draft, [lng, lat]];
  }

  /** Save the draft as a polygon named `name` (for `model`, or every model when null). */
  async saveDraft(name: string, model: string | null): Promise<boolean> {
    if (this.#draft.length < 3) {
      this.#error = 'click at least three points on the map';
      return false;
    }
    const ring = [...this.#draft, this.#draft[0]!];
    const ok = await this.put({ name, model, shape: { type: 'Polygon', coordinates: [ring] } });
    if (ok) this.cancelDrawing();
    return ok;
  }

  async put(input: GeofenceInput): Promise<boolean> {
    try {
      const { putGeofence } = await this.#client.request<{ putGeofence: Geofence }>(PUT_GEOFENCE, { input });
      this.#list = [...this.#list.filter((f) => f.name !== putGeofence.name), putGeofence].sort((a, b) => a.name.localeCompare(b.name));
      this.#error = null;
      return true;
    } catch (e) {
      this.#error = (e as Error).message;
      return false;
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.#client.request<{ removeGeofence: boolean }>(REMOVE_GEOFENCE, { name });
      this.#list = this.#list.filter((f) => f.name !== name);
      this.#error = null;
    } catch (e) {
      this.#error = (e as Error).message;
    }
  }
}
