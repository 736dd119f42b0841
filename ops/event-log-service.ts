/**
 * The core's side of the event log: the writer fed by the sequencer's event sink, retention by the
 * publishers' cursors, the disk bound, and what /ready and /metrics say about the log and each
 * publisher (read from the status files the publisher processes write next to their cursors).
 */
import { Gauge, type Registry } from 'prom-client';
import type { MatchingEngine } from '../engine/index.ts';
import { CursorStore, type PublisherStatus } from '../mq/event-log/cursor-store.ts';
import { eventLogDirOf } from '../mq/event-log/segment-format.ts';
import { EventLogWriter } from '../mq/event-log/writer.ts';
import type { ErrorKind } from '../sequencer/index.ts';

export interface EventLogServiceOptions {
  readonly dataDir: string;
  readonly publishers: readonly string[];
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly degradedLagMs: number;
  readonly registry: Registry;
  readonly onWarning: (message: string) => void;
  readonly now?: () => number;
}

/** A segment is deleted only once every cursor has been past it this long (Redis may lose its last second of AOF and ask for a resend). */
const RETENTION_GRACE_MS = 60_000;
/** a status file older than this: the publisher process is not running */
const STATUS_STALE_MS = 5_000;

/** The log reached its disk bound: new commands are refused, as when the sequencer's queue is full, until the publishers catch up. */
export class EventLogFullError extends Error {
  override name = 'EventLogFullError';
  readonly kind: ErrorKind = 'overloaded';
  constructor(bytes: number, max: number) {
    super(`the event log holds ${bytes} bytes (bound ${max}): publishers are far behind; retry later`);
  }
}

export interface PublisherReport {
  readonly state: 'up' | 'retrying' | 'down';
  readonly confirmed_seq: number;
  readonly lag_events: number;
  readonly lag_seconds: number;
  readonly last_error: string | null;
  readonly resends: number;
  readonly running: boolean;
}

export class EventLogService {
  readonly writer: EventLogWriter;
  readonly #options: EventLogServiceOptions;
  readonly #cursors: CursorStore;
  readonly #now: () => number;
  /** whether the log had no segment when the core started (a data dir from before the event log) */
  readonly startedEmpty: boolean;
  #minCursorHistory: Array<{ at: number; seq: number }> = [];
  #timer: NodeJS.Timeout;
  #statuses: { at: number; reports: Record<string, PublisherReport> } | undefined;

  constructor(options: EventLogServiceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const dir = eventLogDirOf(options.dataDir);
    this.writer = EventLogWriter.open({ dir, segmentMaxBytes: options.segmentBytes, onWarning: options.onWarning });
    this.startedEmpty = this.writer.segmentCount === 0;
    this.#cursors = new CursorStore(dir);
    this.#timer = setInterval(() => this.#retain(), 1_000);
    this.#timer.unref();
    this.#registerMetrics(options.registry);
  }

  /** recovery may start from a snapshot only if the log holds every event up to it (else replay re-derives them from further back) */
  acceptsSnapshot(engine: MatchingEngine): boolean {
    return this.startedEmpty || engine.lastEventSeq() <= this.writer.lastSeq;
  }

