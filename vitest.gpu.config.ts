import { defineConfig } from 'vitest/config';

/** Only for scripts/cuda-bench.sh: the GPU-vs-CPU checks, which need a CUDA/Metal build and a GPU. */
export default defineConfig({
  test: {
    include: ['test/gpu/**/*.gpu.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
