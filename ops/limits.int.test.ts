/**
 * Outside-in, adversarial check of the running core's limits (docs/api.md "Validation", "Rate limits",
 * "Signing", configuration table; ARCHITECTURE.md "sequencer … Bounded"). A real core process
 * (ops/core-child.ts) is driven only over TCP/HTTP by clients written here (node:http, node:net,
 * node:crypto for the HMAC signatures):
 *
 * 1. queue full: SEQUENCER_MAX_PENDING 50 and a burst of concurrent signed orders over hundreds of
 *    connections → only 200 or 503 OVERLOADED, every answer within a bound, every 200 exists, no
 *    503'd order exists (journal seqs are order ids and gap-free), balances conserved;
 * 2. a flood (> 50,000 requests) of bad input of every kind → the documented 4xx word each time,
 *    state unchanged, RSS plateaus, /health still quick — also with thousands of idle connections;
 * 3. slow clients (a request head trickled byte by byte, a pipelining client that never reads) →
 *    other clients keep their normal latency, the server's memory stays bounded;
 * 4. kill -9 during a burst (SNAPSHOT_EVERY 100) → every acknowledged order exists after the
 *    restart, no 503'd order does, balances conserved.
 *
 * The first run found one failure of the standard, since fixed (ops/http-limits.ts): clients that
 * pipelined requests without reading the answers grew the core's heap by hundreds of MiB per
 * connection, with no bound on connections — 24 of them killed the core (out of memory).
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedHeaders } from '../api/signed-client.ts';
import type { TestUser as User } from '../api/test-client.ts';
import { readJournalRecords } from '../sequencer/index.ts';
import { TEST_ADMIN_TOKEN as ADMIN_TOKEN, TestCore } from './testing/test-core.ts';

const MAX_PENDING = 50;
/** Every request must be answered within this (no hang). */
const ANSWER_BOUND_MS = 20_000;

interface Answer {
  /** HTTP status; 0 = connection error, -1 = no answer within the bound */
  readonly status: number;
  readonly text: string;
  readonly ms: number;
  readonly error?: string;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** One HTTP/1.1 request on a keep-alive agent; never rejects. */
function send(
  agent: http.Agent,
  port: number,
  method: string,
  route: string,
  headers: Record<string, string>,
  body?: string | Buffer,
  boundMs = ANSWER_BOUND_MS,
): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const request = http.request({ host: '127.0.0.1', port, method, path: route, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        done({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString(), ms: performance.now() - started }),
      );
      response.on('error', (error) => done({ status: 0, text: '', ms: performance.now() - started, error: error.message }));
    });
    const timer = setTimeout(() => {
      done({ status: -1, text: '', ms: performance.now() - started, error: 'no answer within the bound' });
      request.destroy();
    }, boundMs);
    request.on('error', (error) => done({ status: 0, text: '', ms: performance.now() - started, error: error.message }));
    if (body !== undefined) request.end(body);
    else request.end();
  });
}

function parse(text: string): Json {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Runs `count` jobs on `workers` sequential loops (each loop keeps one connection busy). */
async function workers(count: number, concurrency: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

/**
 * A core (the shared harness, ops/testing/test-core.ts) with funded users, driven over this
 * file's own node:http transport: every answer is timed and bounded, and the agent is the test's.
 */
class Harness {
  #core: TestCore | undefined;
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  async start(env: Record<string, string>, userCount: number): Promise<void> {
    this.#core = await TestCore.start({ name: 'limits', env });
    await this.#core.client.createUsers('limits', userCount);
  }

  /** kill -9 (if it still runs) and start again on the same DATA_DIR and port */
  async restart(): Promise<void> {
    await this.core.restart();
  }

  get core(): TestCore {
    if (!this.#core) throw new Error('not started');
    return this.#core;
  }

  get users(): readonly User[] {
    return this.core.client.users;
  }

  get dataDir(): string {
    return this.core.dataDir;
  }

  get port(): number {
    return this.core.port;
  }

  signed(user: User, method: string, route: string, body?: unknown, agent: http.Agent = this.agent): Promise<Answer> {
    const text = body === undefined ? '' : JSON.stringify(body);
    return send(agent, this.port, method, route, signedHeaders(user, method, route, text), text === '' ? undefined : text);
  }

  state(): Promise<{ last_seq: number; state_hash: string; pending: number }> {
    return this.core.client.state();
  }

  /** the state once the core is quiet (no Tick still due) */
  settledState(): Promise<{ last_seq: number; state_hash: string; pending: number }> {
    return this.core.client.settledState();
  }

  async rssMiB(): Promise<number> {
    const text = (await send(this.agent, this.port, 'GET', '/metrics', {})).text;
    return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1]) / 2 ** 20;
  }

  /** every account's totals (fee account 0 included) = what was deposited */
  async expectConserved(): Promise<void> {
    const { expected, actual } = await this.core.client.conservation();
    expect(actual, 'every asset conserved').toEqual(expected);
  }

  /** Latencies (ms) of `count` sequential GETs on a fresh connection of their own. */
  async latencies(route: string, count: number): Promise<number[]> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const values: number[] = [];
    for (let index = 0; index < count; index++) {
      const answer = await send(agent, this.port, 'GET', route, {});
      expect(answer.status, `${route} during the attack`).toBe(200);
      values.push(answer.ms);
    }
    agent.destroy();
    return values;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await this.#core?.close();
  }
}

