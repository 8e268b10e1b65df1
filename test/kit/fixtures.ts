/** The fixture models (test/fixtures/models: probe, slow) as server environment. */
import path from 'node:path';
import { repoRoot } from './server.js';

export const fixtureModelsDir = path.join(repoRoot, 'test/fixtures/models');

/** Server env that loads only the fixture models. */
export const fixtureEnv: Record<string, string> = { HEXTWIN_SAMPLE_MODELS: '0', MODELS_DIR: fixtureModelsDir };

export const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);
