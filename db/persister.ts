/**
 * The persister: Redis Stream `executions` → PostgreSQL (ARCHITECTURE.md "db").
 *
 * N consumers of the group `execution_processors`, each with a connection for its reads and one for
 * its acknowledgements:
 *  - first its own pending entries (a restart under the same name picks up what it had read),
 *  - then `XREADGROUP … COUNT batchSize BLOCK blockMs STREAMS executions >`, the next read sent
 *    while the current batch is written,
 *  - every claimEveryMs an `XAUTOCLAIM` pass takes over entries idle longer than claimIdleMs
 *    (their consumer died or hangs).
 * Each batch is one statement (db/execution-writer.ts: one transaction) and is acknowledged with
 * XACK only after it committed (that XACK overlaps the next batch's write). A failure before the XACK leaves the entries pending: they come
 * again (own pending read, or another consumer's XAUTOCLAIM) and the idempotent inserts absorb them.
 * Redis or PostgreSQL down: the consumer retries with exponential back-off and keeps its batch; it
 * neither drops entries nor reads new ones meanwhile. A periodic task trims the stream below what
 * every group of the stream has acknowledged.
 */
import { backoffDelay, type BackoffPolicy } from '../lib/backoff.ts';
import { batchRows, type BatchRows } from './execution-rows.ts';
import { trimThreshold, type ExecutionStream, type StreamConsumer, type StreamEntry } from './execution-stream.ts';
import { isDataError, writeBatch, type Queryable, type WriteOutcome } from './execution-writer.ts';

export interface PersisterObserver {
  onBatch?(info: BatchInfo): void;
  /** a failure the persister retries (or, for a dead letter, records): never fatal */
  onError?(where: 'read' | 'claim' | 'write' | 'ack' | 'trim' | 'group', error: unknown, consumer?: string): void;
  onDeadLetters?(count: number, consumer: string): void;
  onTrim?(removed: number, belowId: string): void;
}

export interface BatchInfo {
  readonly consumer: string;
  readonly source: 'new' | 'own-pending' | 'claimed';
  readonly entries: number;
  readonly written: WriteOutcome;
  /** statement time, retries excluded */
  readonly writeMs: number;
  readonly maxSeq: number;
}

export interface PersisterOptions {
  readonly db: Queryable;
  readonly stream: ExecutionStream;
  /** consumers in this process (default 3) */
  readonly consumers?: number;
  /** consumer names are `${name}-1` … `${name}-N` (default 'persister'): stable, so a restart reads its own pending entries */
  readonly name?: string;
  /** entries per XREADGROUP and per transaction (default 100) */
  readonly batchSize?: number;
  /** XREADGROUP BLOCK (default 2,000 ms): bounds how long a graceful stop waits */
  readonly blockMs?: number;
  /** XAUTOCLAIM min-idle-time (default 30,000 ms) */
  readonly claimIdleMs?: number;
  /** how often each consumer runs an XAUTOCLAIM pass (default 5,000 ms) */
  readonly claimEveryMs?: number;
  /** how often the stream is trimmed (default 5,000 ms; 0 = never) */
  readonly trimEveryMs?: number;
  /** back-off between retries (default 100 ms doubling to 5,000 ms); `random` in [0, 1) jitters it (default Math.random) */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number; readonly random?: () => number };
  readonly observer?: PersisterObserver;
  /** ms clock (default Date.now) */
  readonly now?: () => number;
}

export interface ConsumerStatus {
  readonly name: string;
  readonly state: 'reading' | 'writing' | 'retrying' | 'stopped';
  readonly batches: number;
  readonly entries: number;
  readonly lastError: string | undefined;
}

export interface PersisterStats {
  readonly batches: number;
  readonly entries: number;
  readonly executionsInserted: number;
  readonly tradesInserted: number;
  readonly balancesInserted: number;
  /** futures history rows: position and wallet changes, funding payments, liquidations */
  readonly futuresInserted: number;
  readonly deadLetters: number;
  readonly claimed: number;
  readonly trimmed: number;
  readonly lastCommittedSeq: number;
  readonly consumers: readonly ConsumerStatus[];
}

export interface PersisterLag {
  /** delivered to some consumer of our group, not acknowledged */
  readonly pending: number;
  /** in the stream, not delivered yet (undefined when Redis cannot tell) */
  readonly undelivered: number | undefined;
  /** age of the oldest entry not yet acknowledged, by its envelope timestamp (0 when none) */
  readonly secondsBehind: number;
}

class Stopped extends Error {}

