import type { MatchingEngine } from '../engine/types.ts';
import type { EngineFactory, EventSink, JournalRecord } from './types.ts';

export interface ReplayOptions<E extends MatchingEngine> extends EngineFactory<E> {
  readonly dataDir: string;
  /** start from the latest valid snapshot (default true); false = replay the whole journal into a fresh engine (needs every segment) */
  readonly useSnapshots?: boolean;
  /** stop after this seq (inclusive) */
  readonly toSeq?: number;
  readonly onEvents?: EventSink;
}

export interface ReplayResult<E extends MatchingEngine> {
  readonly engine: E;
  readonly lastSeq: number;
  readonly lastTimestamp: number;
  readonly snapshotSeq: number;
  readonly replayedCommands: number;
  /** set when the last record of the journal is torn (read-only: the file is left as it is) */
  readonly tornTail?: { readonly file: string; readonly offset: number; readonly droppedBytes: number };
}

/**
 * Offline, read-only rebuild of the engine from `dataDir` (snapshot + journal). Safe to run while a
 * live sequencer appends to the same directory: it stops at the last complete record.
 */
export async function replayJournal<E extends MatchingEngine>(_options: ReplayOptions<E>): Promise<ReplayResult<E>> {
  throw new Error('not implemented yet');
}

/** Every complete journal record with seq ≥ fromSeq, in order (read-only). */
export function readJournalRecords(_dataDir: string, _fromSeq = 1): Iterable<JournalRecord> {
  throw new Error('not implemented yet');
}
