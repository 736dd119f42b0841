import { probeRabbitmq } from '../service-health.ts';
import { commandExists, runCommand } from './command.ts';
import { clearStarted, type EnsureResult, LOCAL_HOSTS, markStarted, type ServiceContext, wasStartedByProject } from './context.ts';
import { ServiceStartError, waitUntil } from './wait.ts';

const SERVICE = 'rabbitmq';
// The node name (hence the file name) depends on the machine's rabbitmq-env.conf.
const LOG_FILE = '/var/log/rabbitmq/rabbit@*.log';

/** The machine's RabbitMQ (plain AMQP on 5672); started with `rabbitmq-server -detached` when stopped. */
export async function ensureRabbitmq({ config, say }: ServiceContext): Promise<EnsureResult> {
  if (await answers(config.AMQP_URL)) return { service: SERVICE, outcome: 'already running', detail: redact(config.AMQP_URL) };

  const host = new URL(config.AMQP_URL).hostname;
  if (!LOCAL_HOSTS.has(host)) throw new ServiceStartError(SERVICE, `AMQP_URL host ${host} does not answer and is not local`);
  if (!(await commandExists('rabbitmq-server'))) {
    if (!(await commandExists('apt-get'))) throw new ServiceStartError(SERVICE, 'rabbitmq-server is not installed and there is no apt-get');
    say('rabbitmq: not installed — installing from Debian packages (apt-get install rabbitmq-server)');
    const install = await runCommand('sh', [
      '-c',
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server',
    ]);
    if (install.code !== 0) throw new ServiceStartError(SERVICE, `apt-get install rabbitmq-server failed: ${install.output.slice(-500)}`);
  }
  // An Erlang node that is up but whose AMQP listener is not yet open answers `rabbitmqctl ping`;
  // starting a second one would fail, so only start when the node is down.
  const node = await runCommand('rabbitmqctl', ['ping'], { timeoutMs: 15_000 });
  if (node.code !== 0) {
    say('rabbitmq: not answering — starting it (rabbitmq-server -detached)');
    const start = await runCommand('rabbitmq-server', ['-detached']);
    if (start.code !== 0)
      throw new ServiceStartError(SERVICE, `rabbitmq-server -detached exited ${start.code}: ${start.output.trim()}`, LOG_FILE);
    await markStarted(config, SERVICE);
  }
  await waitUntil(SERVICE, () => answers(config.AMQP_URL), { timeoutMs: 90_000, intervalMs: 500, logFile: LOG_FILE });
  return { service: SERVICE, outcome: 'started', detail: redact(config.AMQP_URL) };
}

function answers(amqpUrl: string): Promise<boolean> {
  return probeRabbitmq(amqpUrl).then(
    () => true,
    () => false,
  );
}

function redact(amqpUrl: string): string {
  const url = new URL(amqpUrl);
  if (url.password) url.password = '***';
  return url.toString();
}

/** Stops RabbitMQ only when services:up started it (marker file); the machine's own stays up. */
export async function stopRabbitmq({ config, say }: ServiceContext): Promise<void> {
  if (!(await wasStartedByProject(config, SERVICE))) return;
  const stop = await runCommand('rabbitmqctl', ['stop'], { timeoutMs: 60_000 });
  say(`rabbitmq: ${stop.code === 0 ? 'stopped (services:up had started it)' : `stop failed: ${stop.output.trim()}`}`);
  await clearStarted(config, SERVICE);
}
