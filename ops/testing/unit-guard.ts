/**
 * Set-up of the unit tier (vitest.config.ts, project `unit`): the service addresses in the
 * environment point at a closed port, but a test can still reach a service through a default written
 * into the code (`loadConfig({})`, `?? 'redis://127.0.0.1:6380'`). Here a connection to one of the
 * services' or xtrader's own default ports fails at once, as a refused connection that names the
 * cause, so a unit test that quietly needs a running service fails in `npm run test:unit` instead
 * of passing only where the services happen to run. Child processes a test spawns are not covered.
 */
import net from 'node:net';

const GUARDED_PORTS = new Map<number, string>([
  [5432, 'PostgreSQL'],
  [6379, 'Redis (the machine’s)'],
  [6380, 'Redis'],
  [5672, 'RabbitMQ'],
  [9092, 'Kafka'],
  [7000, 'the API'],
  [7001, 'ws-server'],
  [7002, 'the second ws-server'],
  [7010, 'the persister'],
  [7011, 'the market-data service'],
]);

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '0.0.0.0', '::']);

/** host and port of a Socket#connect call in any of its forms (options, port[, host], net.connect's normalized array) */
function target(args: unknown[]): { host: string; port: number } | undefined {
  let first = args[0];
  if (Array.isArray(first)) first = first[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return { port: Number(first), host: typeof args[1] === 'string' ? args[1] : 'localhost' };
  }
  if (first !== null && typeof first === 'object' && 'port' in first) {
    const options = first as { port: unknown; host?: unknown };
    return { port: Number(options.port), host: typeof options.host === 'string' ? options.host : 'localhost' };
  }
  return undefined; // a Unix socket path
}

const connect = net.Socket.prototype.connect as (this: net.Socket, ...args: unknown[]) => net.Socket;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]): net.Socket {
  const to = target(args);
  const service = to && LOOPBACK.has(to.host) ? GUARDED_PORTS.get(to.port) : undefined;
  if (to && service !== undefined) {
    const error = Object.assign(
      new Error(
        `unit tier: connection to ${to.host}:${to.port} (${service}) refused — a test that needs a running service is an integration test: name it *.int.test.ts`,
      ),
      { code: 'ECONNREFUSED' },
    );
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return connect.apply(this, args);
} as typeof net.Socket.prototype.connect;
