import { createServer, type ServerResponse } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { admitRequests, type RequestAdmission } from './http-limits.ts';

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

function connect(port: number): Promise<Client> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
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
