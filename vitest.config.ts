import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Three test tiers, told apart by the file name (docs/testing.md):
 *   `*.test.ts`           unit — no service: PostgreSQL, Redis, RabbitMQ, Kafka and Chromium may all be stopped
 *   `*.int.test.ts`       integration — needs the services `npm run services:up -- --browser` starts
 *   `*.isolation.test.ts` stops or freezes a shared broker: runs alone, one file at a time (`npm run test:isolation`)
 * The unit tier runs with every service address on a closed port and a guard on the services' default
 * ports (ops/testing/unit-guard.ts), so a unit test that quietly needs a service fails there.
 */
const FOLDERS = '{api,contract,lib,sequencer,engine,mq,ws-server,db,ops,web}';

/** Port 1 is closed: a connection is refused at once instead of reaching the shared services. */
const DEAD_SERVICES = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
  REDIS_URL: 'redis://127.0.0.1:1',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
  KAFKA_BROKERS: '127.0.0.1:1',
};

export default defineConfig({
  test: {
    // Integration tests share real services and a 2-core machine: keep files in few workers.
    maxWorkers: 2,
    // fixed seeds for randomized tests unless TEST_RANDOM_SEEDS=1 (ops/testing/seeds.ts)
    setupFiles: ['ops/testing/vitest-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [`${FOLDERS}/**/*.test.ts`],
          exclude: [...configDefaults.exclude, '**/*.int.test.ts', '**/*.isolation.test.ts'],
          env: DEAD_SERVICES,
          setupFiles: ['ops/testing/unit-guard.ts'],
          // CPU-bound property tests (engine.property's replay took 30 s on the shared 2-core machine at load 15):
          // here a timeout would only say the machine is busy; a hung test is still stopped.
          testTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: { name: 'integration', include: [`${FOLDERS}/**/*.int.test.ts`] },
      },
      {
        extends: true,
        test: { name: 'isolation', include: [`${FOLDERS}/**/*.isolation.test.ts`] },
      },
    ],
  },
});
