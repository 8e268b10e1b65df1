import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { basemap } from './vite/basemap-plugin.ts';

/** The dashboard: built to web/dist (served by the server at `/`); in dev, /graphql is proxied to the server. */
export default defineConfig({
  plugins: [svelte(), basemap()],
  server: {
    host: '127.0.0.1',
    proxy: {
      '/graphql': { target: 'http://127.0.0.1:4000', ws: true, changeOrigin: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // maplibre-gl alone is ~800 kB minified; it is one cached chunk, not a problem to warn about
    chunkSizeWarningLimit: 1500,
  },
});
