import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{api,contract,sequencer,engine,mq,ws-server,db,ops,web,lib}/**/*.test.ts'],
    // Integration tests share real services and a 2-core machine: keep files in few workers.
    maxWorkers: 2,
    // fixed seeds for randomized tests unless TEST_RANDOM_SEEDS=1 (ops/testing/seeds.ts)
    setupFiles: ['ops/testing/vitest-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
