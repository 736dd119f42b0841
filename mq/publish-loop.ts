/**
 * One publisher: event log → envelopes → its broker, with its own cursor, its own bounded retry
 * queue (p-queue, one batch in flight and one read ahead) and its own state. Runs in its own
 * process, so a slow broker or a busy client library costs only this process.
 *
 * Memory is bounded by the queue: while a batch is being retried nothing more is read, so an
 * outage of any length costs disk (the log keeps the events), never memory. Ordering: batches are
 * sent one at a time, in seq order, and a failed batch is resent whole; the cursor (last seq the
 * broker confirmed) moves only after a confirmation.
 */
import PQueue from 'p-queue';
import type { EngineConfig } from '../engine/index.ts';
import { EnvelopeEncoder } from '../contract/envelope-encoder.ts';
import type { Envelope } from '../contract/envelopes.ts';
import { CursorStore, type Cursor, type PublisherStatus } from './event-log/cursor-store.ts';
import { EventLogReader, type LogRecord } from './event-log/reader.ts';
import type { BrokerPublisher } from './publisher.ts';
import { PublisherLifecycle } from './publisher-state.ts';
import { backoffDelay } from '../lib/backoff.ts';
import { RewindRequired, withTimeout } from './retry.ts';

export interface PublishLoopOptions {
  readonly eventLogDir: string;
  readonly engineConfig: EngineConfig;
  readonly publisher: BrokerPublisher;
  /** log records per batch at most; default 2,000 */
  readonly maxBatchRecords?: number;
  /** how often an idle loop looks for new records; default 2 ms */
  readonly pollMs?: number;
  /** a publish not confirmed within this is a failure (a frozen broker); default 5,000 ms */
  readonly publishTimeoutMs?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** retrying for this long makes the state `down`; default 10,000 ms */
  readonly downAfterMs?: number;
  /** status file refresh; default 500 ms */
  readonly statusEveryMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly onError?: (error: unknown, attempt: number) => void;
  readonly onWarning?: (message: string) => void;
}

interface Batch {
  readonly envelopes: Envelope[];
  /** last log seq the batch covers: the cursor after it is confirmed */
  readonly lastSeq: number;
  /** the prev_seq chains after this batch */
  readonly chains: Record<string, number>;
  /** timestamp of its first record (for lag in seconds) */
  readonly firstTimestamp: number;
  readonly generation: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class PublishLoop {
  readonly #options: PublishLoopOptions;
  readonly #publisher: BrokerPublisher;
  readonly #encoder: EnvelopeEncoder;
  readonly #store: CursorStore;
  readonly #lifecycle: PublisherLifecycle;
  readonly #queue = new PQueue({ concurrency: 1 });
  readonly #now: () => number;
  #reader: EventLogReader;
  #cursor: Cursor;
  /** chains as of the last batch read (ahead of the cursor) */
  #chains: Record<string, number>;
  /** bumped by a rewind: batches read before it are dropped */
  #generation = 0;
  /** after a rewind to the middle of a record (a Trade's reports): envelopes up to here are already held */
  #heldThrough = 0;
  #running = false;
  #stopped: Promise<void> | undefined;
  #inFlight: Batch | undefined;
  #lastError: string | null = null;
  #lastErrorAt: number | null = null;
  #resends = 0;
  #publishedEnvelopes = 0;
  #cursorSavedAt = 0;
  #cursorDirty = false;
  #statusTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(options: PublishLoopOptions) {
    this.#options = options;
    this.#publisher = options.publisher;
    this.#encoder = new EnvelopeEncoder(options.engineConfig);
    this.#store = new CursorStore(options.eventLogDir);
    this.#now = options.now ?? Date.now;
    this.#lifecycle = new PublisherLifecycle(options.downAfterMs ?? 10_000, this.#now);
    this.#cursor = this.#store.load(this.#publisher.name);
    this.#chains = { ...this.#cursor.chains };
    this.#reader = this.#newReader(this.#cursor.seq + 1);
  }

  #newReader(fromSeq: number): EventLogReader {
    return new EventLogReader(this.#options.eventLogDir, fromSeq, { skipTypes: this.#publisher.skipEventTypes ?? [] });
  }

  get confirmedSeq(): number {
    return this.#cursor.seq;
  }

  get state(): string {
    return this.#lifecycle.state;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#statusTimer = setInterval(() => this.#saveStatus(), this.#options.statusEveryMs ?? 500);
    this.#saveStatus();
    this.#stopped = this.#run();
  }

