/** Everything the dashboard's components share, created once in App.svelte (typed get/set pair). */
import { getContext, setContext } from 'svelte';
import type { GraphQLClient } from '../graphql/client.svelte.ts';
import type { AlertFeed } from './alert-feed.svelte.ts';
import type { ApiKey } from './api-key.svelte.ts';
import type { MapView } from './map-view.svelte.ts';
import type { Selection } from './selection.svelte.ts';
import type { ServerInfo } from './server-info.svelte.ts';
import type { TwinIndex } from './twin-index.svelte.ts';
import type { TwinStreams } from './twin-streams.svelte.ts';
import type { Widgets } from './widgets.svelte.ts';
import type { QueryState } from './query.svelte.ts';
import type { Geofences } from './geofences.svelte.ts';

export interface App {
  client: GraphQLClient;
  apiKey: ApiKey;
  server: ServerInfo;
  alerts: AlertFeed;
  twins: TwinIndex;
  streams: TwinStreams;
  selection: Selection;
  mapView: MapView;
  widgets: Widgets;
  query: QueryState;
  geofences: Geofences;
}

const KEY = Symbol('hextwin.app');

export function setApp(app: App): void {
  setContext(KEY, app);
}

export function getApp(): App {
  const app = getContext<App | undefined>(KEY);
  if (!app) throw new Error('getApp() outside of <App>');
  return app;
}