/** Opens a raw TCP connection to the core. */
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes `data` on a raw connection and collects what comes back until the server closes or `waitMs` passes. */
async function rawExchange(
  port: number,
  data: string | Buffer,
  waitMs: number,
  keepWriting?: (socket: net.Socket) => () => void,
): Promise<{ text: string; closed: boolean; ms: number }> {
  const socket = await connect(port);
  const started = performance.now();
  return new Promise((resolve) => {
    let text = '';
    let stopWriting = () => {};
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      stopWriting();
      socket.destroy();
      resolve({ text, closed, ms: performance.now() - started });
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
    const timer = setTimeout(() => finish(false), waitMs);
    socket.write(data);
    if (keepWriting) stopWriting = keepWriting(socket);
  });
}

const queueCore = new Harness();

beforeAll(async () => {
  await queueCore.start({ SEQUENCER_MAX_PENDING: String(MAX_PENDING) }, 4);
}, 120_000);

afterAll(async () => {
  await queueCore.close();
});

describe('sequencer queue full (SEQUENCER_MAX_PENDING 50)', () => {
  it('answers a burst of concurrent orders only with 200 or 503 OVERLOADED, keeps every 200 and nothing of a 503', async () => {
    const harness = queueCore;
    const before = await harness.state();
    const ORDERS = 3000;
    const CONNECTIONS = 400;
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    const bodies = Array.from({ length: ORDERS }, (_, index) => ({
      // bids far below any ask (there are no asks): every accepted order stays open, so the open
      // orders are exactly the accepted ones
      symbol: 'BTC-KRW',
      side: 'Buy',
      order_type: 'Limit',
      price: `${1000 + (index % 500)}000`,
      quantity: '0.01',
      client_order_id: `burst-${index}`,
    }));
    const started = performance.now();
    const answers = await Promise.all(
      bodies.map((body, index) => harness.signed(harness.users[index % harness.users.length]!, 'POST', '/v1/order', body, agent)),
    );
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();

    const byStatus = new Map<number, number>();
    for (const answer of answers) byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
    const okIndexes = answers.flatMap((answer, index) => (answer.status === 200 ? [index] : []));
    const refusedIndexes = answers.flatMap((answer, index) => (answer.status === 503 ? [index] : []));
    console.log(
      `queue-full burst: ${ORDERS} orders over ${CONNECTIONS} connections in ${seconds.toFixed(2)} s: ${JSON.stringify(Object.fromEntries(byStatus))}, ` +
        `latency p50 ${percentile(
          answers.map((a) => a.ms),
          50,
        ).toFixed(0)} ms, max ${percentile(
          answers.map((a) => a.ms),
          100,
        ).toFixed(0)} ms`,
    );
    const unexpected = answers.filter((answer) => answer.status !== 200 && answer.status !== 503);
    expect(unexpected.slice(0, 3), 'only 200 or 503, every request answered within the bound').toEqual([]);
    expect(refusedIndexes.length, 'the bound was reached').toBeGreaterThan(0);
    expect(okIndexes.length, 'and orders were still taken').toBeGreaterThan(0);
    for (const index of refusedIndexes) expect(parse(answers[index]!.text)).toMatchObject({ error: 'OVERLOADED' });
    const ids = new Set<string>();
    for (const index of okIndexes) {
      const ack = parse(answers[index]!.text);
      expect(ack).toMatchObject({ status: 'ACCEPTED', order_status: 'Pending' });
      expect(ack.duplicate).toBeUndefined();
      ids.add(ack.order_id);
    }
    expect(ids.size).toBe(okIndexes.length);

    // Order ids are gap-free journal seqs: exactly one seq per 200, none for a 503.
    const after = await harness.state();
    // (besides the core's own Ticks: resting orders move the best bid/ask, and a Ticker falls due a second later)
    const tickSeqs = new Set(
      readJournalRecords(harness.dataDir, before.last_seq + 1)
        .filter((record) => record.command.type === 'Tick')
        .map((record) => String(record.seq)),
    );
    expect(after.last_seq).toBe(before.last_seq + okIndexes.length + tickSeqs.size);
    expect(after.pending).toBe(0);
    const depthMetric = /^xtrader_sequencer_queue_depth (\d+)/m.exec(
      (await send(harness.agent, harness.port, 'GET', '/metrics', {})).text,
    )?.[1];
    console.log(
      `after the burst: /admin/state pending ${after.pending}, /metrics xtrader_sequencer_queue_depth ${depthMetric} (read when scraped)`,
    );
    for (let seq = before.last_seq + 1; seq <= after.last_seq; seq++)
      if (!tickSeqs.has(String(seq))) expect(ids.has(String(seq)), `seq ${seq} is an acknowledged order`).toBe(true);

    // Every 200 exists with what was sent.
    const checks = new Map<number, Answer>();
    await workers(okIndexes.length, 32, async (position) => {
      const index = okIndexes[position]!;
      checks.set(
        index,
        await harness.signed(harness.users[index % harness.users.length]!, 'GET', `/v1/order/${parse(answers[index]!.text).order_id}`),
      );
    });
    for (const index of okIndexes) {
      const check = checks.get(index)!;
      expect(check.status, `order of burst-${index}`).toBe(200);
      expect(parse(check.text)).toMatchObject({ client_order_id: `burst-${index}`, status: 'Pending', price: bodies[index]!.price });
    }
    // The open orders are exactly the acknowledged ones.
    const open = new Set<string>();
    for (const user of harness.users) {
      const listed = parse((await harness.signed(user, 'GET', '/v1/orders?symbol=BTC-KRW')).text) as {
        orders: Array<{ client_order_id: string }>;
      };
      for (const order of listed.orders) open.add(order.client_order_id);
    }
    expect(open.size).toBe(okIndexes.length);
    for (const index of refusedIndexes) expect(open.has(`burst-${index}`), `503'd burst-${index} must not exist`).toBe(false);
    await harness.expectConserved();

    // A 503 leaves nothing half-done in the client_order_id index: a retry is a new order, once.
    const retried = refusedIndexes.slice(0, 5);
    for (const index of retried) {
      const retry = await harness.signed(harness.users[index % harness.users.length]!, 'POST', '/v1/order', bodies[index]);
      expect(retry.status, retry.text).toBe(200);
      expect(parse(retry.text).duplicate, `retry of 503'd burst-${index} is placed now`).toBeUndefined();
    }
    // one journaled command per retry — besides the core's own Ticks (a Ticker falls due about a
    // second after the burst's trades; one landed among the retries in a fresh-clone run)
    const since = readJournalRecords(harness.dataDir, after.last_seq + 1).filter((record) => record.command.type !== 'Tick');
    expect(since.length).toBe(retried.length);
    expect((await harness.state()).last_seq).toBeGreaterThanOrEqual(after.last_seq + retried.length);
  }, 60_000);
});

