import type {
  AmendOrderCommand,
  CancelOrderCommand,
  Command,
  DepositCommand,
  EngineEvent,
  EngineQueries as EngineReadPort,
  EngineSnapshot,
  MatchingEngine,
  FuturesCommand,
  PlaceOrderCommand,
  TickCommand,
  WithdrawCommand,
} from '../engine/types.ts';

/**
 * What callers submit: an engine command without the fields the sequencer assigns.
 * `timestamp` is stamped from the injected clock; a PlaceOrder's `orderId` is its `seq`.
 */
export type CommandInput =
  | Omit<PlaceOrderCommand, 'timestamp' | 'orderId'>
  | Omit<CancelOrderCommand, 'timestamp'>
  | Omit<AmendOrderCommand, 'timestamp'>
  | Omit<DepositCommand, 'timestamp'>
  | Omit<WithdrawCommand, 'timestamp'>
  | Omit<TickCommand, 'timestamp'>
  | (FuturesCommand extends infer C ? (C extends FuturesCommand ? Omit<C, 'timestamp'> : never) : never);

/** Resolved once the command is durable in the journal and has been applied to the engine. */
export interface SubmitResult {
  /** gap-free command sequence number, 1-based */
  readonly seq: number;
  /** ms, as stamped on the command (never decreases from one seq to the next) */
  readonly timestamp: number;
  /** PlaceOrder only: the order id, equal to `seq` */
  readonly orderId?: number;
  /** the engine's events for this command, in order */
  readonly events: readonly EngineEvent[];
}

export interface EventBatchInfo {
  /** true while recovery replays the journal (projections rebuild), false for live commands */
  readonly replay: boolean;
  /** command seq range this batch of events came from (inclusive) */
  readonly firstSeq: number;
  readonly lastSeq: number;
}

/**
 * Receives every event the engine emits, batch by batch, in order, exactly once per process
 * lifetime (replayed ones first, flagged `replay: true`). Called synchronously on the writer
 * loop: keep it cheap (copy/enqueue, do not do I/O inline). It runs before any of the batch's
 * `submit` promises settle, so code continuing after an ack sees projections that include that
 * command's events. An exception is reported to `observer.onSinkError` and does not stop the
 * sequencer (nor recovery).
 */
export type EventSink = (events: readonly EngineEvent[], info: EventBatchInfo) => void;

/** Metrics hooks; all optional, all synchronous and cheap. */
export interface SequencerObserver {
  /**
   * one group commit: commands in the batch, bytes written, and ms from the start of the write until
   * the fdatasync's completion ran on the event loop (so a busy loop shows up here too)
   */
  onBatch?(size: number, bytes: number, fsyncMs: number): void;
  /** engine time for one command, in nanoseconds */
  onApply?(nanoseconds: number): void;
  /** commands queued or being written, sampled at each batch start */
  onQueueDepth?(depth: number): void;
  /** a snapshot was written (blocks the writer loop for `ms`) */
  onSnapshot?(seq: number, bytes: number, ms: number): void;
  /** recovery finished */
  onRecovered?(info: RecoveryInfo): void;
  /** something recoverable went wrong: a corrupt snapshot skipped, a torn tail truncated */
  onWarning?(message: string): void;
  onSinkError?(error: unknown): void;
}

export interface RecoveryInfo {
  /** seq of the snapshot recovery started from (0 = empty engine) */
  readonly snapshotSeq: number;
  readonly replayedCommands: number;
  readonly lastSeq: number;
  readonly ms: number;
  /** a torn last record was found (and, when opening for writing, truncated off) */
  readonly tornTail?: { readonly file: string; readonly offset: number; readonly droppedBytes: number };
}

export interface EngineFactory<E extends MatchingEngine> {
  /** a fresh, empty engine (e.g. `() => new Engine(config)`) */
  createEngine(): E;
  /** an engine rebuilt from one of its snapshots (e.g. `(s) => Engine.restore(config, s)`); may throw on a bad snapshot */
  restoreEngine(snapshot: EngineSnapshot): E;
}

