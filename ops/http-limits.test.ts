import { createServer, type ServerResponse } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import {
  admitRequests,
  clientOf,
  configureHttpServer,
  HTTP_LIMITS,
  type HttpServerSettings,
  type RequestAdmission,
} from './http-limits.ts';

/** A server that holds every admitted request until release() answers them all. */
async function holdingServer(limits: { perConnection: number; total: number; maxConnections: number }) {
  const held: ServerResponse[] = [];
  const admission: { current?: RequestAdmission } = {};
  const server = createServer((incoming, outgoing) => {
    if (!admission.current!.admit(incoming, outgoing)) return;
    incoming.resume();
    held.push(outgoing);
  });
  admission.current = admitRequests(server, limits);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    server,
    port,
    held,
    admission: admission.current,
    release: () => {
      for (const response of held.splice(0)) response.end('ok');
    },
  };
}

interface Client {
  readonly write: (text: string) => void;
  readonly received: () => string;
  readonly gone: Promise<void>;
}

function connect(port: number, localAddress?: string): Promise<Client> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('error', () => {});
    const gone = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve({ write: (data) => socket.write(data), received: () => text, gone }));
  });
}

const until = async (condition: () => boolean, what: string) => {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

let servers: Array<{ server: ReturnType<typeof createServer> }> = [];
afterEach(async () => {
  for (const { server } of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  servers = [];
});

describe('admitRequests', () => {
  it('closes a connection that pipelines more unanswered requests than allowed, and counts them out', async () => {
    const s = await holdingServer({ perConnection: 3, total: 100, maxConnections: 10 });
    servers.push(s);
    const pipeliner = await connect(s.port);
    pipeliner.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3));
    await until(() => s.held.length === 3, 'three held requests');
    expect(s.admission.pending()).toBe(3);
    pipeliner.write('GET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    await pipeliner.gone; // the fourth unanswered request closes the connection
    await until(() => s.admission.pending() === 0, 'the closed connection counted out');
    // a well-behaved client is unaffected
    const polite = await connect(s.port);
    polite.write('GET /c HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => s.held.length === 4, 'the polite request');
    s.release();
    await until(() => polite.received().includes('200 OK'), 'an answer');
    await until(() => s.admission.pending() === 0, 'answers counted out');
  });

  it('answers 503 OVERLOADED (Retry-After) beyond the total to a connection with nothing pending', async () => {
    const s = await holdingServer({ perConnection: 10, total: 2, maxConnections: 10 });
    servers.push(s);
    const first = await connect(s.port);
    const second = await connect(s.port);
    first.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    second.write('GET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => s.held.length === 2, 'two held requests');
    const third = await connect(s.port);
    third.write('GET /c HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => third.received().includes('\r\n\r\n{'), 'the refusal');
    expect(third.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(third.received()).toMatch(/Retry-After: 1/i);
    expect(JSON.parse(third.received().slice(third.received().indexOf('\r\n\r\n') + 4))).toMatchObject({ error: 'OVERLOADED' });
    // a pipelining connection over the total is closed instead (no in-order way to refuse)
    first.write('GET /d HTTP/1.1\r\nHost: x\r\n\r\n');
    await first.gone;
    s.release();
    await until(() => second.received().includes('200 OK'), 'the held answer');
    expect(s.held.length).toBe(0);
  });

  it('sets node:http maxConnections', async () => {
    const s = await holdingServer({ perConnection: 10, total: 100, maxConnections: 7 });
    servers.push(s);
    expect(s.server.maxConnections).toBe(7);
  });
});

/** A server configured by configureHttpServer that answers every request at once. */
async function configuredServer(overrides: Partial<HttpServerSettings>) {
  const registry = new Registry();
  const settings: HttpServerSettings = {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 65_000,
    maxConnectionsPerClient: 256,
    limits: HTTP_LIMITS,
    ...overrides,
  };
  const admission: { current?: RequestAdmission } = {};
  const server = createServer((incoming, outgoing) => {
    if (!admission.current!.admit(incoming, outgoing)) return;
    incoming.resume();
    incoming.on('end', () => outgoing.end('ok'));
  });
  const configured = configureHttpServer(server, settings, registry);
  admission.current = configured;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ server });
  const refusals = async () => Number(/^xtrader_http_connections_refused_total (\d+)/m.exec(await registry.metrics())?.[1] ?? 'NaN');
  const busiest = async () => Number(/^xtrader_http_connections_busiest_client (\d+)/m.exec(await registry.metrics())?.[1] ?? 'NaN');
  return { server, port: (server.address() as net.AddressInfo).port, configured, refusals, busiest };
}

describe('configureHttpServer', () => {
  it('refuses a client address its connection beyond the cap with 429 TOO_MANY_CONNECTIONS, counts it, and leaves other addresses alone', async () => {
    const s = await configuredServer({ maxConnectionsPerClient: 3 });
    const held = await Promise.all([connect(s.port), connect(s.port), connect(s.port)]);
    await until(() => s.configured.connectionsOf('127.0.0.1') === 3, 'three connections counted');
    const refused = await connect(s.port);
    await refused.gone;
    expect(refused.received()).toMatch(/^HTTP\/1\.1 429 /);
    expect(JSON.parse(refused.received().slice(refused.received().indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: 'TOO_MANY_CONNECTIONS',
    });
    expect(await s.refusals()).toBe(1);
    expect(await s.busiest()).toBe(3);
    // another loopback address has a cap of its own
    const other = await connect(s.port, '127.0.0.2');
    other.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => other.received().includes('200 OK'), 'an answer to the other address');
    // a held connection serves requests as usual; once one closes, the address may open another
    held[0]!.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => held[0]!.received().includes('200 OK'), 'an answer on a held connection');
    held[1]!.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await held[1]!.gone;
    await until(() => s.configured.connectionsOf('127.0.0.1') === 2, 'the closed connection counted out');
    const again = await connect(s.port);
    again.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => again.received().includes('200 OK'), 'a new connection within the cap');
    expect(await s.refusals()).toBe(1);
  });

  it('closes a request head that trickles in, or never comes, with 408 within the header timeout; idle keep-alive connections stay', async () => {
    const s = await configuredServer({ headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 });
    const started = performance.now();
    const closedAfter = async (client: Client) => {
      await client.gone;
      return performance.now() - started;
    };
    const trickling = await connect(s.port);
    trickling.write('GET / HTTP/1.1\r\n');
    const trickle = setInterval(() => trickling.write('X-Slow: 1\r\n'), 200);
    const silent = await connect(s.port);
    const slowBody = await connect(s.port);
    slowBody.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
    const drip = setInterval(() => slowBody.write('a'), 200);
    const idle = await connect(s.port);
    idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const [trickledMs, silentMs, slowBodyMs] = await Promise.all([closedAfter(trickling), closedAfter(silent), closedAfter(slowBody)]);
    clearInterval(trickle);
    clearInterval(drip);
    expect(trickling.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(silent.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(slowBody.received()).toMatch(/^HTTP\/1\.1 408 /);
    // closed once the timeout passed, at most one check period (500 ms) and some scheduling later
    expect(trickledMs).toBeGreaterThanOrEqual(950);
    expect(trickledMs).toBeLessThan(2_500);
    expect(silentMs).toBeLessThan(2_500);
    expect(slowBodyMs).toBeGreaterThanOrEqual(1_950); // the body had the request timeout
    expect(slowBodyMs).toBeLessThan(3_500);
    expect(idle.received()).toContain('200 OK');
    idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'); // still open after both timeouts
    await until(() => idle.received().split('200 OK').length === 3, 'a second answer on the idle connection');
  });

  it('must run before listen, and refuses a request timeout below the header timeout', async () => {
    const s = await configuredServer({});
    expect(() => configureHttpServer(s.server)).toThrow(/before it listens/);
    expect(() =>
      configureHttpServer(createServer(), {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 5_000,
        keepAliveTimeoutMs: 5_000,
        maxConnectionsPerClient: 0,
        limits: HTTP_LIMITS,
      }),
    ).toThrow(/HTTP_REQUEST_TIMEOUT_MS/);
  });

  it('counts a client by its IPv4 address (IPv4-mapped included) or its IPv6 /64', () => {
    expect(clientOf('127.0.0.1')).toBe('127.0.0.1');
    expect(clientOf('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(clientOf('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(clientOf('2001:0db8:0000:0001:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(clientOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientOf('::1')).toBe('0:0:0:0::/64');
    expect(clientOf(undefined)).toBe('');
  });
});
