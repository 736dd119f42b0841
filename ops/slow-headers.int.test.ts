/**
 * Issue 22's slow-header lockout, tested as an attacker would, through real sockets against a real
 * core process on its default HTTP settings (header timeout 10 s, per-client cap 256): one address
 * (127.0.0.2) keeps 400 connection slots busy, each sending a request line and then one header line
 * every 3 s, and reopens a slot half a second after the core closes it; meanwhile a normal client
 * (127.0.0.1) keeps placing orders one after another as before the attack. Expected: the attacker
 * holds at most 256 connections, the rest are answered 429 TOO_MANY_CONNECTIONS (and counted in
 * /metrics), every held one is closed with 408 within the header timeout (plus the 500 ms check
 * period), and the normal client's acks keep their latency.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedHeaders } from '../api/signed-client.ts';
import type { TestUser } from '../api/test-client.ts';
import { TestCore } from './testing/test-core.ts';

const ATTACKER = '127.0.0.2';
const SLOTS = 400;
const DEFAULT_CAP = 256;
const HEADER_TIMEOUT_MS = 10_000;
const LINE_EVERY_MS = 3_000;
const REOPEN_AFTER_MS = 500;
const ATTACK_MS = 14_000;
const BASELINE_MS = 5_000;
/** bounds the attack however fast the core refuses */
const MAX_ATTEMPTS = 5_000;

let core: TestCore;
let users: readonly TestUser[];

beforeAll(async () => {
  // '' = unset: the documented defaults (the harness raises the per-client cap for other tests)
  core = await TestCore.start({
    name: 'slow-headers',
    env: { HTTP_MAX_CONNECTIONS_PER_CLIENT: '', HTTP_HEADERS_TIMEOUT_MS: '', HTTP_REQUEST_TIMEOUT_MS: '' },
  });
  // four users: the orders of the run stay below the 1,000 open orders per user and market
  users = await core.client.createUsers('slow-headers', 4);
}, 120_000);

afterAll(async () => {
  await core?.close();
});

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

/** The normal client: signed orders one after another on one keep-alive connection; ack latencies in ms. */
class OrderClient {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  readonly statuses = new Map<number, number>();
  #sequence = 0;

