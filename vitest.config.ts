import { defineConfig } from 'vitest/config';

// One run over every package; integration tests in test/ start real servers, so they get longer timeouts.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'shared', root: './shared', include: ['test/**/*.test.ts', 'src/**/*.test.ts'] } },
      { test: { name: 'server', root: './server', include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'models/**/*.test.ts'], testTimeout: 20_000 } },
      // the dashboard's own Vite config compiles Svelte runes in *.svelte.ts for its unit tests
      { extends: './web/vite.config.ts', test: { name: 'web', root: './web', include: ['src/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          root: './test',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
