/**
 * Finds the models to run: the samples (unless disabled) and every model file in MODELS_DIR: code
 * models (.ts/.js/.mjs) and declarative rules models (*.rules.json, *.rules.yaml, *.rules.yml).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModelDefinition } from '@hextwin/shared';
import { isRulesFile, loadRulesFile } from './rules/index.js';

function isModel(v: unknown): v is ModelDefinition {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as ModelDefinition).name === 'string' &&
    typeof (v as ModelDefinition).process === 'function' &&
    typeof (v as ModelDefinition).init === 'function'
  );
}

/**
 * Every ModelDefinition exported by the .ts/.js/.mjs files of a directory (not tests), and one per
 * rules file. A rules file with a mistake fails the load with MODEL_INVALID naming file and line.
 */
export async function loadModelsDir(dir: string): Promise<ModelDefinition[]> {
  const names = readdirSync(dir).sort();
  const files = names.filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !/\.(test|spec|d)\.[mc]?[tj]s$/.test(f));
  const out: ModelDefinition[] = [];
  for (const f of names.filter(isRulesFile)) out.push(loadRulesFile(path.join(dir, f)));
  for (const f of files) {
    const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as Record<string, unknown>;
    for (const v of Object.values(mod)) {
      if (isModel(v)) out.push(v);
      else if (Array.isArray(v)) out.push(...v.filter(isModel));
    }
  }
  return out;
}

export async function loadModels(opts: { samples: boolean; modelsDir: string | undefined }): Promise<ModelDefinition[]> {
  const byName = new Map<string, ModelDefinition>();
  if (opts.samples) {
    const { sampleModels } = (await import('../models/index.js')) as { sampleModels: ModelDefinition[] };
    for (const m of sampleModels) byName.set(m.name, m);
  }
  if (opts.modelsDir) {
    // a user's model replaces a sample of the same name
    for (const m of await loadModelsDir(opts.modelsDir)) byName.set(m.name, m);
  }
  return [...byName.values()];
}
