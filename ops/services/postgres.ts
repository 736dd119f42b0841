import { readdir } from 'node:fs/promises';
import { ensureDatabase } from '../../db/adapters/pg-database.ts';
import { probePostgres } from '../service-health.ts';
import { commandExists, runCommand } from './command.ts';
import { clearStarted, type EnsureResult, LOCAL_HOSTS, markStarted, type ServiceContext, wasStartedByProject } from './context.ts';
import { ServiceStartError, waitUntil } from './wait.ts';

const SERVICE = 'postgres';

/** DATABASE_URL with its database swapped for `postgres`, which always exists. */
function maintenanceUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
}

function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  return name === '' ? 'postgres' : name;
}

async function clusterVersion(): Promise<string | undefined> {
  const versions = await readdir('/etc/postgresql').catch(() => [] as string[]);
  return versions.sort((a, b) => Number(b) - Number(a))[0];
}

export async function ensurePostgres({ config, say }: ServiceContext): Promise<EnsureResult> {
  const serverUrl = maintenanceUrl(config.DATABASE_URL);
  let outcome: EnsureResult['outcome'] = 'already running';
  const answers = await probePostgres(serverUrl).then(
    () => true,
    () => false,
  );
  if (!answers) {
    const host = new URL(config.DATABASE_URL).hostname;
    if (!LOCAL_HOSTS.has(host)) throw new ServiceStartError(SERVICE, `DATABASE_URL host ${host} does not answer and is not local`);
    let version = await clusterVersion();
    if (version === undefined) {
      if (!(await commandExists('apt-get')))
        throw new ServiceStartError(SERVICE, 'no PostgreSQL cluster in /etc/postgresql and no apt-get to install one');
      say('postgres: not installed — installing from Debian packages (apt-get install postgresql)');
      const install = await runCommand('sh', [
        '-c',
        'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql',
      ]);
      version = await clusterVersion();
      if (install.code !== 0 || version === undefined)
        throw new ServiceStartError(SERVICE, `apt-get install postgresql failed: ${install.output.slice(-500)}`);
    }
    const logFile = `/var/log/postgresql/postgresql-${version}-main.log`;
    say(`postgres: not answering — starting cluster ${version}/main`);
    const start = await runCommand('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
    // Exit 2 means "already running" (e.g. still starting up); anything else is a real failure.
    if (start.code !== 0 && start.code !== 2)
      throw new ServiceStartError(SERVICE, `pg_ctlcluster start failed: ${start.output.trim()}`, logFile);
    if (start.code === 0) await markStarted(config, SERVICE);
    await waitUntil(SERVICE, () => probePostgres(serverUrl).then(() => true), { timeoutMs: 60_000, logFile });
    outcome = 'started';
  }
  const database = databaseName(config.DATABASE_URL);
  const created = await ensureDatabase(config.DATABASE_URL);
  return { service: SERVICE, outcome, detail: `database ${database}${created ? ' created' : ''}` };
}

/** Stops the cluster only when services:up started it (marker file); the machine's own stays up. */
export async function stopPostgres({ config, say }: ServiceContext): Promise<void> {
  if (!(await wasStartedByProject(config, SERVICE))) return;
  const version = await clusterVersion();
  if (version !== undefined) {
    const stop = await runCommand('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'stop']);
    say(`postgres: ${stop.code === 0 ? 'stopped (services:up had started it)' : `stop failed: ${stop.output.trim()}`}`);
  }
  await clearStarted(config, SERVICE);
}