  /** throws EventLogFullError when the log has reached its disk bound (the API answers 503) */
  checkRoom(): void {
    const bytes = this.writer.sizeBytes;
    if (bytes >= this.#options.maxBytes) throw new EventLogFullError(bytes, this.#options.maxBytes);
  }

  reports(): Record<string, PublisherReport> {
    const now = this.#now();
    if (this.#statuses && now - this.#statuses.at < 200) return this.#statuses.reports;
    const reports: Record<string, PublisherReport> = {};
    const last = this.writer.lastSeq;
    for (const name of this.#options.publishers) {
      const status: PublisherStatus | undefined = this.#cursors.status(name);
      const confirmed = Math.max(status?.confirmed_seq ?? 0, this.#cursors.load(name).seq);
      const running = status !== undefined && now - status.updated_at < STATUS_STALE_MS;
      reports[name] = {
        state: running ? status.state : 'down',
        confirmed_seq: confirmed,
        lag_events: Math.max(0, last - confirmed),
        lag_seconds: running ? status.lag_ms / 1000 : last > confirmed ? Math.max(0, (now - (status?.updated_at ?? now)) / 1000) : 0,
        last_error: running ? status.last_error : status ? 'publisher process not running' : 'publisher has not started',
        resends: status?.resends ?? 0,
        running,
      };
    }
    this.#statuses = { at: now, reports };
    return reports;
  }

  /** /ready turns `degraded` (still 200): a publisher is not up, or is behind by more than the configured lag */
  degraded(): boolean {
    return Object.values(this.reports()).some((report) => report.state !== 'up' || report.lag_seconds * 1000 > this.#options.degradedLagMs);
  }

  summary(): Record<string, unknown> {
    return {
      last_seq: this.writer.lastSeq,
      first_seq: this.writer.firstSeq,
      bytes: this.writer.sizeBytes,
      max_bytes: this.#options.maxBytes,
      segments: this.writer.segmentCount,
    };
  }

  close(): void {
    clearInterval(this.#timer);
    this.writer.close();
  }

  #retain(): void {
    try {
      const now = this.#now();
      const min = Math.min(...this.#options.publishers.map((name) => this.#cursors.load(name).seq));
      this.#minCursorHistory.push({ at: now, seq: Number.isFinite(min) ? min : 0 });
      // the lowest cursor as it was RETENTION_GRACE_MS ago (cursors only move forward, except a rewind)
      while (this.#minCursorHistory.length > 1 && now - this.#minCursorHistory[1]!.at >= RETENTION_GRACE_MS) this.#minCursorHistory.shift();
      const oldest = this.#minCursorHistory[0]!;
      if (now - oldest.at >= RETENTION_GRACE_MS) this.writer.retain(Math.min(oldest.seq, min));
    } catch (error) {
      this.#options.onWarning(`event log retention: ${(error as Error).message}`);
    }
  }

  #registerMetrics(registry: Registry): void {
    const writer = this.writer;
    new Gauge({
      name: 'xtrader_event_log_bytes',
      help: 'bytes of event log segments on disk',
      registers: [registry],
      collect() {
        this.set(writer.sizeBytes);
      },
    });
    new Gauge({
      name: 'xtrader_event_log_last_seq',
      help: 'last seq written to the event log',
      registers: [registry],
      collect() {
        this.set(writer.lastSeq);
      },
    });
    const reports = () => this.reports();
    new Gauge({
      name: 'xtrader_publisher_lag_events',
      help: "events in the log not yet confirmed by the publisher's broker",
      labelNames: ['publisher'],
      registers: [registry],
      collect() {
        for (const [name, report] of Object.entries(reports())) this.set({ publisher: name }, report.lag_events);
      },
    });
    new Gauge({
      name: 'xtrader_publisher_lag_seconds',
      help: 'age of the oldest event the publisher has not had confirmed',
      labelNames: ['publisher'],
      registers: [registry],
      collect() {
        for (const [name, report] of Object.entries(reports())) this.set({ publisher: name }, report.lag_seconds);
      },
    });
    new Gauge({
      name: 'xtrader_publisher_state',
      help: "1 for the publisher's current state (up, retrying, down)",
      labelNames: ['publisher', 'state'],
      registers: [registry],
      collect() {
        for (const [name, report] of Object.entries(reports())) {
          for (const state of ['up', 'retrying', 'down']) this.set({ publisher: name, state }, report.state === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'xtrader_publisher_resends',
      help: 'batches the publisher sent again after a failure or timeout (since it started)',
      labelNames: ['publisher'],
      registers: [registry],
      collect() {
        for (const [name, report] of Object.entries(reports())) this.set({ publisher: name }, report.resends);
      },
    });
  }
}