  /** Stops reading, lets the batch in flight finish (bounded by the publish timeout), saves the cursor. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#stopped;
    this.#queue.clear();
    await withTimeout(this.#queue.onIdle(), (this.#options.publishTimeoutMs ?? 5_000) + 1_000, 'stop').catch(() => {});
    if (this.#statusTimer) clearInterval(this.#statusTimer);
    this.#saveCursor(true);
    this.#saveStatus();
    this.#reader.close();
    await this.#publisher.close();
  }

  status(): PublisherStatus {
    const oldest = this.#inFlight;
    return {
      name: this.#publisher.name,
      state: this.#lifecycle.state,
      confirmed_seq: this.#cursor.seq,
      lag_ms: oldest ? Math.max(0, this.#now() - oldest.firstTimestamp) : 0,
      last_error: this.#lastError,
      last_error_at: this.#lastErrorAt,
      resends: this.#resends,
      published_envelopes: this.#publishedEnvelopes,
      rss_bytes: process.memoryUsage.rss(),
      pid: process.pid,
      updated_at: this.#now(),
    };
  }

  async #run(): Promise<void> {
    const maxRecords = this.#options.maxBatchRecords ?? 2_000;
    const pollMs = this.#options.pollMs ?? 2;
    while (this.#running) {
      // one batch in flight, one read ahead: never more in memory
      if (this.#queue.size + this.#queue.pending >= 2) {
        await this.#queue.onSizeLessThan(1);
        if (this.#queue.pending > 0 && this.#queue.size > 0) await sleep(pollMs);
        continue;
      }
      const { records, skippedTo } = this.#reader.read(maxRecords);
      if (skippedTo !== undefined) {
        this.#options.onWarning?.(`${this.#publisher.name}: the event log no longer holds seqs before ${skippedTo}; resuming there`);
      }
      if (records.length === 0) {
        // only records this broker does not carry: nothing to send, but the cursor may move past them
        if (this.#reader.readThrough > this.#cursor.seq && this.#queue.size + this.#queue.pending === 0) {
          this.#cursor = { seq: this.#reader.readThrough, chains: { ...this.#chains } };
          this.#cursorDirty = true;
          this.#saveCursor(false);
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, pollMs);
        });
        this.#wake = undefined;
        continue;
      }
      const batch = this.#batchOf(records);
      void this.#queue.add(() => this.#send(batch));
    }
  }

  #batchOf(records: readonly LogRecord[]): Batch {
    const all: Envelope[] = [];
    for (const record of records) this.#encoder.encode(record.event, all);
    const envelopes: Envelope[] = [];
    const chains = this.#chains;
    for (const envelope of all) {
      const key = this.#publisher.chainKey(envelope);
      if (key === undefined || envelope.seq <= this.#heldThrough) continue;
      envelope.prev_seq = chains[key] ?? 0;
      chains[key] = envelope.seq;
      envelopes.push(envelope);
    }
    return {
      envelopes,
      // records skipped by type after the last one returned count as done with this batch
      lastSeq: Math.max(records[records.length - 1]!.lastSeq, this.#reader.readThrough),
      chains: { ...chains },
      firstTimestamp: records[0]!.event.timestamp,
      generation: this.#generation,
    };
  }

  async #send(batch: Batch): Promise<void> {
    this.#inFlight = batch;
    const timeoutMs = this.#options.publishTimeoutMs ?? 5_000;
    const backoff = {
      initialMs: 50,
      maxMs: 5_000,
      round: true,
      ...this.#options.backoff,
      ...(this.#options.random ? { random: this.#options.random } : {}),
    };
    try {
      for (let attempt = 0; batch.generation === this.#generation; attempt++) {
        try {
          if (batch.envelopes.length > 0) {
            await withTimeout(this.#publisher.publish(batch.envelopes), timeoutMs, `${this.#publisher.name} publish`);
          }
          this.#lifecycle.confirmed();
          this.#publishedEnvelopes += batch.envelopes.length;
          this.#cursor = { seq: batch.lastSeq, chains: batch.chains };
          this.#cursorDirty = true;
          this.#saveCursor(false);
          return;
        } catch (error) {
          if (error instanceof RewindRequired) {
            this.#rewind(error);
            return;
          }
          this.#lifecycle.failed();
          this.#lastError = (error as Error).message ?? String(error);
          this.#lastErrorAt = this.#now();
          this.#resends++;
          this.#options.onError?.(error, attempt);
          this.#publisher.reset();
          if (!this.#running && attempt >= 1) return; // stopping: the cursor says where to resume
          await sleep(backoffDelay(attempt, backoff));
        }
      }
    } finally {
      if (this.#inFlight === batch) this.#inFlight = undefined;
    }
  }

  /** The broker lost data it had confirmed: read the log again from what it still holds. */
  #rewind(error: RewindRequired): void {
    this.#options.onWarning?.(`${this.#publisher.name}: ${error.message}; resending from seq ${error.heldSeq + 1}`);
    this.#generation++;
    this.#heldThrough = error.heldSeq;
    this.#queue.clear();
    this.#reader.close();
    this.#reader = this.#newReader(error.heldSeq + 1);
    this.#chains = Object.fromEntries(Object.keys(this.#chains).map((key) => [key, error.heldSeq]));
    this.#cursor = { seq: error.heldSeq, chains: { ...this.#chains } };
    this.#saveCursor(true);
  }

  #saveCursor(force: boolean): void {
    if (!this.#cursorDirty && !force) return;
    const now = this.#now();
    if (!force && now - this.#cursorSavedAt < 50) return;
    this.#cursorSavedAt = now;
    this.#cursorDirty = false;
    try {
      this.#store.save(this.#publisher.name, this.#cursor);
    } catch (error) {
      this.#options.onWarning?.(`${this.#publisher.name}: cursor not saved: ${(error as Error).message}`);
    }
  }

  #saveStatus(): void {
    this.#saveCursor(false);
    try {
      this.#store.saveStatus(this.status());
    } catch {
      // the status is informational; the next tick tries again
    }
  }
}
