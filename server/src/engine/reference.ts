/**
 * Reference data per model (CSV or JSON rows keyed by twin id): loaded at start, reloaded when
 * the file changes (or taken from a source shared by several engines), with optional pre-creation
 * of a twin for every row.
 */
import { isTwinId } from '@hextwin/shared';
import type { CompiledModel } from './compiled-model.js';
import type { EngineParts } from './parts.js';
import { loadReferenceFile, watchReferenceFile } from './reference-data.js';
import type { ReferenceSource } from './types.js';

export class ModelReference {
  private unwatch: (() => void)[] = [];

  constructor(
    private readonly p: EngineParts,
    private readonly baseDir: string,
    private readonly source: ReferenceSource | undefined,
    private readonly isReady: () => boolean,
  ) {}

  /** Load the rows of one model and keep them current. */
  load(cm: CompiledModel): void {
    const spec = cm.def.reference;
    if (!spec) return;
    if (this.source) {
      cm.reference = this.source.rows(cm.name);
      return;
    }
    const { file, rows } = loadReferenceFile(spec, this.baseDir);
    cm.reference = rows;
    this.unwatch.push(
      watchReferenceFile(file, spec, (next) => {
        if (next instanceof Error) this.p.log.error({ err: next, model: cm.name }, 'reference data reload failed; keeping the previous rows');
        else {
          cm.reference = next;
          this.p.log.info({ model: cm.name, rows: next.size }, 'reference data reloaded');
          if (spec.precreate) this.precreate(cm);
        }
      }),
    );
  }

  /** Follow the shared source's reloads (several engines share one). */
  follow(): void {
    const source = this.source;
    if (!source) return;
    this.unwatch.push(
      source.onReload((model) => {
        const cm = this.p.compiled.get(model);
        if (!cm) return;
        cm.reference = source.rows(model);
        if (cm.def.reference?.precreate && this.isReady()) this.precreate(cm);
      }),
    );
  }

  /** A twin for every reference row that has none yet (and lives here). */
  precreate(cm: CompiledModel): void {
    if (!cm.reference) return;
    const { twins, route, checkpointer, events } = this.p;
    for (const id of cm.reference.keys()) {
      if (cm.twins.has(id) || !isTwinId(id)) continue;
      if (route && !route.isLocal(cm.name, id)) continue;
      try {
        const t = twins.getOrCreate(cm, id);
        t.version = 1;
        twins.locate(t);
        checkpointer.markDirty(t);
        events.emit('twinChanged', { twin: t, created: true });
      } catch (e) {
        twins.reportError(cm.name, id, 'MODEL_ERROR', e);
      }
    }
  }

  stop(): void {
    for (const u of this.unwatch) u();
    this.unwatch = [];
  }
}