interface ConsumerState {
  readonly name: string;
  /** XREADGROUP and XAUTOCLAIM (a blocking read holds it) */
  reader: StreamConsumer;
  /** XACK, so an acknowledgement never waits behind a blocking read */
  acker: StreamConsumer;
  state: ConsumerStatus['state'];
  batches: number;
  entries: number;
  lastError: string | undefined;
  /** blocked in XREADGROUP `>`: a stop may cut the connection */
  blocked: boolean;
  /** the XACK (with retries) of the last committed batch, overlapping the next batch's write */
  acking: Promise<void>;
}

export class Persister {
  readonly #options: Required<Omit<PersisterOptions, 'observer' | 'retry'>> & Pick<PersisterOptions, 'observer'>;
  readonly #retry: BackoffPolicy;
  readonly #consumers: ConsumerState[] = [];
  #loops: Promise<void>[] = [];
  #stopping = false;
  #wake = new Set<() => void>();
  #trimTimer: NodeJS.Timeout | undefined;
  #trimming: Promise<void> | undefined;
  #stats = {
    batches: 0,
    entries: 0,
    executionsInserted: 0,
    tradesInserted: 0,
    balancesInserted: 0,
    futuresInserted: 0,
    deadLetters: 0,
    claimed: 0,
    trimmed: 0,
    lastCommittedSeq: 0,
  };

  constructor(options: PersisterOptions) {
    this.#options = {
      consumers: 3,
      name: 'persister',
      batchSize: 100,
      blockMs: 2_000,
      claimIdleMs: 30_000,
      claimEveryMs: 5_000,
      trimEveryMs: 5_000,
      now: Date.now,
      ...options,
    };
    // jitter in the upper half: consumers that failed together do not retry together
    const { initialMs = 100, maxMs = 5_000, random } = options.retry ?? {};
    this.#retry = { initialMs, maxMs, maxExponent: 20, ...(random ? { random } : {}) };
    if (!Number.isInteger(this.#options.consumers) || this.#options.consumers < 1) throw new Error('consumers must be an integer ≥ 1');
  }

  /** Starts the consumers (and the trim timer); returns at once. The group is created by the consumers, with retries. */
  start(): void {
    const { stream, consumers, name } = this.#options;
    for (let index = 1; index <= consumers; index++) {
      const consumerName = `${name}-${index}`;
      const state: ConsumerState = {
        name: consumerName,
        reader: stream.consumer(consumerName),
        acker: stream.consumer(consumerName),
        state: 'reading',
        batches: 0,
        entries: 0,
        lastError: undefined,
        blocked: false,
        acking: Promise.resolve(),
      };
      this.#consumers.push(state);
      this.#loops.push(this.#run(state));
    }
    if (this.#options.trimEveryMs > 0) {
      this.#trimTimer = setInterval(() => {
        this.#trimming ??= this.trim()
          .then(() => undefined)
          .catch((error: unknown) => this.#options.observer?.onError?.('trim', error))
          .finally(() => {
            this.#trimming = undefined;
          });
      }, this.#options.trimEveryMs);
      this.#trimTimer.unref();
    }
  }

  /**
   * Graceful stop: each consumer finishes the batch it holds (commit, then XACK); one waiting in a
   * blocking read is cut off (what that read had fetched stays pending under its name). A batch
   * still failing to write or acknowledge is left pending, for the next start.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#trimTimer) clearInterval(this.#trimTimer);
    for (const wake of this.#wake) wake();
    for (const consumer of this.#consumers) if (consumer.blocked) consumer.reader.close();
    await Promise.all(this.#loops);
    await this.#trimming;
    for (const consumer of this.#consumers) {
      consumer.reader.close();
      consumer.acker.close();
    }
  }

  stats(): PersisterStats {
    return {
      ...this.#stats,
      consumers: this.#consumers.map(({ name, state, batches, entries, lastError }) => ({ name, state, batches, entries, lastError })),
    };
  }

  /** Trims the stream below what every group has acknowledged; returns the entries removed. */
  async trim(): Promise<number> {
    const { stream, observer } = this.#options;
    const threshold = trimThreshold(await stream.groups());
    if (threshold === undefined) return 0;
    const removed = await stream.trimBelow(threshold);
    this.#stats.trimmed += removed;
    if (removed > 0) observer?.onTrim?.(removed, threshold);
    return removed;
  }

  /** Our group's lag: pending, undelivered, and the age of the oldest entry not acknowledged. */
  async lag(): Promise<PersisterLag> {
    const { stream, now } = this.#options;
    const group = (await stream.groups()).find((candidate) => candidate.name === stream.group);
    if (!group) return { pending: 0, undelivered: undefined, secondsBehind: 0 };
    let oldest: StreamEntry | undefined;
    if (group.pending > 0 && group.oldestPendingId !== undefined) oldest = await stream.firstFrom(group.oldestPendingId);
    else if (group.undelivered === undefined || group.undelivered > 0) oldest = await stream.firstFrom(`(${group.lastDeliveredId}`);
    const timestamp = oldest?.body === undefined ? undefined : envelopeTimestamp(oldest.body);
    const secondsBehind = timestamp === undefined ? 0 : Math.max(0, now() - timestamp) / 1000;
    return { pending: group.pending, undelivered: group.undelivered, secondsBehind };
  }

  async #run(consumer: ConsumerState): Promise<void> {
    const { batchSize, claimIdleMs, claimEveryMs, stream, now, observer } = this.#options;
    let groupReady = false;
    let ownPendingFrom: string | undefined = '0';
    let claimCursor = '0-0';
    let nextClaimAt = now();
    let failures = 0;
    /** the next read of new entries, sent while the current batch is written */
    let readAhead: Promise<StreamEntry[]> | undefined;
    while (!this.#stopping) {
      let where: 'group' | 'read' | 'claim' = 'group';
      try {
        if (!groupReady) {
          await stream.ensureGroup();
          groupReady = true;
        }
        let entries: StreamEntry[];
        let source: BatchInfo['source'];
        if (readAhead) {
          where = 'read';
          source = 'new';
          const next = readAhead;
          readAhead = undefined;
          entries = await next;
        } else if (ownPendingFrom !== undefined) {
          where = 'read';
          source = 'own-pending';
          entries = await consumer.reader.read(ownPendingFrom, batchSize, 0);
          ownPendingFrom = entries.length === 0 ? undefined : entries[entries.length - 1]!.id;
        } else if (now() >= nextClaimAt) {
          where = 'claim';
          source = 'claimed';
          const claimed = await consumer.reader.claimIdle(claimIdleMs, claimCursor, batchSize);
          claimCursor = claimed.next;
          if (claimCursor === '0-0') nextClaimAt = now() + claimEveryMs;
          entries = claimed.entries;
          this.#stats.claimed += entries.length;
        } else {
          where = 'read';
          source = 'new';
          entries = await this.#readNew(consumer);
        }
        failures = 0;
        consumer.lastError = undefined;
        if (entries.length === 0) continue;
        // Read ahead while this batch is written (not when a claim pass is due): the entries it
        // delivers are pending under this consumer's name until they are written in turn.
        if (source === 'new' && now() < nextClaimAt) {
          readAhead = this.#readNew(consumer);
          readAhead.catch(() => {}); // a failure is met when the read is awaited
        }
        await this.#persist(consumer, entries, source);
      } catch (error) {
        if (error instanceof Stopped || this.#stopping) break;
        failures++;
        consumer.state = 'retrying';
        consumer.lastError = (error as Error).message;
        observer?.onError?.(where, error, consumer.name);
        // The group or the stream may be gone (Redis lost its data): create it again. A read whose
        // answer was lost may have delivered entries to us: read our own pending ones first.
        if (/NOGROUP/.test((error as Error).message)) groupReady = false;
        ownPendingFrom = '0';
        readAhead = undefined;
        consumer.reader.close();
        consumer.reader = stream.consumer(consumer.name);
        await this.#sleep(this.#backoff(failures));
      }
    }
    // Stopping: a batch already read ahead is written too (a cut read delivered nothing we know of:
    // what it may have delivered stays pending under this name, for the next start).
    if (readAhead) {
      try {
        const entries = await readAhead;
        if (entries.length > 0) await this.#persist(consumer, entries, 'new');
      } catch {
        // left pending
      }
    }
    await consumer.acking.catch(() => {});
    consumer.state = 'stopped';
  }

  async #readNew(consumer: ConsumerState): Promise<StreamEntry[]> {
    consumer.blocked = true;
    try {
      return await consumer.reader.read('>', this.#options.batchSize, this.#options.blockMs);
    } finally {
      consumer.blocked = false;
    }
  }

  /**
   * Writes a batch (retrying until it commits), then acknowledges it on the consumer's XACK
   * connection (retrying until Redis takes it) while the caller goes on with the next batch. At
   * most one acknowledgement is outstanding per consumer: this waits for the previous one.
   */
  async #persist(consumer: ConsumerState, entries: readonly StreamEntry[], source: BatchInfo['source']): Promise<void> {
    const { db, stream, observer } = this.#options;
    const rows = batchRows(entries);
    consumer.state = 'writing';
    let failures = 0;
    let written: WriteOutcome;
    let writeMs: number;
    for (;;) {
      if (this.#stopping && failures > 0) throw new Stopped();
      const started = performance.now();
      try {
        written = await writeBatch(db, stream.key, rows);
        writeMs = performance.now() - started;
        break;
      } catch (error) {
        if (isDataError(error)) {
          // A row the database refuses: write the entries one by one, the refused ones as dead letters.
          written = await this.#writeOneByOne(consumer, entries);
          writeMs = performance.now() - started;
          break;
        }
        failures++;
        consumer.state = 'retrying';
        consumer.lastError = (error as Error).message;
        observer?.onError?.('write', error, consumer.name);
        await this.#sleep(this.#backoff(failures));
      }
    }
    consumer.state = 'reading';
    if (written.deadLetters > 0) observer?.onDeadLetters?.(written.deadLetters, consumer.name);
    const previous = consumer.acking;
    const outcome = written;
    const ms = writeMs;
    consumer.acking = (async () => {
      await previous;
      // Committed: only now may Redis forget the entries. Until it has, they may come again and change nothing.
      await this.#acknowledge(
        consumer,
        entries.map((entry) => entry.id),
      );
      this.#counted(consumer, entries.length, rows, outcome);
      observer?.onBatch?.({ consumer: consumer.name, source, entries: entries.length, written: outcome, writeMs: ms, maxSeq: rows.maxSeq });
    })();
    consumer.acking.catch(() => {}); // a stop ends the retries; the next batch (or the loop's end) awaits it
    await previous;
  }

  async #acknowledge(consumer: ConsumerState, ids: readonly string[]): Promise<void> {
    const { stream, observer } = this.#options;
    for (let failures = 0; ;) {
      if (this.#stopping && failures > 0) throw new Stopped();
      try {
        await consumer.acker.ack(ids);
        return;
      } catch (error) {
        failures++;
        consumer.lastError = (error as Error).message;
        observer?.onError?.('ack', error, consumer.name);
        await this.#sleep(this.#backoff(failures));
        consumer.acker.close();
        consumer.acker = stream.consumer(consumer.name);
      }
    }
  }

  #counted(consumer: ConsumerState, entries: number, rows: BatchRows, written: WriteOutcome): void {
    consumer.batches++;
    consumer.entries += entries;
    const stats = this.#stats;
    stats.batches++;
    stats.entries += entries;
    stats.executionsInserted += written.executions;
    stats.tradesInserted += written.trades;
    stats.balancesInserted += written.balances;
    stats.futuresInserted += written.futures;
    stats.deadLetters += written.deadLetters;
    if (rows.maxSeq > stats.lastCommittedSeq) stats.lastCommittedSeq = rows.maxSeq;
  }

  async #writeOneByOne(consumer: ConsumerState, entries: readonly StreamEntry[]): Promise<WriteOutcome> {
    const { db, stream, observer } = this.#options;
    const total = { executions: 0, orders: 0, trades: 0, balances: 0, deadLetters: 0, futures: 0 };
    for (const entry of entries) {
      let rows: BatchRows = batchRows([entry]);
      let deadLettered = false;
      let failures = 0;
      for (;;) {
        if (this.#stopping && failures > 0) throw new Stopped();
        try {
          const written = await writeBatch(db, stream.key, rows);
          for (const key of Object.keys(total) as (keyof WriteOutcome)[]) total[key] += written[key];
          break;
        } catch (error) {
          observer?.onError?.('write', error, consumer.name);
          if (isDataError(error) && !deadLettered) {
            // Only the entry itself is kept, as a dead letter (a refusal of that is retried below).
            deadLettered = true;
            rows = batchRows([]);
            rows.deadLetters.push({
              entryId: entry.id,
              body: entry.body ?? null,
              error: `refused by PostgreSQL: ${(error as Error).message}`,
            });
            continue;
          }
          failures++;
          await this.#sleep(this.#backoff(failures));
        }
      }
    }
    return total;
  }

  #backoff(failures: number): number {
    return backoffDelay(failures - 1, this.#retry);
  }

  /** Sleeps, cut short by stop(). */
  #sleep(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake.add(done);
    });
  }
}

function envelopeTimestamp(body: string): number | undefined {
  try {
    const timestamp = (JSON.parse(body) as { timestamp?: unknown }).timestamp;
    return typeof timestamp === 'number' ? timestamp : undefined;
  } catch {
    return undefined;
  }
}