  async place(): Promise<number> {
    const index = this.#sequence++;
    const user = users[index % users.length]!;
    // distinct bodies: the same body signed in the same millisecond would be one request
    const body = JSON.stringify({
      symbol: 'BTC-KRW',
      side: 'Buy',
      order_type: 'Limit',
      price: `${1000 + (index % 100)}000`,
      quantity: '0.01',
      client_order_id: `slow-${index}`,
    });
    const started = performance.now();
    const status = await new Promise<number>((resolve) => {
      const request = http.request(
        {
          host: '127.0.0.1',
          port: core.port,
          method: 'POST',
          path: '/v1/order',
          agent: this.agent,
          headers: signedHeaders(user, 'POST', '/v1/order', body),
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      request.setTimeout(20_000, () => request.destroy());
      request.on('error', () => resolve(0));
      request.end(body);
    });
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    return performance.now() - started;
  }

  /** orders until `ms` passed; latencies */
  async run(ms: number): Promise<number[]> {
    const latencies: number[] = [];
    const until = performance.now() + ms;
    while (performance.now() < until) {
      latencies.push(await this.place());
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return latencies;
  }
}

interface SlowConnection {
  readonly openedAt: number;
  closedAt?: number;
  firstLine?: string;
}

/** The attacker: SLOTS slots, each a slow connection reopened after it is closed, until stop(). */
class SlowAttacker {
  readonly connections: SlowConnection[] = [];
  #stopped = false;
  readonly #sockets = new Set<net.Socket>();

  start(): void {
    for (let slot = 0; slot < SLOTS; slot++) this.#openSlot();
  }

  #openSlot(): void {
    if (this.#stopped || this.connections.length >= MAX_ATTEMPTS) return;
    const record: SlowConnection = { openedAt: performance.now() };
    this.connections.push(record);
    const socket = net.connect({ host: '127.0.0.1', port: core.port, localAddress: ATTACKER });
    this.#sockets.add(socket);
    let text = '';
    let line: ReturnType<typeof setInterval> | undefined;
    socket.on('connect', () => {
      socket.write('POST /v1/order HTTP/1.1\r\nHost: x\r\n');
      let header = 0;
      line = setInterval(() => socket.write(`X-Slow-${header++}: ${'a'.repeat(20)}\r\n`), LINE_EVERY_MS);
    });
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      record.firstLine ??= text.includes('\r\n') ? text.slice(0, text.indexOf('\r\n')) : undefined;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(line);
      this.#sockets.delete(socket);
      record.closedAt = performance.now();
      record.firstLine ??= text.split('\r\n')[0] || '(closed without an answer)';
      setTimeout(() => this.#openSlot(), REOPEN_AFTER_MS);
    });
  }

  stop(): void {
    this.#stopped = true;
    for (const socket of this.#sockets) socket.destroy();
  }
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${core.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 'NaN');
}

describe('slow request heads from one address', () => {
  it('are capped per address and closed within the header timeout, while a normal client keeps its ack latency', async () => {
    const client = new OrderClient();
    await client.run(500); // warm-up
    const baseline = await client.run(BASELINE_MS);

    const attacker = new SlowAttacker();
    const attackStarted = performance.now();
    attacker.start();
    // what the core holds for its busiest client (the attacker), read from /metrics twice a second
    const heldSamples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        heldSamples.push(await metric('xtrader_http_connections_busiest_client'));
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    const during = await client.run(ATTACK_MS);
    sampling = false;
    await sampler;
    attacker.stop();
    const attackSeconds = (performance.now() - attackStarted) / 1000;

    const closed = attacker.connections.filter((record) => record.closedAt !== undefined);
    const timedOut = closed.filter((record) => /^HTTP\/1\.1 408 /.test(record.firstLine ?? ''));
    const refused = attacker.connections.filter((record) => /^HTTP\/1\.1 429 /.test(record.firstLine ?? ''));
    // refused by the core but cut (RST, or stop()) before its 429 was read
    const unanswered = attacker.connections.filter(
      (record) => record.firstLine === '(closed without an answer)' || record.closedAt === undefined,
    );
    const heldFor = timedOut.map((record) => record.closedAt! - record.openedAt);
    const counted = await metric('xtrader_http_connections_refused_total');
    const report = {
      attempts: attacker.connections.length,
      attackSeconds: Number(attackSeconds.toFixed(1)),
      peakHeld: Math.max(...heldSamples),
      closed408: timedOut.length,
      refused429: refused.length,
      refusalsInMetrics: counted,
      unanswered: unanswered.length,
      heldUntil408MsMin: Math.round(Math.min(...heldFor)),
      heldUntil408MsMedian: Math.round(percentile(heldFor, 50)),
      heldUntil408MsMax: Math.round(Math.max(...heldFor)),
      ordersBefore: baseline.length,
      ackP50Before: Number(percentile(baseline, 50).toFixed(1)),
      ackP99Before: Number(percentile(baseline, 99).toFixed(1)),
      ordersDuring: during.length,
      ackP50During: Number(percentile(during, 50).toFixed(1)),
      ackP99During: Number(percentile(during, 99).toFixed(1)),
      ackMaxDuring: Number(percentile(during, 100).toFixed(1)),
      statuses: Object.fromEntries(client.statuses),
    };
    console.log(`slow request heads: ${JSON.stringify(report)}`);
    client.agent.destroy();

    expect([...client.statuses.keys()], 'every order of the normal client acknowledged').toEqual([200]);
    expect(report.peakHeld, 'connections the core held for the attacker at once').toBeLessThanOrEqual(DEFAULT_CAP);
    expect(report.peakHeld, 'the attacker did hold connections up to the cap').toBeGreaterThanOrEqual(DEFAULT_CAP - 10);
    expect(report.refused429, 'slots beyond the cap refused on arrival').toBeGreaterThanOrEqual(SLOTS - DEFAULT_CAP);
    expect(counted, 'refusals counted in /metrics').toBeGreaterThanOrEqual(report.refused429);
    expect(counted, 'refusals counted in /metrics').toBeLessThanOrEqual(report.refused429 + unanswered.length);
    expect(report.closed408, 'the first wave of held connections timed out').toBeGreaterThanOrEqual(DEFAULT_CAP - 10);
    // header timeout + the 500 ms check period + scheduling on a loaded machine
    expect(report.heldUntil408MsMax, 'longest a slow head was held (ms)').toBeLessThan(HEADER_TIMEOUT_MS + 1_500);
    expect(report.heldUntil408MsMin, 'no slow head closed before the timeout (ms)').toBeGreaterThanOrEqual(HEADER_TIMEOUT_MS - 100);
    // The lockout showed as refused or minutes-long requests; on a shared 2-core machine the p99 of a
    // few-ms ack still moves by tens of ms, so the bound is loose and the figures are in the log line.
    expect(report.ackP99During, 'normal client ack p99 during the attack (ms)').toBeLessThan(Math.max(250, 5 * report.ackP99Before));
  }, 120_000);
});
