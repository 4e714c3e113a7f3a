import { defineConfig } from 'vitest/config';

// Tests are grouped by what they need:
//   test/unit/    pure TypeScript (no addon, no model): files run in parallel
//   test/addon/   the native addon with synthetic models (and CLI/child processes)
//   test/models/  real models from the registry (Gemma 3 270M, SmolLM2-135M-Instruct)
// Native inference saturates the cores, so the addon and model files run one after another,
// each in a child process. `npm test` runs all three; `npx vitest run --project unit` one.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 300_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], pool: 'threads' } },
      { extends: true, test: { name: 'native', include: ['test/addon/**/*.test.ts', 'test/models/**/*.test.ts'], pool: 'forks', fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