describe('a flood of bad input', () => {
  it('answers > 50,000 bad requests with the documented 4xx word, changes no state, and memory plateaus', async () => {
    const harness = queueCore;
    const user = harness.users[0]!;
    const port = harness.port;
    const ROUNDS = 4;
    const PER_ROUND = 12_600;
    const CONNECTIONS = 64;
    // the previous test's orders may still have a Tick due (not bad input's doing)
    const before = await harness.settledState();
    const rss: number[] = [await harness.rssMiB()];
    const validOrder = JSON.stringify({ symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '1000000', quantity: '0.01' });
    const oversized = JSON.stringify({ symbol: 'BTC-KRW', pad: 'x'.repeat(16 * 1024) }).slice(0, 16 * 1024 + 1);
    expect(Buffer.byteLength(oversized)).toBe(16 * 1024 + 1);
    const pad = 'p'.repeat(15_000); // all headers together stay under node's 16 KiB limit
    let unknownKey = 0;
    // Every signed request differs from the others: two identical requests signed in the same
    // millisecond carry the same signature, and the second is (rightly) REPLAYED_SIGNATURE.
    let unique = 0;

    type Kind = {
      name: string;
      expect: [number, string];
      make: () => { method: string; route: string; headers: Record<string, string>; body?: string };
    };
    let replay: { headers: Record<string, string> } | undefined;
    const kinds: Kind[] = [
      {
        name: 'unknown API key (each one new)',
        expect: [401, 'INVALID_API_KEY'],
        make: () => ({
          method: 'GET',
          route: '/v1/balances',
          headers: { ...signedHeaders(user, 'GET', '/v1/balances'), 'X-API-KEY': `xk_unknown_${unknownKey++}` },
        }),
      },
      {
        name: 'bad signature',
        expect: [401, 'INVALID_SIGNATURE'],
        make: () => ({
          method: 'POST',
          route: '/v1/order',
          headers: { ...signedHeaders(user, 'POST', '/v1/order', validOrder), 'X-SIGNATURE': 'ab'.repeat(32) },
          body: validOrder,
        }),
      },
      {
        name: 'replayed signature',
        expect: [401, 'REPLAYED_SIGNATURE'],
        make: () => ({ method: 'GET', route: '/v1/balances', headers: replay!.headers }),
      },
      {
        name: 'malformed JSON (signed)',
        expect: [400, 'MALFORMED_JSON'],
        make: () => {
          const body = `{"symbol":"${unique++}`;
          return { method: 'POST', route: '/v1/order', headers: signedHeaders(user, 'POST', '/v1/order', body), body };
        },
      },
      {
        name: 'off-tick order (signed)',
        expect: [400, 'OFF_TICK'],
        make: () => {
          const body = JSON.stringify({ ...JSON.parse(validOrder), price: '1000500', client_order_id: `off-tick-${unique++}` });
          return { method: 'POST', route: '/v1/order', headers: signedHeaders(user, 'POST', '/v1/order', body), body };
        },
      },
      {
        name: 'body of 16 KiB + 1 (signed)',
        expect: [413, 'BODY_TOO_LARGE'],
        make: () => ({ method: 'POST', route: '/v1/order', headers: signedHeaders(user, 'POST', '/v1/order', oversized), body: oversized }),
      },
      {
        name: 'wrong content type (signed)',
        expect: [415, 'UNSUPPORTED_MEDIA_TYPE'],
        make: () => {
          const body = JSON.stringify({ ...JSON.parse(validOrder), client_order_id: `text-plain-${unique++}` });
          return {
            method: 'POST',
            route: '/v1/order',
            headers: { ...signedHeaders(user, 'POST', '/v1/order', body), 'Content-Type': 'text/plain' },
            body,
          };
        },
      },
      {
        name: 'stale timestamp',
        expect: [401, 'STALE_TIMESTAMP'],
        make: () => ({
          method: 'POST',
          route: '/v1/order',
          headers: signedHeaders(user, 'POST', '/v1/order', validOrder, Date.now() - 120_000),
          body: validOrder,
        }),
      },
      {
        name: 'headers near node’s 16 KiB limit, bad signature',
        expect: [401, 'INVALID_SIGNATURE'],
        make: () => ({
          method: 'GET',
          route: '/v1/balances',
          headers: { ...signedHeaders(user, 'GET', '/v1/balances'), 'X-SIGNATURE': 'cd'.repeat(32), 'X-Pad': pad },
        }),
      },
      {
        name: 'admin deposit with a wrong token',
        expect: [401, 'ADMIN_UNAUTHORIZED'],
        make: () => ({
          method: 'POST',
          route: '/admin/deposits',
          headers: { Authorization: 'Bearer not-the-admin-token-000000', 'Content-Type': 'application/json' },
          body: JSON.stringify({ user_id: Number(user.userId), asset: 'KRW', amount: '1000' }),
        }),
      },
      {
        name: 'no credentials',
        expect: [401, 'MISSING_CREDENTIALS'],
        make: () => ({ method: 'POST', route: '/v1/order', headers: { 'Content-Type': 'application/json' }, body: validOrder }),
      },
      {
        name: 'cancel of a malformed id (signed)',
        expect: [400, 'INVALID_ORDER_ID'],
        make: () => {
          const route = `/v1/order/abc${unique++}`;
          return { method: 'DELETE', route, headers: signedHeaders(user, 'DELETE', route) };
        },
      },
      {
        name: 'cancel of an unknown order (signed)',
        expect: [404, 'ORDER_NOT_FOUND'],
        make: () => {
          const route = `/v1/order/${900_000_000 + unique++}`;
          return { method: 'DELETE', route, headers: signedHeaders(user, 'DELETE', route) };
        },
      },
      {
        name: 'deposit to an unknown user (admin)',
        expect: [400, 'UNKNOWN_USER'],
        make: () => ({
          method: 'POST',
          route: '/admin/deposits',
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ user_id: 999999999, asset: 'KRW', amount: '1000' }),
        }),
      },
    ];

    const mismatches: string[] = [];
    const counts: Record<string, number> = {};
    const latencies: number[] = [];
    let total = 0;
    // the same probes before the flood: afterwards they are judged against these, not absolute ms
    const healthBefore = await harness.latencies('/health', 20);
    const marketsBefore = await harness.latencies('/v1/markets', 20);
    const started = performance.now();
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    for (let round = 0; round < ROUNDS; round++) {
      // A fresh signature each round (the window is 60 s); its first use is the only one served.
      const replayHeaders = signedHeaders(user, 'GET', '/v1/balances');
      expect((await send(agent, port, 'GET', '/v1/balances', replayHeaders)).status).toBe(200);
      replay = { headers: replayHeaders };
      await workers(PER_ROUND, CONNECTIONS, async (index) => {
        const kind = kinds[index % kinds.length]!;
        const request = kind.make();
        const answer = await send(agent, port, request.method, request.route, request.headers, request.body);
        total++;
        latencies.push(answer.ms);
        const word = parse(answer.text)?.error;
        counts[kind.name] = (counts[kind.name] ?? 0) + 1;
        if (answer.status !== kind.expect[0] || word !== kind.expect[1]) {
          if (mismatches.length < 20) mismatches.push(`${kind.name}: ${answer.status} ${answer.text.slice(0, 120)} ${answer.error ?? ''}`);
        }
      });
      rss.push(await harness.rssMiB());
    }
    agent.destroy();
    const floodSeconds = (performance.now() - started) / 1000;

    // Transport-level abuse on raw connections: headers over node's limit, a huge Content-Length
    // whose body only trickles in, garbage instead of a request line.
    const raw: Record<string, string[]> = { overLimitHeaders: [], hugeContentLength: [], garbage: [] };
    await workers(300, 30, async (index) => {
      const headers = signedHeaders(user, 'POST', '/v1/order', validOrder);
      const headerLines = Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      if (index % 3 === 0) {
        const answer = await rawExchange(
          port,
          `GET /v1/balances HTTP/1.1\r\nHost: x\r\n${headerLines}X-Pad: ${'q'.repeat(17_000)}\r\n\r\n`,
          5_000,
        );
        raw.overLimitHeaders!.push(answer.text.split('\r\n')[0]!);
      } else if (index % 3 === 1) {
        const answer = await rawExchange(
          port,
          `POST /v1/order HTTP/1.1\r\nHost: x\r\n${headerLines}Content-Length: 10000000000\r\n\r\n{`,
          5_000,
          (socket) => {
            const trickle = setInterval(() => socket.write(' '), 20);
            return () => clearInterval(trickle);
          },
        );
        const body = parse(answer.text.slice(answer.text.indexOf('\r\n\r\n') + 4));
        raw.hugeContentLength!.push(`${answer.text.split('\r\n')[0]} ${body?.error} ${answer.ms < 2_000 ? 'prompt' : 'slow'}`);
      } else {
        const answer = await rawExchange(port, '\u0000\u0001 GARBAGE /v1/order HTTP/9.9\r\n\r\n', 5_000);
        raw.garbage!.push(answer.text.split('\r\n')[0]!);
      }
    });
    const distinct = (values: readonly string[]) => [...new Set(values)];
    console.log(
      `raw transport abuse: ${JSON.stringify(Object.fromEntries(Object.entries(raw).map(([name, values]) => [name, distinct(values)])))}`,
    );
    expect(distinct(raw.overLimitHeaders!)).toEqual(['HTTP/1.1 431 Request Header Fields Too Large']);
    expect(distinct(raw.hugeContentLength!)).toEqual(['HTTP/1.1 413 Payload Too Large BODY_TOO_LARGE prompt']);
    expect(distinct(raw.garbage!)).toEqual(['HTTP/1.1 400 Bad Request']);

    // Thousands of idle keep-alive connections (each has served one request, then sits idle).
    const IDLE = 3000;
    const idle = await Promise.all(Array.from({ length: IDLE }, () => connect(port)));
    for (const socket of idle) {
      socket.on('error', () => {});
      socket.resume();
      socket.write('GET /v1/markets HTTP/1.1\r\nHost: x\r\n\r\n');
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const rssIdle = await harness.rssMiB();
    const health = await harness.latencies('/health', 20);
    const markets = await harness.latencies('/v1/markets', 20);
    for (const socket of idle) socket.destroy();
    const after = await harness.state();

    console.log(
      `bad-input flood: ${total} requests over ${CONNECTIONS} connections in ${floodSeconds.toFixed(1)} s (${Math.round(total / floodSeconds)}/s), ` +
        `${kinds.length} kinds, latency p50 ${percentile(latencies, 50).toFixed(1)} ms p99 ${percentile(latencies, 99).toFixed(1)} ms max ${percentile(latencies, 100).toFixed(0)} ms; ` +
        `+ 300 raw transport abuses; RSS MiB before/after each round ${rss.map((value) => value.toFixed(0)).join(' → ')}; with ${IDLE} idle connections ${rssIdle.toFixed(0)}; ` +
        `then /health p50 ${percentile(health, 50).toFixed(1)} ms max ${percentile(health, 100).toFixed(1)} ms, /v1/markets p50 ${percentile(markets, 50).toFixed(1)} ms max ${percentile(markets, 100).toFixed(1)} ms`,
    );
    expect(mismatches, 'every bad request gets its documented status and error word').toEqual([]);
    expect(total).toBeGreaterThanOrEqual(50_000);
    expect(after).toMatchObject({ last_seq: before.last_seq, state_hash: before.state_hash });
    // Plateau: after the first round (heap warm-up, young generation up to --max-semi-space-size=64)
    // the later rounds, four times as much traffic, add little.
    const growthAfterWarmup = Math.max(...rss.slice(2)) - rss[1]!;
    expect(growthAfterWarmup, `RSS growth over rounds 2–${ROUNDS} (MiB)`).toBeLessThan(96);
    expect(Math.max(...rss, rssIdle), 'RSS stays within a modest bound (MiB)').toBeLessThan(600);
    // back to normal: within 5× the same probe before the flood (floor 10 ms for timer noise)
    expect(percentile(health, 50), `/health p50 ms afterwards (before: ${percentile(healthBefore, 50).toFixed(1)})`).toBeLessThan(
      Math.max(10, 5 * percentile(healthBefore, 50)),
    );
    expect(percentile(markets, 50), `/v1/markets p50 ms afterwards (before: ${percentile(marketsBefore, 50).toFixed(1)})`).toBeLessThan(
      Math.max(10, 5 * percentile(marketsBefore, 50)),
    );
  }, 90_000);
});

