import path from 'node:path';
import { PROJECT_ROOT } from '../config.ts';
import { commandExists, runCommand } from './command.ts';
import { clearStarted, markStarted, type ServiceContext, wasStartedByProject } from './context.ts';
import { ServiceStartError } from './wait.ts';

const COMPOSE_FILE = path.join(PROJECT_ROOT, 'compose.yaml');

/**
 * True only with a reachable Docker engine and the compose plugin — the docker client alone (as on
 * machines without an engine) is not enough; then the native path starts the services instead.
 */
export async function dockerComposeAvailable(): Promise<boolean> {
  if (!(await commandExists('docker'))) return false;
  if ((await runCommand('docker', ['info'], { timeoutMs: 10_000 })).code !== 0) return false;
  return (await runCommand('docker', ['compose', 'version'], { timeoutMs: 10_000 })).code === 0;
}

/**
 * `docker compose up -d --wait` for the named services (compose.yaml uses the native path's ports,
 * so only services that do not already answer are started — a machine's own postgres keeps 5432).
 */
export async function composeUp({ config, say }: ServiceContext, services: readonly string[]): Promise<void> {
  say(`docker: engine found — docker compose up -d --wait ${services.join(' ')}`);
  const up = await runCommand('docker', ['compose', '-f', COMPOSE_FILE, 'up', '-d', '--wait', ...services], { timeoutMs: 600_000 });
  if (up.code !== 0) throw new ServiceStartError('docker compose', up.output.trim().slice(-1500), 'docker compose -f compose.yaml logs');
  await markStarted(config, 'compose');
}

export async function composeDown({ config, say }: ServiceContext): Promise<void> {
  if (!(await wasStartedByProject(config, 'compose'))) return;
  // Without -v: the named volumes (data) survive, like $DATA_DIR does on the native path.
  const down = await runCommand('docker', ['compose', '-f', COMPOSE_FILE, 'down'], { timeoutMs: 120_000 });
  say(`docker compose down: ${down.code === 0 ? 'done' : down.output.trim()}`);
  await clearStarted(config, 'compose');
}
