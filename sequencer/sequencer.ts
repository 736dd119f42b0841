/**
 * The sequencer: single FIFO entry to the engine, durable journal with group commit, snapshots.
 *
 * submit() stamps seq and time and queues the command; one writer loop takes everything queued
 * (up to maxBatch), encodes the batch into one buffer, writes it and fdatasyncs once, then applies
 * each command to the engine in seq order, releases the acks and hands the batch's events to the
 * sink. While one batch is being synced the next one accumulates, so throughput grows with load
 * and latency stays near one fsync.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command, EngineEvent, MatchingEngine } from '../engine/types.ts';
import { RecordWriter, stampCommand } from './codec.ts';
import { SequencerClosedError, SequencerFailedError, SequencerNotReadyError, SequencerOverloadedError } from './errors.ts';
import { coveredSegmentCount, listSegments, SegmentWriter, fsyncDirectory } from './journal.ts';
import { acquireLock } from './lock.ts';
import { journalDirOf, recover, snapshotDirOf } from './recovery.ts';
import { listSnapshots, removeTemporaryFiles, writeSnapshot } from './snapshots.ts';
import type { SnapshotReply, SnapshotRequest } from './snapshot-process.ts';
import type { CommandInput, EngineQueries, EventSink, Sequencer, SequencerObserver, SequencerOptions, SubmitResult } from './types.ts';

interface Entry {
  readonly seq: number;
  readonly command: Command;
  readonly resolve: (result: SubmitResult) => void;
  readonly reject: (error: Error) => void;
}

/** a batch stops growing past this many encoded bytes (one write, one buffer) */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

type State = 'created' | 'opening' | 'open' | 'closing' | 'closed' | 'failed';

const DEFAULTS = {
  maxPending: 100_000,
  maxBatch: 8_192,
  snapshotEvery: 100_000,
  keepSnapshots: 2,
  segmentMaxBytes: 64 * 1024 * 1024,
};

class JournaledSequencer<E extends MatchingEngine> implements Sequencer<E> {
  readonly maxPending: number;
  private readonly maxBatch: number;
  private readonly snapshotEvery: number;
  private readonly keepSnapshots: number;
  private readonly segmentMaxBytes: number;
  private readonly now: () => number;
  private readonly observer: SequencerObserver;
  private readonly journalDir: string;
  private readonly snapshotDir: string;

  private state: State = 'created';
  private failure: SequencerFailedError | undefined;
  private recoveryError: string | undefined;
  private currentEngine: E | undefined;
  private writer: SegmentWriter | undefined;
  private readonly records = new RecordWriter();

  private queue: Entry[] = [];
  private inFlight = 0;
  private scheduled = false;
  private writing = false;
  private nextSeq = 1;
  /** timestamp stamped on the newest queued command: stamps never go backwards */
  private stampedTimestamp = 0;
  private appliedSeq = 0;
  private appliedTimestamp = 0;
  private nextSnapshotAt = Infinity;
  private releaseLock: (() => void) | undefined;
  /** the background snapshot writer, when options.snapshotProcess is set */
  private snapshotter: ChildProcess | undefined;
  private snapshotInFlight = false;
  private closing: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(private readonly options: SequencerOptions<E>) {
    this.maxPending = options.maxPending ?? DEFAULTS.maxPending;
    this.maxBatch = options.maxBatch ?? DEFAULTS.maxBatch;
    this.snapshotEvery = options.snapshotEvery ?? DEFAULTS.snapshotEvery;
    this.keepSnapshots = Math.max(1, options.keepSnapshots ?? DEFAULTS.keepSnapshots);
    this.segmentMaxBytes = options.segmentMaxBytes ?? DEFAULTS.segmentMaxBytes;
    this.now = options.now ?? Date.now;
    this.observer = options.observer ?? {};
    this.journalDir = journalDirOf(options.dataDir);
    this.snapshotDir = snapshotDirOf(options.dataDir);
    if (!(this.maxPending >= 1 && this.maxBatch >= 1 && this.snapshotEvery >= 0)) {
      throw new RangeError('maxPending and maxBatch must be ≥ 1, snapshotEvery ≥ 0');
    }
  }

  get ready(): boolean {
    return this.state === 'open';
  }

  get engine(): E {
    if (!this.currentEngine || this.state === 'opening') throw new SequencerNotReadyError();
    return this.currentEngine;
  }

  get queries(): EngineQueries {
    return this.engine;
  }

