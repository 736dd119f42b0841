import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{api,sequencer,engine,mq,ws-server,db,ops}/**/*.test.ts'],
    // Integration tests share real services and a 2-core machine: keep files in few workers.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
