/** Every error the sequencer hands to callers carries a stable `code` (the API maps codes to HTTP statuses). */
export abstract class SequencerError extends Error {
  abstract readonly code: string;
}

/** The bounded queue is full (`maxPending` commands queued or being written): answer 503, retry later. No state changed. */
export class SequencerOverloadedError extends SequencerError {
  override name = 'SequencerOverloadedError';
  readonly code = 'SEQUENCER_OVERLOADED';
  constructor(readonly maxPending: number) {
    super(`sequencer queue is full (${maxPending} commands pending)`);
  }
}

/** Recovery has not finished yet (or failed): nothing can be submitted and the engine is not queryable. */
export class SequencerNotReadyError extends SequencerError {
  override name = 'SequencerNotReadyError';
  readonly code = 'SEQUENCER_NOT_READY';
  constructor(message = 'sequencer is not ready (recovery not finished)') {
    super(message);
  }
}

/** `close()` was called: new commands are refused; commands queued before close are still written. */
export class SequencerClosedError extends SequencerError {
  override name = 'SequencerClosedError';
  readonly code = 'SEQUENCER_CLOSED';
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
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The command cannot be journaled (a number that is not a safe integer, a string too long, an unknown type). No state changed. */
export class InvalidCommandError extends SequencerError {
  override name = 'InvalidCommandError';
  readonly code = 'INVALID_COMMAND';
}

/** The journal or a snapshot set is damaged in a way recovery must not guess about; the message says which file and where. */
export class JournalCorruptError extends SequencerError {
  override name = 'JournalCorruptError';
  readonly code = 'JOURNAL_CORRUPT';
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
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(`${dataDir} is in use by another sequencer (pid ${ownerPid})`);
  }
}