  get lastSeq(): number {
    return this.appliedSeq;
  }

  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  async open(): Promise<void> {
    if (this.state !== 'created') throw new Error('open() may be called only once');
    this.state = 'opening';
    try {
      fs.mkdirSync(this.options.dataDir, { recursive: true });
      this.releaseLock = acquireLock(this.options.dataDir);
      fs.mkdirSync(this.journalDir, { recursive: true });
      fs.mkdirSync(this.snapshotDir, { recursive: true });
      removeTemporaryFiles(this.snapshotDir);
      const recovered = await recover({
        dataDir: this.options.dataDir,
        createEngine: this.options.createEngine,
        restoreEngine: this.options.restoreEngine,
        ...(this.options.onEvents ? { onEvents: this.guardedSink(this.options.onEvents) } : {}),
        onWarning: (message) => this.observer.onWarning?.(message),
        ...(this.options.acceptSnapshot ? { acceptSnapshot: this.options.acceptSnapshot } : {}),
      });
      this.currentEngine = recovered.engine;
      this.appliedSeq = recovered.lastSeq;
      this.appliedTimestamp = recovered.lastTimestamp;
      this.stampedTimestamp = recovered.lastTimestamp;
      this.nextSeq = recovered.lastSeq + 1;
      this.nextSnapshotAt = this.snapshotEvery > 0 ? recovered.snapshotSeq + this.snapshotEvery : Infinity;
      const appendTo = recovered.appendTo;
      this.writer = appendTo
        ? SegmentWriter.reopen(this.journalDir, appendTo.segment, appendTo.validEnd, appendTo.headerTorn)
        : SegmentWriter.create(this.journalDir, this.nextSeq);
      if (this.options.snapshotProcess && this.snapshotEvery > 0) this.startSnapshotter(this.options.snapshotProcess);
      this.state = 'open';
      this.observer.onRecovered?.({
        snapshotSeq: recovered.snapshotSeq,
        replayedCommands: recovered.replayedCommands,
        lastSeq: recovered.lastSeq,
        ms: recovered.ms,
        ...(recovered.tornTail
          ? {
              tornTail: { file: recovered.tornTail.file, offset: recovered.tornTail.offset, droppedBytes: recovered.tornTail.droppedBytes },
            }
          : {}),
      });
    } catch (error) {
      // nothing was ever accepted: later submits get SequencerNotReadyError, not an unknown outcome
      this.state = 'failed';
      this.recoveryError = `recovery failed: ${(error as Error).message}`;
      this.unlock();
      throw error;
    }
  }

