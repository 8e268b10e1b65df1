/**
 * The offline basemap style: a dark, quiet background so coloured twins and hexagons stand out.
 * Its data is built from open data at build time (see web/vite/basemap-plugin.ts) and served
 * beside the dashboard; labels are drawn with the browser's own fonts (no glyph server).
 */
import type { StyleSpecification } from 'maplibre-gl';

export const BASEMAP_FONT = ['Inter', 'Segoe UI', 'Helvetica Neue', 'Arial', 'sans-serif'];

/** id of the first layer drawn above the basemap fills: data layers go below labels */
export const LABEL_LAYER = 'basemap-city-labels';

export function offlineStyle(baseUrl: string): StyleSpecification {
  const data = (name: string): string => new URL(`basemap/${name}.geojson`, baseUrl).href;
  return {
    version: 8,
    name: 'hextwin offline',
    sources: {
      land: { type: 'geojson', data: data('land'), maxzoom: 8, tolerance: 0.6 },
      borders: { type: 'geojson', data: data('borders'), maxzoom: 8 },
      states: { type: 'geojson', data: data('states'), maxzoom: 8 },
      cities: { type: 'geojson', data: data('cities') },
      countries: { type: 'geojson', data: data('country-labels') },
    },
    layers: [
      { id: 'basemap-water', type: 'background', paint: { 'background-color': '#0b1220' } },
      { id: 'basemap-land', type: 'fill', source: 'land', paint: { 'fill-color': '#172131' } },
      {
        id: 'basemap-coast',
        type: 'line',
        source: 'land',
        paint: { 'line-color': '#2a3a52', 'line-width': ['interpolate', ['linear'], ['zoom'], 1, 0.5, 8, 1.5] },
      },
      {
        id: 'basemap-states',
        type: 'line',
        source: 'states',
        minzoom: 2.5,
        paint: { 'line-color': '#2c3b50', 'line-width': 0.7, 'line-dasharray': [3, 2] },
      },
      {
        id: 'basemap-borders',
        type: 'line',
        source: 'borders',
        paint: { 'line-color': '#3a4d68', 'line-width': ['interpolate', ['linear'], ['zoom'], 1, 0.6, 8, 1.6] },
      },
      {
        id: 'basemap-country-labels',
        type: 'symbol',
        source: 'countries',
        maxzoom: 6,
        filter: ['>', ['get', 'area'], 8],
        layout: {
          'text-field': ['upcase', ['get', 'name']],
          'text-font': BASEMAP_FONT,
          'text-size': ['interpolate', ['linear'], ['zoom'], 1, 9, 5, 13],
          'text-letter-spacing': 0.12,
          'symbol-sort-key': ['-', ['get', 'area']],
        },
        paint: { 'text-color': '#50627c', 'text-halo-color': '#0b1220', 'text-halo-width': 1 },
      },
      {
        id: 'basemap-city-dots',
        type: 'circle',
        source: 'cities',
        filter: ['<=', ['get', 'rank'], ['step', ['zoom'], 0, 3, 1, 5, 2, 6.5, 3]],
        paint: { 'circle-radius': 2, 'circle-color': '#6d7f99', 'circle-opacity': 0.8 },
      },
      {
        id: LABEL_LAYER,
        type: 'symbol',
        source: 'cities',
        filter: ['<=', ['get', 'rank'], ['step', ['zoom'], 0, 3, 1, 5, 2, 6.5, 3]],
        layout: {
          'text-field': ['get', 'name'],
          'text-font': BASEMAP_FONT,
          'text-size': ['interpolate', ['linear'], ['zoom'], 2, 10, 8, 13],
          'text-anchor': 'left',
          'text-offset': [0.5, 0],
          'symbol-sort-key': ['-', ['get', 'population']],
        },
        paint: { 'text-color': '#8a9ab3', 'text-halo-color': '#0b1220', 'text-halo-width': 1.2 },
      },
    ],
  };
}
