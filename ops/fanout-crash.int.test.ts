/**
 * The fan-out under kill -9, with real processes and real brokers (ops/testing/stack.ts). Signed
 * clients stream crossing, resting and cancelling orders on BTC-KRW and ETH-KRW while
 *
 * - the core is killed with SIGKILL at 3–4 seeded-random moments and restarted on the same
 *   DATA_DIR (once with the last record of the newest event-log segment cut short on purpose: a
 *   torn tail), with small snapshot intervals so recovery starts from snapshots the log can follow;
 * - each publisher process is killed with SIGKILL mid-stream (mid-batch) and restarted, twice or more.
 *
 * Afterwards:
 * 1. the event log, read from seq 1, is record for record the events of an offline full replay of
 *    the journal into a fresh engine (seqs 1..N, no gap, no repeat), and the live stateHash equals
 *    the replay's;
 * 2. once every publisher's cursor reached the log's end, each broker's consumer, after dropping
 *    repeats by seq, holds exactly the envelopes the replay's events encode to for that broker (same
 *    seqs, same JSON), repeats are byte-identical to the first copy, and prev_seq chains per
 *    routing key (Kafka: topic + symbol; RabbitMQ: routing key; Redis: the stream).
 *
 * FANOUT_CRASH_SEED=<n> repeats a schedule (the moments are wall-clock, so the interleaving is not);
 * FANOUT_CRASH_COPY_TO=<dir> keeps a copy of the DATA_DIR (journal, snapshots, event log, cursors) for a look after a failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickOrderToCancel, randomOrder, statusUnlessKilled } from './testing/order-mix.ts';
import { testSeed } from './testing/seeds.ts';
import { DEFAULT_ENGINE_CONFIG, Engine, type EngineEvent } from '../engine/index.ts';
import { EnvelopeEncoder } from '../contract/envelope-encoder.ts';
import { envelopeSymbol, type Envelope } from '../contract/envelopes.ts';
import { routesOf } from '../contract/broker-routes.ts';
import { CursorStore } from '../mq/event-log/cursor-store.ts';
import { EventLogReader, type LogRecord } from '../mq/event-log/reader.ts';
import { checkRecord, checkSegmentHeader, listEventSegments, SEGMENT_HEADER_BYTES } from '../mq/event-log/segment-format.ts';
import { lastSeqOf } from '../mq/event-log/writer.ts';
import type { BrokerName } from '../mq/publisher.ts';
import { readJournalRecords, replayJournal } from '../sequencer/index.ts';
import { listSnapshots } from '../sequencer/snapshots.ts';
import { seededRandom as random } from '../sequencer/testing/command-mix.ts';
import { loadConfig } from './config.ts';
import { KafkaCollector, RabbitCollector, RedisStreamCollector } from './testing/broker-consumers.ts';
import { Stack, waitFor, type StackUser } from './testing/stack.ts';

const config = loadConfig();
const SEED = testSeed('FANOUT_CRASH_SEED', 21);
const USERS = 4;
const CLIENTS = 8;
const PUBLISHERS: readonly BrokerName[] = ['redis', 'kafka', 'rabbitmq'];
const SNAPSHOT_EVERY = 200;
const ENV = {
  // small, so recovery starts from a snapshot (one the log can follow) and replays the journal after it
  SNAPSHOT_EVERY: String(SNAPSHOT_EVERY),
  // …and every journal segment stays, so the whole journal can be replayed from seq 1 at the end
  JOURNAL_KEEP_ALL: 'true',
  // several event-log segments, so kills and publishers also meet segment boundaries
  EVENT_LOG_SEGMENT_BYTES: String(256 * 1024),
};

let stack: Stack;
let eventsDir: string;
let redis: RedisStreamCollector;
let kafka: KafkaCollector;
let rabbit: RabbitCollector;
const users: StackUser[] = [];
const started = Date.now();
const figures = {
  orders: 0,
  cancels: 0,
  /** answers 503 */
  overloaded: 0,
  coreKills: 0,
  publisherKills: [] as string[],
  /** what the torn tail cut */
  torn: '',
  commands: 0,
  events: 0,
  records: 0,
  segments: 0,
  /** recoveries that refused a snapshot because the log was behind it */
  snapshotsRefused: 0,
};
/** what every core process wrote (warnings and errors), the one running now last */
const coreOutputs: string[] = [];
/** the replay's events (set by the first test, used by the second) */
let replayed: EngineEvent[] | undefined;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A 503 (the services are shared with other test files: a slow key lookup, a full queue) is not this test's subject: back off, go on. */
async function overloaded(): Promise<void> {
  figures.overloaded++;
  await sleep(50);
}