/** Opens `count` connections that each pipeline `requests` GETs of `route` and never read an answer. */
async function pipeliners(port: number, count: number, requests: number, route: string): Promise<net.Socket[]> {
  const sockets = await Promise.all(Array.from({ length: count }, () => connect(port)));
  const request = `GET ${route} HTTP/1.1\r\nHost: x\r\n\r\n`;
  for (const socket of sockets) {
    socket.on('error', () => {});
    socket.pause();
    socket.write(request.repeat(requests));
  }
  return sockets;
}

describe('slow clients', () => {
  it('keeps serving others at normal latency while 300 trickle request heads and one pipelines without reading', async () => {
    const harness = queueCore;
    const port = harness.port;
    const baselineHealth = await harness.latencies('/health', 30);
    const baselineMarkets = await harness.latencies('/v1/markets', 30);
    const rssBefore = await harness.rssMiB();

    // 300 connections each sending a signed order's request head one byte every 100 ms.
    const user = harness.users[1]!;
    const body = JSON.stringify({ symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '1000000', quantity: '0.01' });
    const headers = signedHeaders(user, 'POST', '/v1/order', body);
    const head = `POST /v1/order HTTP/1.1\r\nHost: x\r\n${Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}Content-Length: ${body.length}\r\n`; // never finished: no blank line
    const SLOW = 300;
    const slow = await Promise.all(Array.from({ length: SLOW }, () => connect(port)));
    let slowAnswers = 0;
    for (const socket of slow) {
      socket.on('error', () => {});
      socket.on('data', () => slowAnswers++);
    }
    let position = 0;
    const trickle = setInterval(() => {
      const byte = head[position % head.length]!;
      for (const socket of slow) socket.write(byte);
      position++;
    }, 100);

    // One connection pipelining 20,000 requests for /v1/markets and never reading an answer.
    const PIPELINED = 20_000;
    const [pipeliner] = await pipeliners(port, 1, PIPELINED, '/v1/markets');

    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const attackHealth = await harness.latencies('/health', 30);
    const attackMarkets = await harness.latencies('/v1/markets', 30);
    const order = await harness.signed(harness.users[2]!, 'POST', '/v1/order', {
      symbol: 'BTC-KRW',
      side: 'Buy',
      order_type: 'Limit',
      price: '1000000',
      quantity: '0.01',
    });
    const rssDuring = await harness.rssMiB();
    clearInterval(trickle);
    pipeliner!.destroy();
    for (const socket of slow) socket.destroy();
    console.log(
      `slow clients: ${SLOW} connections trickling a request head (1 byte/100 ms, ${position} bytes each) + 1 connection pipelining ${PIPELINED} GET /v1/markets unread; ` +
        `/health p50/max baseline ${percentile(baselineHealth, 50).toFixed(1)}/${percentile(baselineHealth, 100).toFixed(1)} ms, during ${percentile(attackHealth, 50).toFixed(1)}/${percentile(attackHealth, 100).toFixed(1)} ms; ` +
        `/v1/markets baseline ${percentile(baselineMarkets, 50).toFixed(1)}/${percentile(baselineMarkets, 100).toFixed(1)} ms, during ${percentile(attackMarkets, 50).toFixed(1)}/${percentile(attackMarkets, 100).toFixed(1)} ms; ` +
        `a signed order ${order.ms.toFixed(1)} ms; RSS ${rssBefore.toFixed(0)} → ${rssDuring.toFixed(0)} MiB`,
    );
    expect(order.status, order.text).toBe(200);
    expect(slowAnswers, 'an unfinished head is not answered').toBe(0);
    expect(percentile(attackMarkets, 50), '/v1/markets p50 ms during the attack').toBeLessThan(
      Math.max(20, 5 * percentile(baselineMarkets, 50)),
    );
    expect(percentile(attackMarkets, 100), '/v1/markets max ms during the attack').toBeLessThan(500);
    expect(percentile(attackHealth, 50), '/health p50 ms during the attack').toBeLessThan(Math.max(50, 5 * percentile(baselineHealth, 50)));
    expect(percentile(attackHealth, 100), '/health max ms during the attack').toBeLessThan(1_000);
  }, 60_000);

  /**
   * FAILED THE STANDARD until ops/http-limits.ts ("Bounded everything … never unbounded memory";
   * "never … a crash"). node:http stops reading a connection whose answers are not being read only after it has
   * already parsed and answered a large batch of its pipelined requests, and all those answers sit
   * in the core's heap (measured: one connection pipelining GET /openapi.json, 31.9 KB answers,
   * unread → +300–480 MiB of heap, plateauing there). The bound is per connection and the number
   * of connections is not bounded, so a few unauthenticated clients exhaust the heap:
   *
   *   24 connections, each writing `GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n` × 100,000
   *   (3.7 MiB) at once and never reading → the core's heap passes 4 GB in ~13 s and the process
   *   dies with SIGABRT "FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed
   *   - JavaScript heap out of memory" (every open request lost; the supervisor must restart it).
   *
   * Any public route with a large answer works (/openapi.json, /docs, /v1/trades?limit=1000,
   * /v1/orderbook?depth=500). This check is the small form: 3 such connections on a fresh core
   * must not add more than 128 MiB of RSS (measured before the fix: +700–1,100 MiB; after: +33 MiB;
   * the 24-connection form after: 116 → 240 MiB, flat, core alive).
   */
  it('does not let clients that pipeline without reading grow the heap without bound (3 connections × 100,000 GET /openapi.json)', async () => {
    const harness = new Harness();
    try {
      await harness.start({}, 0);
      const before = await harness.rssMiB();
      const sockets = await pipeliners(harness.port, 3, 100_000, '/openapi.json');
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const during = await harness.rssMiB();
      for (const socket of sockets) socket.destroy();
      console.log(`pipelining without reading (3 × 100,000 GET /openapi.json): RSS ${before.toFixed(0)} → ${during.toFixed(0)} MiB`);
      expect(during - before, 'RSS growth (MiB)').toBeLessThan(128);
    } finally {
      await harness.close();
    }
  }, 60_000);
});

