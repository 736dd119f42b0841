/**
 * What a refusal means to whoever asked, whichever part raised it (the sequencer, the core's event
 * log, the user store). The API answers each kind one way (api/errors.ts, ANSWER_BY_KIND); an error
 * says its kind in a `kind` field and needs no common base class for it.
 * - `overloaded`: a bound is reached (queue, event log); nothing changed, retry shortly
 * - `not_ready`: recovering, closed, or could not open; nothing changed
 * - `outcome_unknown`: the journal failed; the command may or may not be recorded
 * - `invalid_command`: the command cannot be journaled (a caller bug); nothing changed
 * - `unavailable`: a store the request needs cannot be reached; nothing changed
 */
export type ErrorKind = 'overloaded' | 'not_ready' | 'outcome_unknown' | 'invalid_command' | 'unavailable';

/** Every error the sequencer hands to callers carries a stable `code` (which error) and a `kind` (what it means to the caller). */
export abstract class SequencerError extends Error {
  abstract readonly code: string;
  abstract readonly kind: ErrorKind;
}

/** The bounded queue is full (`maxPending` commands queued or being written): answer 503, retry later. No state changed. */
export class SequencerOverloadedError extends SequencerError {
  override name = 'SequencerOverloadedError';
  readonly code = 'SEQUENCER_OVERLOADED';
  readonly kind = 'overloaded';
  constructor(readonly maxPending: number) {
    super(`sequencer queue is full (${maxPending} commands pending)`);
  }
}

/** Recovery has not finished yet (or failed): nothing can be submitted and the engine is not queryable. */
export class SequencerNotReadyError extends SequencerError {
  override name = 'SequencerNotReadyError';
  readonly code = 'SEQUENCER_NOT_READY';
  readonly kind = 'not_ready';
  constructor(message = 'sequencer is not ready (recovery not finished)') {
    super(message);
  }
}

/** `close()` was called: new commands are refused; commands queued before close are still written. */
export class SequencerClosedError extends SequencerError {
  override name = 'SequencerClosedError';
  readonly code = 'SEQUENCER_CLOSED';
  readonly kind = 'not_ready';
  constructor() {
    super('sequencer is closed');
  }
}

/**
 * Writing or syncing the journal failed (or the engine broke an invariant). The sequencer stops:
 * commands in flight are rejected with this error and their outcome is unknown (they may or may not
 * be in the journal — the next start decides). Restart the process to recover.
 */
export class SequencerFailedError extends SequencerError {
  override name = 'SequencerFailedError';
  readonly code = 'SEQUENCER_FAILED';
  readonly kind = 'outcome_unknown';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The command cannot be journaled (a number that is not a safe integer, a string too long, an unknown type). No state changed. */
export class InvalidCommandError extends SequencerError {
  override name = 'InvalidCommandError';
  readonly code = 'INVALID_COMMAND';
  readonly kind = 'invalid_command';
}

/** The journal or a snapshot set is damaged in a way recovery must not guess about; the message says which file and where. */
export class JournalCorruptError extends SequencerError {
  override name = 'JournalCorruptError';
  readonly code = 'JOURNAL_CORRUPT';
  readonly kind = 'not_ready';
  constructor(
    message: string,
    readonly file: string,
    readonly offset: number,
  ) {
    super(`${message} (${file} at byte ${offset})`);
  }
}

/** Another live sequencer (this process or another) owns the data directory. */
export class DataDirLockedError extends SequencerError {
  override name = 'DataDirLockedError';
  readonly code = 'DATA_DIR_LOCKED';
  readonly kind = 'not_ready';
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(`${dataDir} is in use by another sequencer (pid ${ownerPid})`);
  }
}