/** Streams orders (and cancels of some of its own) until told to stop or the core goes away. */
async function client(index: number, round: number, stop: { stopped: boolean }): Promise<void> {
  const user = users[index % users.length]!;
  const next = random(SEED * 31 + index * 1009 + round);
  const mine: string[] = [];
  for (let sequence = 0; !stop.stopped; sequence++) {
    const orderId = pickOrderToCancel(next, mine);
    if (orderId !== undefined) {
      const status = await statusUnlessKilled(() => stack.signed(user, 'DELETE', `/v1/order/${orderId}`));
      if (status === undefined) return; // the core was killed mid-request
      if (status === 200) figures.cancels++;
      else if (status === 503) await overloaded();
      else expect(status, 'a cancel is refused only because the order already finished').toBe(400);
      continue;
    }
    // unique per client, round and sequence: a repeated id would be (rightly) answered as a retry
    const body = randomOrder(next, `f${index}-${SEED}-${round}-${sequence}`, 0.75);
    let status: number;
    let answer: { order_id?: string; duplicate?: boolean } = {};
    try {
      const response = await stack.signed(user, 'POST', '/v1/order', body);
      status = response.status;
      answer = (await response.json()) as typeof answer;
    } catch {
      return; // killed mid-request (or mid-answer): its outcome is unknown, and that is allowed
    }
    if (status === 503) {
      await overloaded();
      continue;
    }
    expect(status, `order ${JSON.stringify(body)}: ${JSON.stringify(answer)}`).toBe(200);
    expect(answer.duplicate).toBeUndefined();
    figures.orders++;
    mine.push(answer.order_id!);
  }
}

async function killPublisher(name: BrokerName, restartAfterMs: number): Promise<void> {
  const log = await stack.adminState().catch(() => undefined);
  await stack.publishers.get(name)!.kill9();
  const cursor = new CursorStore(eventsDir).load(name).seq;
  figures.publisherKills.push(`${name}@${cursor}/${log?.last_event_seq ?? '?'}`);
  await sleep(restartAfterMs);
  stack.startPublisher(name);
}

interface Tear {
  readonly file: string;
  readonly start: number;
  /** the bytes of the record (or header) cut short, as they were */
  readonly original: Buffer;
  readonly what: string;
}

/**
 * A torn tail on purpose: cuts 1..(size − 1) bytes off the last record of the newest segment (or,
 * should that segment hold no record yet, off its header).
 */
function cutTornTail(next: () => number): Tear {
  const newest = listEventSegments(eventsDir).at(-1);
  if (!newest) throw new Error('no event-log segment to tear');
  const bytes = fs.readFileSync(newest.file);
  let offset = SEGMENT_HEADER_BYTES;
  let last: { start: number; end: number; firstSeq: number; lastSeq: number } | undefined;
  for (;;) {
    const check = checkRecord(bytes, offset, bytes.length);
    if (check.kind !== 'record') break;
    last = { start: offset, end: check.end, firstSeq: check.firstSeq, lastSeq: check.lastSeq };
    offset = check.end;
  }
  expect(offset, `${newest.file} ends with whole records after a kill -9 (the page cache survives it)`).toBe(bytes.length);
  const start = last?.start ?? 0;
  const size = bytes.length - start;
  const cut = 1 + Math.floor(next() * (size - 1));
  fs.truncateSync(newest.file, bytes.length - cut);
  const what = `${cut} of ${size} bytes of ${last ? `record ${last.firstSeq}..${last.lastSeq}` : 'the header'} in ${path.basename(newest.file)}`;
  return { file: newest.file, start, original: Buffer.from(bytes.subarray(start)), what };
}

/**
 * With the clients stopped: deposits one at a time (a group commit each) until the newest snapshot
 * is of the last journaled command, so the torn record is one that snapshot already covers and
 * recovery must refuse it (the log is behind it). Returns that snapshot's seq, or undefined if the
 * snapshot schedule could not be met within the steps.
 */