export interface SequencerOptions<E extends MatchingEngine> extends EngineFactory<E> {
  /** journal in `${dataDir}/journal/`, snapshots in `${dataDir}/snapshots/` */
  readonly dataDir: string;
  /** ms clock; default Date.now */
  readonly now?: () => number;
  readonly onEvents?: EventSink;
  /** commands queued + being written before `submit` refuses with SequencerOverloadedError; default 100,000 */
  readonly maxPending?: number;
  /** commands per group commit at most; default 8,192 */
  readonly maxBatch?: number;
  /** write a snapshot after this many commands since the last one; 0 = never; default 100,000 */
  readonly snapshotEvery?: number;
  /** snapshots kept (the journal is kept back to the oldest of them); default 2, minimum 1 */
  readonly keepSnapshots?: number;
  /** never delete journal segments, even when snapshots cover them (full audit trail, replay from seq 1); default false */
  readonly keepJournal?: boolean;
  /** start a new journal segment once the current one exceeds this size; default 64 MiB */
  readonly segmentMaxBytes?: number;
  readonly observer?: SequencerObserver;
  /**
   * Write snapshots in a child process that follows the journal with its own engine replica, so the
   * writer loop never stops to serialize a big state. `module` (path or file URL) exports
   * `exportName` (default 'createEngineFactory'): an EngineFactory, or a function taking `argument`
   * (JSON-serializable, e.g. the EngineConfig) and returning one — see engine-factory.ts. Without
   * this option snapshots are written synchronously on the writer loop.
   */
  readonly snapshotProcess?: { readonly module: string | URL; readonly exportName?: string; readonly argument?: unknown };
  /**
   * Recovery starts only from a snapshot this accepts (newest first; none → the whole journal).
   * The event log uses it: a snapshot whose engine is past the events the log holds cannot re-derive them.
   */
  readonly acceptSnapshot?: (engine: E) => boolean;
  /** called on the writer loop just before a snapshot is requested (the event log syncs here, so no snapshot is ever ahead of it on disk) */
  readonly beforeSnapshot?: () => void;
}

/**
 * The engine's read side, for the API: the engine's own query port (engine/types.ts) plus the two
 * figures /ready and /admin read — nothing that applies a command or changes state.
 */
export type EngineQueries = EngineReadPort & Pick<MatchingEngine, 'lastEventSeq' | 'stateHash'>;

export interface Sequencer<E extends MatchingEngine = MatchingEngine> {
  /** Recovers (snapshot + journal replay); resolves when ready. Rejects with JournalCorruptError on a damaged journal. */
  open(): Promise<void>;
  /** true once recovery finished and until close()/failure */
  readonly ready: boolean;
  /**
   * The engine, for read-only queries (never call apply()). Throws SequencerNotReadyError before
   * recovery finished. It reflects every command whose ack has been released.
   */
  readonly engine: E;
  /** The same engine typed as its read side only (what the API is given); throws SequencerNotReadyError likewise. */
  readonly queries: EngineQueries;
  /** seq of the last command applied to the engine (0 = none) */
  readonly lastSeq: number;
  /** commands queued or being written */
  readonly pending: number;
  readonly maxPending: number;
  /**
   * Queues a command. Never throws: problems come back as a rejected promise — SequencerOverloadedError
   * (queue full), SequencerNotReadyError, SequencerClosedError, InvalidCommandError (nothing was
   * queued in those cases) or SequencerFailedError (journal I/O failed; outcome unknown).
   * Resolves after the command's journal batch is fdatasync'ed and the command applied.
   */
  submit(command: CommandInput): Promise<SubmitResult>;
  /** Refuses new commands, writes and applies everything already queued, syncs and closes the journal. */
  close(): Promise<void>;
}

/** A command as journaled: the engine command plus its seq (timestamp lives on the command). */
export interface JournalRecord {
  readonly seq: number;
  readonly command: Command;
}
