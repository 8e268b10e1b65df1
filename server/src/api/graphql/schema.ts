/** The executable schema: the public SDL (shared/graphql/schema.graphql), the typed model API, and the resolvers. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { buildSchema as buildSdl, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Resolvers } from '@hextwin/shared/generated/graphql';
import type { ModelInfo } from '../../engine/types.js';
import type { GqlContext } from './context.js';
import { DateTimeScalar, jsonScalar } from './scalars.js';
import { Query } from './resolvers/query.js';
import { Mutation } from './resolvers/mutation.js';
import { Subscription } from './resolvers/subscription.js';
import { Alert, Twin } from './resolvers/types.js';
import { recordingResolvers } from '../../recording/graphql.js';
import { geofenceResolvers } from '../../geofence/graphql.js';
import { typedModels } from './typed-models.js';
import { baseWeights, type FieldWeight } from './complexity.js';

export const SDL_FILE = fileURLToPath(new URL('../../../../shared/graphql/schema.graphql', import.meta.url));

/** The executable schema and the cost weights of its fields (complexity.ts). */
export interface BuiltSchema {
  schema: GraphQLSchema;
  weights: Map<string, FieldWeight>;
}

export function buildSchema(models: ModelInfo[], log: Logger, maxJsonBytes: number): BuiltSchema {
  const resolvers: Resolvers<GqlContext> = { JSON: jsonScalar(maxJsonBytes), DateTime: DateTimeScalar, Query, Mutation, Subscription, Twin, Alert };
  const sdl = readFileSync(SDL_FILE, 'utf8');
  const base = buildSdl(sdl);
  const taken = { types: new Set(Object.keys(base.getTypeMap())), queryFields: new Set(Object.keys(base.getQueryType()!.getFields())) };
  const typed = typedModels(models, taken, log);
  const weights = baseWeights();
  for (const [model, g] of typed.generated) weights.set(`Query.${g.many}`, { kind: 'scan', model });
  const schema = makeExecutableSchema({
    typeDefs: typed.sdl ? [sdl, typed.sdl] : [sdl],
    // the generated Resolvers type is stricter than graphql-tools' own; both describe the same objects
    resolvers: [resolvers, recordingResolvers, geofenceResolvers, typed.resolvers] as Parameters<typeof makeExecutableSchema>[0]['resolvers'],
  });
  return { schema, weights };
}
