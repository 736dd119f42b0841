/** Public surface of the sequencer: the single FIFO entry to the engine (see README.md). */
export { createSequencer, openSequencer } from './sequencer.ts';
export { replayJournal, readJournalRecords } from './recovery.ts';
export { createEngineFactory, ENGINE_FACTORY_MODULE } from './engine-factory.ts';
export type { ReplayOptions, ReplayResult } from './recovery.ts';
export {
  SequencerError,
  SequencerOverloadedError,
  SequencerNotReadyError,
  SequencerClosedError,
  SequencerFailedError,
  InvalidCommandError,
  JournalCorruptError,
  DataDirLockedError,
} from './errors.ts';
export type { ErrorKind } from './errors.ts';
export type {
  CommandInput,
  SubmitResult,
  EventSink,
  EventBatchInfo,
  SequencerObserver,
  RecoveryInfo,
  EngineFactory,
  SequencerOptions,
  Sequencer,
  EngineQueries,
  JournalRecord,
} from './types.ts';
