import path from 'node:path';
import { pino } from 'pino';
import { type Config, loadConfig, PROJECT_ROOT } from './config.ts';
import { CORE_NODE_FLAGS } from './core-child.ts';
import { servicesUp } from './services/lifecycle.ts';
import { ShutdownSignals } from './shutdown-signals.ts';
import { type ProcessSpec, Supervisor } from './supervisor.ts';
import { buildWeb, describeBuild } from './web-build.ts';

/**
 * The xtrader processes `npm start` runs. Each is a TypeScript entry run by node with the tsx loader
 * (one process per entry, no tsx CLI wrapper in between, so signals reach the process itself).
 */
export function xtraderProcesses(config: Config): ProcessSpec[] {
  const typescript = (name: string, entry: string, env: NodeJS.ProcessEnv = {}, nodeFlags: readonly string[] = []): ProcessSpec => ({
    name,
    command: process.execPath,
    args: [...nodeFlags, '--import', 'tsx', path.join(PROJECT_ROOT, entry)],
    env: { ...process.env, ...env },
  });
  return [
    typescript('core', 'ops/core.ts', { API_HOST: config.API_HOST, API_PORT: String(config.API_PORT) }, CORE_NODE_FLAGS),
    // one process per broker: a hung broker or a busy client library stays in its own process
    ...config.PUBLISHERS.map((broker) => ({
      ...typescript(`publisher-${broker}`, 'ops/publisher.ts'),
      args: [...typescript('', 'ops/publisher.ts').args, broker],
    })),
    // Redis stream `executions` → PostgreSQL (its consumers are PERSISTER_CONSUMERS connections in one process)
    ...(config.PUBLISHERS.includes('redis') ? [typescript('persister', 'ops/persister.ts')] : []),
    // Kafka `market-data` → candles in PostgreSQL (GET /v1/candles)
    ...(config.PUBLISHERS.includes('kafka') ? [typescript('market-data', 'ops/market-data.ts')] : []),
    // RabbitMQ `market-notifications` → WebSocket clients: two instances side by side, each with its own queue
    ...(config.PUBLISHERS.includes('rabbitmq')
      ? [config.WS_PORT, config.WS_PORT_2].map((port, index) =>
          typescript(`ws-server-${index + 1}`, 'ops/ws-server.ts', { WS_PORT: String(port), WS_INSTANCE: `ws-${port}` }),
        )
      : []),
  ];
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL, base: { process: 'supervisor' } });

  await servicesUp(config, (line) => logger.info(line));
  // the trading page the core serves at / (read by the core when it starts)
  logger.info(describeBuild(await buildWeb()));

  const supervisor = new Supervisor(xtraderProcesses(config), { logger });
  const signals = new ShutdownSignals();
  const shutdown = (signal: NodeJS.Signals) => {
    const verdict = signals.receive(Date.now());
    if (verdict === 'ignore') return; // the same Ctrl-C, delivered twice (see shutdown-signals.ts)
    if (verdict === 'exit-now') {
      logger.warn({ signal }, 'second signal: killing every process (SIGKILL) and exiting without waiting');
      supervisor.killAll();
      process.exit(130);
    }
    logger.info({ signal }, 'stopping all processes');
    supervisor.stop().then(
      () => {
        logger.info('all processes stopped; services stay up (npm run services:down stops them)');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // If whatever started us dies without passing a signal on (kill -9 of npm), do not leave orphans.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && !signals.stopping) shutdown('SIGHUP');
  }, 1_000).unref();
  supervisor.start();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
