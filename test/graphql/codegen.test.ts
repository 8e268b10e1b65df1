import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateTypes, outputFile } from '../../shared/graphql/codegen.js';

describe('generated GraphQL types', () => {
  it('are up to date with shared/graphql/schema.graphql (run `pnpm codegen` after changing the SDL)', async () => {
    expect(readFileSync(outputFile, 'utf8') === (await generateTypes())).toBe(true);
  });
});