async function stepToSnapshot(): Promise<number | undefined> {
  const dir = path.join(stack.dataDir, 'snapshots');
  const newest = () => listSnapshots(dir)[0]?.seq ?? 0;
  const recovered = ((await stack.ready()).recovery as { snapshotSeq: number } | null)?.snapshotSeq ?? 0;
  await sleep(300); // a snapshot still being written lands
  const deadline = Date.now() + 25_000;
  for (let step = 0; step < 3 * SNAPSHOT_EVERY && Date.now() < deadline; step++) {
    // the sequencer asks for the next one SNAPSHOT_EVERY commands after the last it asked for
    const predicted = Math.max(newest(), recovered) + SNAPSHOT_EVERY;
    const response = await stack.admin('POST', '/admin/deposits', {
      user_id: Number(users[step % users.length]!.userId),
      asset: 'KRW',
      amount: '1',
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const { last_seq: lastSeq } = await stack.adminState();
    if (lastSeq < predicted) continue;
    // the snapshot process writes it a moment after the command that asked for it
    const until = Date.now() + 1_000;
    while (newest() < lastSeq && Date.now() < until) await sleep(10);
    if (newest() === lastSeq) return lastSeq;
  }
  return undefined;
}

/** Waits until no command has been journaled for 2 s (the core's Tick for a pending Ticker comes ≤ 1.25 s after the last command). */
async function quiesce(): Promise<{ last_seq: number; last_event_seq: number; state_hash: string }> {
  let state = await stack.adminState();
  let since = Date.now();
  const deadline = Date.now() + 20_000;
  while (Date.now() - since < 2_000) {
    if (Date.now() > deadline) throw new Error('the core kept journaling commands');
    await sleep(200);
    const now = await stack.adminState();
    if (now.last_seq !== state.last_seq) since = Date.now();
    state = now;
  }
  return state;
}

/** The log from seq 1 through `lastSeq`, as a publisher's reader sees it (it looks for a newer segment at most every 50 ms: poll to the end). */
async function readWholeLog(lastSeq: number): Promise<LogRecord[]> {
  const reader = new EventLogReader(eventsDir, 1);
  const records: LogRecord[] = [];
  const deadline = Date.now() + 10_000;
  try {
    while (reader.readThrough < lastSeq && Date.now() < deadline) {
      const { records: got, skippedTo } = reader.read(10_000);
      expect(skippedTo, 'the log still starts at seq 1').toBeUndefined();
      for (const record of got) records.push(record);
      if (got.length === 0) await sleep(10);
    }
    // nothing after the last seq the engine emitted
    expect(reader.read(10_000).records.length, `records after seq ${lastSeq}`).toBe(0);
    return records;
  } finally {
    reader.close();
  }
}

/**
 * Every record of every segment as it lies on disk, in file order (the reader skips a record at or
 * before the seq it wants, so it would not show a repeat): breaks of the 1, 2, 3… sequence.
 */
function scanRawLog(): { records: number; lastSeq: number; breaks: string[] } {
  const breaks: string[] = [];
  let lastSeq = 0;
  let records = 0;
  for (const segment of listEventSegments(eventsDir)) {
    const bytes = fs.readFileSync(segment.file);
    const name = path.basename(segment.file);
    if (!checkSegmentHeader(bytes, segment)) breaks.push(`${name}: bad header`);
    let offset = SEGMENT_HEADER_BYTES;
    let first = true;
    for (;;) {
      const check = checkRecord(bytes, offset, bytes.length);
      if (check.kind !== 'record') break;
      if (first && check.firstSeq !== segment.firstSeq) breaks.push(`${name}: first record ${check.firstSeq}`);
      if (check.firstSeq !== lastSeq + 1)
        breaks.push(`${name} byte ${offset}: record ${check.firstSeq}..${check.lastSeq} after ${lastSeq}`);
      first = false;
      lastSeq = check.lastSeq;
      offset = check.end;
      records++;
    }
    if (offset !== bytes.length) breaks.push(`${name}: ${bytes.length - offset} bytes after the last whole record`);
  }
  return { records, lastSeq, breaks };
}

const stripPrev = (envelope: Envelope): string => {
  const { prev_seq: _prev, ...rest } = envelope;
  return JSON.stringify(rest);
};

/** Kafka: topic + symbol; RabbitMQ: routing key; Redis: the stream (the chain keys the publishers use) */
function expectedKey(broker: BrokerName, envelope: Envelope): string {
  const routes = routesOf(envelope);
  if (broker === 'redis') return 'stream';
  if (broker === 'rabbitmq') return routes.rabbitRoutingKey!;
  const topic = routes.kafkaTopic === 'executions' ? stack.names.executions : stack.names.marketData;
  return `${topic}/${envelopeSymbol(envelope)}`;
}

function carries(broker: BrokerName, envelope: Envelope): boolean {
  return broker === 'redis' ? routesOf(envelope).redis : envelope.type !== 'BalanceChanged';
}

/** What a consumer of `broker` must hold after dropping repeats by seq, in seq order, prev_seq chained per key. */
function expectedEnvelopes(broker: BrokerName, events: readonly EngineEvent[]): Envelope[] {
  const encoder = new EnvelopeEncoder(DEFAULT_ENGINE_CONFIG);
  const chains = new Map<string, number>();
  const out: Envelope[] = [];
  for (const envelope of encoder.encodeAll(events)) {
    if (!carries(broker, envelope)) continue;
    const key = expectedKey(broker, envelope);
    envelope.prev_seq = chains.get(key) ?? 0;
    chains.set(key, envelope.seq);
    out.push(envelope);
  }
  return out;
}

function checkBroker(
  broker: BrokerName,
  received: readonly Envelope[],
  keyOf: (envelope: Envelope) => string | undefined,
  expected: readonly Envelope[],
): { duplicates: number; received: number } {
  // repeats are dropped by seq; each must be the first copy byte for byte (a resend is the same message)
  const first = new Map<number, Envelope>();
  const unique: Envelope[] = [];
  const differingRepeats: number[] = [];
  for (const envelope of received) {
    const seen = first.get(envelope.seq);
    if (!seen) {
      first.set(envelope.seq, envelope);
      unique.push(envelope);
    } else if (JSON.stringify(seen) !== JSON.stringify(envelope)) differingRepeats.push(envelope.seq);
  }
  expect(differingRepeats.slice(0, 10), `${broker}: repeats equal to the first copy (seed ${SEED})`).toEqual([]);

  // the same seqs: nothing missing, nothing extra
  const expectedSeqs = new Set(expected.map((envelope) => envelope.seq));
  const missing = expected.filter((envelope) => !first.has(envelope.seq)).map((envelope) => envelope.seq);
  const extra = unique.filter((envelope) => !expectedSeqs.has(envelope.seq)).map((envelope) => envelope.seq);
  expect(
    { missing: missing.slice(0, 20), missingCount: missing.length, extra: extra.slice(0, 20), extraCount: extra.length },
    `${broker} seqs (seed ${SEED})`,
  ).toEqual({
    missing: [],
    missingCount: 0,
    extra: [],
    extraCount: 0,
  });
  expect(unique.length).toBe(expected.length);

  // the same JSON, ignoring prev_seq
  const bySeq = [...unique].sort((a, b) => a.seq - b.seq);
  const mismatch = bySeq.findIndex((envelope, index) => stripPrev(envelope) !== stripPrev(expected[index]!));
  if (mismatch >= 0)
    expect(JSON.parse(stripPrev(bySeq[mismatch]!)), `${broker}: envelope seq ${bySeq[mismatch]!.seq}`).toEqual(
      JSON.parse(stripPrev(expected[mismatch]!)),
    );

  // where it went: the documented routing key; and prev_seq chains per key, in the order the consumer got them
  const chains = new Map<string, Envelope[]>();
  const wrongKey: string[] = [];
  for (const envelope of unique) {
    const key = keyOf(envelope);
    const want = expectedKey(broker, envelope);
    if (key !== want) wrongKey.push(`${envelope.seq}: ${key} ≠ ${want}`);
    let chain = chains.get(want);
    if (!chain) chains.set(want, (chain = []));
    chain.push(envelope);
  }
  expect(wrongKey.slice(0, 10), `${broker} routing`).toEqual([]);
  const broken: string[] = [];
  for (const [key, chain] of chains) {
    for (let index = 0; index < chain.length; index++) {
      const want = index === 0 ? 0 : chain[index - 1]!.seq;
      if (chain[index]!.prev_seq !== want)
        broken.push(`${key} seq ${chain[index]!.seq}: prev_seq ${chain[index]!.prev_seq}, expected ${want}`);
    }
  }
  expect(broken.slice(0, 10), `${broker}: prev_seq chains per routing key (seed ${SEED})`).toEqual([]);
  // …and the very prev_seq the replay gives
  const wrongPrev = bySeq.filter((envelope, index) => envelope.prev_seq !== expected[index]!.prev_seq).map((envelope) => envelope.seq);
  expect(wrongPrev.slice(0, 10), `${broker}: prev_seq as the replay chains it`).toEqual([]);
  return { duplicates: received.length - unique.length, received: received.length };
}

beforeAll(async () => {
  stack = await Stack.start({ env: ENV });
  eventsDir = path.join(stack.dataDir, 'events');
  redis = new RedisStreamCollector(config.REDIS_URL, stack.names.stream).start(20);
  [kafka, rabbit] = await Promise.all([
    new KafkaCollector(config.KAFKA_BROKERS.split(','), `${stack.namespace}-crash`).start([stack.names.marketData, stack.names.executions]),
    new RabbitCollector().start(config.AMQP_URL, stack.names.exchange, ['#']),
  ]);
  for (let index = 0; index < USERS; index++) users.push(await stack.createUser(`fanout-crash-${index}`));
}, 120_000);

afterAll(async () => {
  await Promise.all([redis?.close(), kafka?.close(), rabbit?.close()]);
  await stack?.stop();
});

describe('fan-out under kill -9 (core and publishers)', () => {
  it('the event log holds every event of every journaled command exactly once, in order, across core kills and a torn tail', async () => {
    const pick = random(SEED);
    const coreKills = 3 + Math.floor(pick() * 2);
    const tornRound = Math.floor(pick() * coreKills);
    // the schedule, drawn up front so the seed alone decides it
    const rounds = Array.from({ length: coreKills + 1 }, (_, round) => {
      const duration = 2_500 + Math.floor(pick() * 2_500);
      const victims = [PUBLISHERS[round % 3]!, PUBLISHERS[(round + 1) % 3]!].map((name) => ({
        name,
        at: 100 + Math.floor(pick() * (duration - 200)),
        restartAfter: Math.floor(pick() * 500),
      }));
      return { duration, victims };
    });
    const tear = random(SEED ^ 0x5eed);

    for (let round = 0; round < rounds.length; round++) {
      const { duration, victims } = rounds[round]!;
      const stop = { stopped: false };
      const before = figures.orders;
      const clients = Array.from({ length: CLIENTS }, (_, index) => client(index, round, stop));
      const chaos = victims.map(async (victim) => {
        await sleep(victim.at);
        await killPublisher(victim.name, victim.restartAfter);
      });
      await sleep(duration);
      let snapshotSeq: number | undefined;
      if (round === tornRound) {
        // the torn tail goes right after a snapshot: clients stop first, then single deposits meet the snapshot schedule
        stop.stopped = true;
        await Promise.all([...clients, ...chaos]);
        snapshotSeq = await stepToSnapshot();
      }
      if (round < coreKills) {
        await stack.core.kill9();
        coreOutputs.push(stack.core.output());
        figures.coreKills++;
      }
      stop.stopped = true;
      await Promise.all([...clients, ...chaos]);
      expect(figures.orders, `round ${round}: orders acknowledged (seed ${SEED})`).toBeGreaterThan(before);
      if (round < coreKills) {
        const torn = round === tornRound ? cutTornTail(tear) : undefined;
        // the snapshot is of the last journaled command (no Tick slipped in after it)
        const tornAfter =
          snapshotSeq !== undefined && readJournalRecords(stack.dataDir, snapshotSeq).at(-1)?.seq === snapshotSeq ? snapshotSeq : undefined;
        await stack.startCore();
        if (torn) {
          figures.torn = torn.what;
          const said = () => /event log: (torn tail in|\S+ has a torn header)/.test(stack.core.output());
          await waitFor(said, 5_000, 'the restarted core to report the torn tail it cut').catch(() => {});
          expect(said(), `the restarted core cut the torn tail:\n${stack.core.output()}`).toBe(true);
          // recovery (done before /ready says 200) wrote the lost record again, byte for byte, where it was
          const again = fs.readFileSync(torn.file).subarray(torn.start, torn.start + torn.original.length);
          expect(again.equals(torn.original), `torn ${torn.what}: written again byte for byte (seed ${SEED})`).toBe(true);
          if (tornAfter !== undefined) {
            // the newest snapshot covers the record the log lost: recovery started from an older one
            const recovery = (await stack.ready()).recovery as { snapshotSeq: number };
            expect(recovery.snapshotSeq, `recovery after the torn tail refused snapshot ${tornAfter} (seed ${SEED})`).toBeLessThan(
              tornAfter,
            );
            figures.torn += `, right after snapshot ${tornAfter} (recovery started from ${recovery.snapshotSeq})`;
          } else
            figures.torn +=
              snapshotSeq === undefined
                ? ', not right after a snapshot (schedule not met)'
                : `, not right after snapshot ${snapshotSeq} (a command followed it)`;
        }
      }
    }

    const live = await quiesce();
    const outputs = [...coreOutputs, stack.core.output()].join('\n');
    // the writer says when an event would leave a gap; the sink must never have failed
    expect(outputs, `core output (seed ${SEED})`).not.toMatch(/are not in the log|event sink failed/);
    figures.snapshotsRefused = outputs.match(/not accepted \(the event log is behind it\)/g)?.length ?? 0;
    const records = await readWholeLog(live.last_event_seq);
    if (process.env.FANOUT_CRASH_COPY_TO) fs.cpSync(stack.dataDir, process.env.FANOUT_CRASH_COPY_TO, { recursive: true });
    const events: EngineEvent[] = [];
    const replay = await replayJournal({
      dataDir: stack.dataDir,
      useSnapshots: false,
      createEngine: () => new Engine(DEFAULT_ENGINE_CONFIG),
      restoreEngine: (snapshot) => Engine.restore(DEFAULT_ENGINE_CONFIG, snapshot),
      onEvents: (batch) => {
        for (const event of batch) events.push(JSON.parse(JSON.stringify(event)) as EngineEvent);
      },
    });
    expect(replay.tornTail).toBeUndefined();
    expect(replay.snapshotSeq).toBe(0);
    expect(replay.lastSeq, 'the replay covers every journaled command').toBe(live.last_seq);
    expect(replay.engine.stateHash(), `live stateHash = offline replay's (seed ${SEED})`).toBe(live.state_hash);
    expect(replay.engine.lastEventSeq()).toBe(live.last_event_seq);

    // the log: seqs 1..N, each record right after the one before (no gap, no repeat)
    const breaks: string[] = [];
    for (let index = 0; index < records.length; index++) {
      const expectedFirst = index === 0 ? 1 : records[index - 1]!.lastSeq + 1;
      if (records[index]!.firstSeq !== expectedFirst)
        breaks.push(`record ${index}: seqs ${records[index]!.firstSeq}..${records[index]!.lastSeq} after ${expectedFirst - 1}`);
    }
    expect(breaks.slice(0, 10), `event log seqs consecutive from 1 (seed ${SEED}, torn: ${figures.torn})`).toEqual([]);
    // the same on disk, record by record: no repeat the reader would skip over
    const raw = scanRawLog();
    expect(raw.breaks.slice(0, 10), `event log on disk: one record per seq range, consecutive from 1 (seed ${SEED})`).toEqual([]);
    expect(raw).toMatchObject({ records: records.length, lastSeq: live.last_event_seq });
    expect(records.length, `event log records = replayed events (seed ${SEED})`).toBe(events.length);
    expect(records.at(-1)?.lastSeq).toBe(live.last_event_seq);
    // …and each record is the replay's event, exactly
    const differing: number[] = [];
    for (let index = 0; index < events.length; index++) {
      const record = records[index]!;
      const event = events[index]!;
      if (record.firstSeq !== event.seq || record.lastSeq !== lastSeqOf(event) || !isDeepStrictEqual(record.event, event))
        differing.push(index);
    }
    if (differing.length > 0) {
      const index = differing[0]!;
      expect(
        { firstSeq: records[index]!.firstSeq, lastSeq: records[index]!.lastSeq, event: records[index]!.event },
        `first differing record (${differing.length} differ)`,
      ).toEqual({
        firstSeq: events[index]!.seq,
        lastSeq: lastSeqOf(events[index]!),
        event: events[index],
      });
    }
    expect(differing.length).toBe(0);
    expect(figures.torn, 'a torn tail was cut').not.toBe('');
    expect(figures.coreKills).toBe(coreKills);

    figures.commands = live.last_seq;
    figures.events = live.last_event_seq;
    figures.records = records.length;
    figures.segments = listEventSegments(eventsDir).length;
    replayed = events;
  }, 150_000);

  it("after kill -9 of each publisher mid-batch, every consumer deduplicating by seq sees exactly the replay's envelopes", async () => {
    expect(replayed, 'the first test ran').toBeDefined();
    const events = replayed!;
    const lastSeq = lastSeqOf(events.at(-1)!);
    let cursors: Record<string, number> = {};
    await waitFor(
      async () => {
        const ready = await stack.ready();
        const publishers = ready.publishers as Record<string, { confirmed_seq: number }>;
        cursors = Object.fromEntries(PUBLISHERS.map((name) => [name, publishers[name]?.confirmed_seq ?? 0]));
        return PUBLISHERS.every((name) => cursors[name]! >= lastSeq);
      },
      60_000,
      `every publisher's cursor at the log's last seq ${lastSeq}`,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}: ${JSON.stringify(cursors)} (seed ${SEED})`);
    });
    expect(cursors).toEqual({ redis: lastSeq, kafka: lastSeq, rabbitmq: lastSeq });

    const expected = {
      redis: expectedEnvelopes('redis', events),
      kafka: expectedEnvelopes('kafka', events),
      rabbitmq: expectedEnvelopes('rabbitmq', events),
    };
    // confirmed by the brokers; the consumers may still be fetching (a missing seq fails below, with the list)
    await waitFor(
      () =>
        redis.seqs().size >= expected.redis.length &&
        kafka.seqs().size >= expected.kafka.length &&
        rabbit.seqs().size >= expected.rabbitmq.length,
      30_000,
      'the consumers caught up',
    ).catch(() => {});

    expect(new Set(redis.ids).size, 'one Redis stream entry per id').toBe(redis.ids.length);
    expect(redis.ids.every((id, index) => id === `${redis.received[index]!.envelope.seq}-0`)).toBe(true);
    const seen = {
      redis: checkBroker(
        'redis',
        redis.received.map((item) => item.envelope),
        () => 'stream',
        expected.redis,
      ),
      kafka: checkBroker(
        'kafka',
        kafka.received.map((item) => item.envelope),
        (envelope) => `${kafka.topics.get(envelope.seq)}/${envelopeSymbol(envelope)}`,
        expected.kafka,
      ),
      rabbitmq: checkBroker(
        'rabbitmq',
        rabbit.received.map((item) => item.envelope),
        (envelope) => rabbit.routingKeys.get(envelope.seq),
        expected.rabbitmq,
      ),
    };
    const kills = Object.fromEntries(
      PUBLISHERS.map((name) => [name, figures.publisherKills.filter((kill) => kill.startsWith(`${name}@`)).length]),
    );
    for (const name of PUBLISHERS) expect(kills[name], `${name} publisher killed`).toBeGreaterThanOrEqual(2);

    const ready = await stack.ready();
    const reports = ready.publishers as Record<string, { resends: number; last_error: string | null }>;
    const resends = Object.fromEntries(PUBLISHERS.map((name) => [name, reports[name]?.resends]));
    const errors = Object.fromEntries(PUBLISHERS.map((name) => [name, reports[name]?.last_error ?? null]));
    console.log(
      [
        `fanout-crash: seed ${SEED}, ${((Date.now() - started) / 1000).toFixed(1)} s`,
        `  orders acknowledged ${figures.orders}, cancels acknowledged ${figures.cancels}, 503 answers ${figures.overloaded}, commands journaled ${figures.commands}`,
        `  events ${figures.events} in ${figures.records} log records, ${figures.segments} segments`,
        `  core kills ${figures.coreKills}; torn tail: cut ${figures.torn}; snapshots refused on recovery (log behind): ${figures.snapshotsRefused}`,
        `  publisher kills (name@cursor/log last seq at the kill): ${figures.publisherKills.join(', ')}`,
        `  envelopes expected: redis ${expected.redis.length}, kafka ${expected.kafka.length}, rabbitmq ${expected.rabbitmq.length}`,
        `  received: redis ${seen.redis.received} (${seen.redis.duplicates} duplicates), kafka ${seen.kafka.received} (${seen.kafka.duplicates} duplicates), rabbitmq ${seen.rabbitmq.received} (${seen.rabbitmq.duplicates} duplicates)`,
        `  messages: kafka ${kafka.messages}, rabbitmq ${rabbit.messages}; resends since the last publisher start ${JSON.stringify(resends)}, last errors ${JSON.stringify(errors)}`,
      ].join('\n'),
    );
  }, 120_000);
});
