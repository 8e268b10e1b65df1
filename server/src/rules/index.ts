/**
 * Declarative rules models: `*.rules.json`, `*.rules.yaml` and `*.rules.yml` files compiled to a
 * normal `ModelDefinition`. The format and the expression grammar are in docs/MODELS.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelDefinition } from '@hextwin/shared';
import { compileRules } from './compile.js';
import { parseJsonSource, parseYamlSource } from './source.js';

const RULES_FILE = /\.rules\.(json|ya?ml)$/;

export function isRulesFile(file: string): boolean {
  return RULES_FILE.test(file);
}

/** Compile rules text; `file` names it in errors, and its base name is the default model name. */
export function compileRulesText(file: string, text: string): ModelDefinition {
  const ext = RULES_FILE.exec(file)?.[1];
  const doc = ext === 'json' ? parseJsonSource(file, text) : parseYamlSource(file, text);
  return compileRules(doc, path.basename(file).replace(RULES_FILE, ''));
}

/** Read and compile a rules file; throws MODEL_INVALID naming the file and line. */
export function loadRulesFile(file: string): ModelDefinition {
  return compileRulesText(file, readFileSync(file, 'utf8'));
}
