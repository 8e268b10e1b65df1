/** Reference data read once per node for all of its partition engines, and reloaded when a file changes. */
import type { Logger } from 'pino';
import type { ModelDefinition, ReferenceRow } from '@hextwin/shared';
import type { ReferenceSource } from '../engine/engine.js';
import { loadReferenceFile, watchReferenceFile } from '../engine/reference-data.js';

export class SharedReference implements ReferenceSource {
  private readonly rowsByModel = new Map<string, Map<string, ReferenceRow>>();
  private readonly listeners = new Set<(model: string) => void>();
  private readonly unwatch: (() => void)[] = [];

  constructor(models: ModelDefinition[], baseDir: string, log: Logger) {
    for (const def of models) {
      if (!def.reference) continue;
      const spec = def.reference;
      const { file, rows } = loadReferenceFile(spec, baseDir);
      this.rowsByModel.set(def.name, rows);
      this.unwatch.push(
        watchReferenceFile(file, spec, (next) => {
          if (next instanceof Error) {
            log.error({ err: next, model: def.name }, 'reference data reload failed; keeping the previous rows');
            return;
          }
          this.rowsByModel.set(def.name, next);
          log.info({ model: def.name, rows: next.size }, 'reference data reloaded');
          for (const l of this.listeners) l(def.name);
        }),
      );
    }
  }

  rows(model: string): Map<string, ReferenceRow> | undefined {
    return this.rowsByModel.get(model);
  }

  onReload(listener: (model: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    for (const u of this.unwatch) u();
  }
}
