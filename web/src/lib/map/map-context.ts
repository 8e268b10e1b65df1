/** The MapLibre map handed from MapView to its layer and control components (typed get/set pair). */
import { getContext, setContext } from 'svelte';
import type { Map as MapLibreMap } from 'maplibre-gl';

const KEY = Symbol('hextwin.map');

export interface MapContext {
  readonly map: MapLibreMap;
}

export function setMapContext(ctx: MapContext): void {
  setContext(KEY, ctx);
}

export function getMapContext(): MapContext {
  const ctx = getContext<MapContext | undefined>(KEY);
  if (!ctx) throw new Error('map layers must be placed inside <MapView>');
  return ctx;
}
