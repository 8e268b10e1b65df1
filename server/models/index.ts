/** The sample models that ship with hextwin (see SAMPLE-MODELS.md). */
import type { ModelDefinition } from '@hextwin/shared';

export const sampleModels: ModelDefinition[] = [];