  submit(input: CommandInput): Promise<SubmitResult> {
    if (this.state !== 'open') return Promise.reject(this.refusal());
    if (this.queue.length + this.inFlight >= this.maxPending) return Promise.reject(new SequencerOverloadedError(this.maxPending));
    const seq = this.nextSeq;
    const timestamp = Math.max(Math.floor(this.now()), this.stampedTimestamp);
    let command: Command;
    try {
      command = stampCommand(input as Parameters<typeof stampCommand>[0], seq, timestamp);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    this.nextSeq = seq + 1;
    this.stampedTimestamp = timestamp;
    return new Promise<SubmitResult>((resolve, reject) => {
      this.queue.push({ seq, command, resolve, reject });
      this.schedule();
    });
  }

  close(): Promise<void> {
    if (this.closing) return this.closing.promise;
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.closing = { promise, resolve, reject };
    if (this.state === 'open') {
      this.state = 'closing';
      if (!this.writing && !this.scheduled) this.finishClose();
    } else {
      this.state = this.state === 'failed' ? 'failed' : 'closed';
      this.writer?.close();
      this.unlock();
      resolve();
    }
    return promise;
  }

  private refusal(): Error {
    switch (this.state) {
      case 'closing':
      case 'closed':
        return new SequencerClosedError();
      case 'failed':
        return this.failure ?? new SequencerNotReadyError(this.recoveryError ?? 'sequencer is not ready');
      default:
        return new SequencerNotReadyError();
    }
  }

  /** Starts the writer loop on the next turn, so everything that arrives in this I/O phase joins the first batch. */
  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.writeLoop();
    });
  }

  private async writeLoop(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0 && (this.state === 'open' || this.state === 'closing')) {
        this.observer.onQueueDepth?.(this.queue.length);
        // encode straight from the queue: up to maxBatch commands and about MAX_BATCH_BYTES
        const queue = this.queue;
        const records = this.records;
        records.reset();
        let taken = 0;
        while (taken < queue.length && taken < this.maxBatch && records.length < MAX_BATCH_BYTES) {
          records.append(queue[taken]!.seq, queue[taken]!.command);
          taken++;
        }
        const batch = taken === queue.length ? queue : queue.slice(0, taken);
        this.queue = taken === queue.length ? [] : queue.slice(taken);
        this.inFlight = batch.length;
        await this.commit(batch, records.bytes());
        this.inFlight = 0;
      }
    } finally {
      this.writing = false;
    }
    if (this.state === 'closing' && this.queue.length === 0) this.finishClose();
  }

  /** Journals one batch durably, then applies it. Any I/O error stops the sequencer. */
  private async commit(batch: Entry[], bytes: Buffer): Promise<void> {
    const writer = this.writer!;
    const started = performance.now();
    try {
      writer.write(bytes);
      await writer.sync();
    } catch (error) {
      this.fail(`journal write failed: ${(error as Error).message}`, error, batch);
      return;
    }
    this.observer.onBatch?.(batch.length, bytes.length, performance.now() - started);
    this.apply(batch);
    if (this.state !== 'open' && this.state !== 'closing') return;
    try {
      this.maintain();
    } catch (error) {
      this.fail(`journal segment rotation failed: ${(error as Error).message}`, error, []);
    }
  }

  private apply(batch: Entry[]): void {
    const engine = this.currentEngine!;
    const sink = this.options.onEvents;
    const onApply = this.observer.onApply;
    const all: EngineEvent[] = [];
    const firstSeq = batch[0]!.seq;
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i]!;
      let events: EngineEvent[];
      try {
        if (onApply) {
          const started = process.hrtime.bigint();
          events = engine.apply(entry.command);
          onApply(Number(process.hrtime.bigint() - started));
        } else {
          events = engine.apply(entry.command);
        }
      } catch (error) {
        // The command is durable but the engine broke an invariant: its state can no longer be trusted.
        this.fail(`engine threw on seq ${entry.seq}: ${(error as Error).message}`, error, batch.slice(i));
        return;
      }
      this.appliedSeq = entry.seq;
      this.appliedTimestamp = entry.command.timestamp;
      const command = entry.command;
      entry.resolve(
        command.type === 'PlaceOrder'
          ? { seq: entry.seq, timestamp: command.timestamp, orderId: command.orderId, events }
          : { seq: entry.seq, timestamp: command.timestamp, events },
      );
      if (sink) for (let k = 0; k < events.length; k++) all.push(events[k]!);
    }
    if (sink && all.length > 0) {
      try {
        sink(all, { replay: false, firstSeq, lastSeq: this.appliedSeq });
      } catch (error) {
        this.observer.onSinkError?.(error);
      }
    }
  }

  /** Snapshot every `snapshotEvery` commands (then a new segment and retention), or a new segment when the current one is big. */
  private maintain(): void {
    if (this.appliedSeq >= this.nextSnapshotAt && !(this.snapshotter && this.snapshotInFlight)) this.options.beforeSnapshot?.();
    if (this.appliedSeq >= this.nextSnapshotAt && this.snapshotter) {
      // the segment ends at the snapshot seq, so the child reads only closed segments; retention waits for its answer
      if (!this.snapshotInFlight) {
        this.nextSnapshotAt = this.appliedSeq + this.snapshotEvery;
        this.rotate();
        this.snapshotInFlight = true;
        const request: SnapshotRequest = { type: 'snapshot', seq: this.appliedSeq };
        this.snapshotter.send(request);
      }
    } else if (this.appliedSeq >= this.nextSnapshotAt) {
      this.nextSnapshotAt = this.appliedSeq + this.snapshotEvery;
      const started = performance.now();
      let written: { bytes: number } | undefined;
      try {
        written = writeSnapshot(this.snapshotDir, this.appliedSeq, this.appliedTimestamp, this.currentEngine!.snapshot());
      } catch (error) {
        // the journal still holds everything; only replay gets longer
        this.observer.onWarning?.(`snapshot at seq ${this.appliedSeq} failed: ${(error as Error).message}`);
      }
      if (written) {
        this.observer.onSnapshot?.(this.appliedSeq, written.bytes, performance.now() - started);
        this.rotate();
        this.retain();
        return;
      }
    }
    if (this.writer!.size >= this.segmentMaxBytes) this.rotate();
  }

  private startSnapshotter(settings: NonNullable<SequencerOptions<E>['snapshotProcess']>): void {
    const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const child = fork(fileURLToPath(new URL('./snapshot-process.ts', import.meta.url)), [], {
      execArgv: ['--import', tsxLoader],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const module = settings.module instanceof URL || settings.module.startsWith('file:') ? fileURLToPath(settings.module) : settings.module;
    const init: SnapshotRequest = {
      type: 'init',
      dataDir: path.resolve(this.options.dataDir),
      factoryModule: path.resolve(module),
      factoryExport: settings.exportName ?? 'createEngineFactory',
      factoryArgument: settings.argument ?? null,
    };
    child.send(init);
    // the child must not keep this process alive on its own; close() ends it, a crash orphans it and it exits on disconnect
    child.unref();
    child.channel?.unref();
    child.on('message', (reply: SnapshotReply) => {
      this.snapshotInFlight = false;
      if (reply.type === 'done') {
        this.observer.onSnapshot?.(reply.seq, reply.bytes, reply.ms);
        if (this.state === 'open' || this.state === 'closing') this.retain();
      } else {
        this.observer.onWarning?.(`background snapshot at seq ${reply.seq} failed: ${reply.message}`);
      }
    });
    child.on('exit', (code, signal) => {
      if (this.snapshotter !== child) return; // stopped by close()
      this.snapshotter = undefined;
      this.snapshotInFlight = false;
      this.observer.onWarning?.(`snapshot process exited (${signal ?? code}); snapshots continue on the writer loop`);
    });
    this.snapshotter = child;
  }

  private stopSnapshotter(): void {
    const child = this.snapshotter;
    this.snapshotter = undefined;
    if (child && child.exitCode === null) child.kill('SIGTERM'); // a half-written tmp file is removed at the next open
  }

  private rotate(): void {
    const old = this.writer!;
    old.close(); // already fdatasync'ed with its last batch
    this.writer = SegmentWriter.create(this.journalDir, this.appliedSeq + 1);
  }

  /** Keeps the newest `keepSnapshots` snapshots and the journal back to the oldest of them. */
  private retain(): void {
    try {
      const snapshots = listSnapshots(this.snapshotDir);
      const kept = snapshots.slice(0, this.keepSnapshots);
      for (const old of snapshots.slice(this.keepSnapshots)) fs.rmSync(old.file, { force: true });
      const oldestKept = kept[kept.length - 1];
      if (!oldestKept || this.options.keepJournal) return;
      const segments = listSegments(this.journalDir);
      // the segments whose every seq is at or before the snapshot (never the one being appended to)
      const covered = segments
        .slice(0, coveredSegmentCount(segments, oldestKept.seq))
        .filter((segment) => segment.file !== this.writer!.file);
      for (const segment of covered) fs.rmSync(segment.file, { force: true });
      if (covered.length > 0) fsyncDirectory(this.journalDir);
      if (snapshots.length > kept.length) fsyncDirectory(this.snapshotDir);
    } catch (error) {
      this.observer.onWarning?.(`journal retention failed: ${(error as Error).message}`);
    }
  }

  private fail(message: string, cause: unknown, unfinished: readonly Entry[]): void {
    const failure = new SequencerFailedError(message, { cause });
    this.failure = failure;
    this.state = 'failed';
    for (const entry of unfinished) entry.reject(failure);
    for (const entry of this.queue) entry.reject(failure);
    this.queue = [];
    this.inFlight = 0;
    try {
      this.writer?.close();
    } catch {
      // the failure above is what matters
    }
    if (this.closing) {
      this.unlock();
      this.closing.reject(failure);
    }
  }

  /** a throwing sink is reported, never fatal: the journal, not the projection, is the source of truth */
  private guardedSink(sink: EventSink): EventSink {
    return (events, info) => {
      try {
        sink(events, info);
      } catch (error) {
        this.observer.onSinkError?.(error);
      }
    };
  }

  /** A failed sequencer keeps its lock until close(): nobody else should write before the process decides. */
  private unlock(): void {
    this.stopSnapshotter();
    const release = this.releaseLock;
    this.releaseLock = undefined;
    release?.();
  }

  private finishClose(): void {
    try {
      this.writer?.syncNow();
      this.writer?.close();
      this.state = 'closed';
      this.unlock();
      this.closing?.resolve();
    } catch (error) {
      this.fail(`closing the journal failed: ${(error as Error).message}`, error, []);
    }
  }
}

/** Builds a sequencer that is not yet open: `ready` is false until `await sequencer.open()` has recovered. */
export function createSequencer<E extends MatchingEngine>(options: SequencerOptions<E>): Sequencer<E> {
  return new JournaledSequencer(options);
}

/** createSequencer + open: resolves with a ready sequencer. */
export async function openSequencer<E extends MatchingEngine>(options: SequencerOptions<E>): Promise<Sequencer<E>> {
  const sequencer = createSequencer(options);
  await sequencer.open();
  return sequencer;
}