describe('kill -9 during a burst (SNAPSHOT_EVERY 100)', () => {
  const crashCore = new Harness();
  const CRASH_ENV = { SNAPSHOT_EVERY: '100', SEQUENCER_MAX_PENDING: '100' };

  afterAll(async () => {
    await crashCore.close();
  });

  it('keeps every acknowledged order, none that was refused, and every asset', async () => {
    await crashCore.start(CRASH_ENV, 4);
    const port = crashCore.port;
    const base = await crashCore.state();
    const CONNECTIONS = 200;
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    const acked = new Map<string, { user: User; body: Record<string, string>; orderId: string }>();
    const refused = new Set<string>();
    const unknown = new Set<string>();
    const wrong: string[] = [];
    let stopped = false;
    let sequence = 0;
    const started = performance.now();
    const clients = Array.from({ length: CONNECTIONS }, async (_, client) => {
      const user = crashCore.users[client % crashCore.users.length]!;
      while (!stopped) {
        const index = sequence++;
        const side = index % 2 === 0 ? 'Buy' : 'Sell';
        const cid = `crash-${index}`;
        const body: Record<string, string> =
          index % 10 === 0
            ? { symbol: 'BTC-KRW', side, order_type: 'Market', quantity: '0.01', client_order_id: cid }
            : {
                symbol: 'BTC-KRW',
                side,
                order_type: 'Limit',
                price: `${50_000 + (index % 21) - 10}000`,
                quantity: `0.0${1 + (index % 9)}`,
                client_order_id: cid,
              };
        const answer = await crashCore.signed(user, 'POST', '/v1/order', body, agent);
        if (answer.status === 200) acked.set(cid, { user, body, orderId: parse(answer.text).order_id });
        else if (answer.status === 503 && parse(answer.text)?.error === 'OVERLOADED') refused.add(cid);
        else if (answer.status === 0) {
          unknown.add(cid); // killed mid-request: outcome unknown, allowed either way
          return;
        } else wrong.push(`${cid}: ${answer.status} ${answer.text.slice(0, 120)}`);
      }
    });
    // Kill once enough is acknowledged that several snapshots were due.
    while (acked.size < 1_500 && performance.now() - started < 15_000) await new Promise((resolve) => setTimeout(resolve, 20));
    const snapshotsBefore = Number(
      /^xtrader_snapshots_total (\d+)/m.exec((await send(new http.Agent(), port, 'GET', '/metrics', {})).text)?.[1],
    );
    await crashCore.core.kill9();
    const burstSeconds = (performance.now() - started) / 1000;
    stopped = true;
    await Promise.all(clients);
    agent.destroy();
    crashCore.agent.destroy();

    await crashCore.restart();
    const ready = parse((await send(new http.Agent(), port, 'GET', '/ready', {})).text);
    const after = await crashCore.state();
    console.log(
      `kill -9 burst: ${CONNECTIONS} connections, ${sequence} orders sent in ${burstSeconds.toFixed(1)} s: ${acked.size} acknowledged, ${refused.size} 503 OVERLOADED, ` +
        `${unknown.size} cut by the kill, ${wrong.length} other; ${snapshotsBefore} snapshots before the kill; recovery ${JSON.stringify(ready.recovery)}; last_seq ${base.last_seq} → ${after.last_seq}`,
    );
    expect(wrong, 'only 200 or 503 OVERLOADED before the kill').toEqual([]);
    expect(acked.size).toBeGreaterThan(0);
    expect(ready.recovery.snapshotSeq, 'recovery started from a snapshot').toBeGreaterThan(base.last_seq);

    // Every acknowledged order exists with what was sent.
    const entries = [...acked.values()];
    const found = new Map<string, Answer>();
    await workers(entries.length, 32, async (position) => {
      const entry = entries[position]!;
      found.set(entry.orderId, await crashCore.signed(entry.user, 'GET', `/v1/order/${entry.orderId}`));
    });
    for (const entry of entries) {
      const answer = found.get(entry.orderId)!;
      expect(answer.status, `acknowledged order ${entry.orderId} (${entry.body.client_order_id}) survives kill -9`).toBe(200);
      expect(parse(answer.text)).toMatchObject({
        order_id: entry.orderId,
        client_order_id: entry.body.client_order_id,
        side: entry.body.side,
        order_type: entry.body.order_type,
      });
    }
    // Seqs are order ids, gap-free: every seq that is not an acknowledged order must be one whose
    // answer the kill cut off — never a 503'd one.
    const ackedIds = new Set(entries.map((entry) => entry.orderId));
    // a quiet core journals a Tick about a second after the last ticker change (engine Tickers): those seqs are no orders
    const ticks = new Set(
      readJournalRecords(crashCore.dataDir, base.last_seq + 1)
        .filter((record) => record.command.type === 'Tick')
        .map((record) => String(record.seq)),
    );
    const others: string[] = [];
    for (let seq = base.last_seq + 1; seq <= after.last_seq; seq++)
      if (!ackedIds.has(String(seq)) && !ticks.has(String(seq))) others.push(String(seq));
    expect(others.length, 'unacknowledged seqs are at most the requests in flight at the kill').toBeLessThanOrEqual(unknown.size);
    for (const seq of others) {
      let owner: Json;
      for (const user of crashCore.users) {
        const answer = await crashCore.signed(user, 'GET', `/v1/order/${seq}`);
        if (answer.status === 200) owner = parse(answer.text);
      }
      expect(owner, `seq ${seq} is an order`).toBeDefined();
      expect(refused.has(owner.client_order_id), `seq ${seq} (${owner.client_order_id}) was answered 503`).toBe(false);
      expect(unknown.has(owner.client_order_id), `seq ${seq} (${owner.client_order_id}) was in flight at the kill`).toBe(true);
    }
    await crashCore.expectConserved();
  }, 60_000);
});
