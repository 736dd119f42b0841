/**
 * The background snapshot writer: a child process with its own replica of the engine, kept by
 * following the journal, so the sequencer's writer loop never stops to serialize a big state.
 *
 * The sequencer forks this file (`node --import tsx`), sends `init` with the data directory and the
 * module that exports the engine factory, then `snapshot` requests, one at a time, each for a seq
 * that ends a closed journal segment. The replica catches up to that seq (loading the newest
 * snapshot the first time), writes the snapshot atomically and answers `done` or `failed`. When the
 * parent goes away (close, crash, kill -9) the IPC channel closes and this process exits.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MatchingEngine } from '../engine/types.ts';
import { recover, snapshotDirOf } from './recovery.ts';
import { writeSnapshot } from './snapshots.ts';
import type { EngineFactory } from './types.ts';

export type SnapshotRequest =
  | {
      readonly type: 'init';
      readonly dataDir: string;
      readonly factoryModule: string;
      readonly factoryExport: string;
      /** passed to the export when it is a function (e.g. the EngineConfig) */
      readonly factoryArgument: unknown;
    }
  | { readonly type: 'snapshot'; readonly seq: number };

export type SnapshotReply =
  | { readonly type: 'done'; readonly seq: number; readonly bytes: number; readonly ms: number }
  | { readonly type: 'failed'; readonly seq: number; readonly message: string };

let dataDir = '';
let factory: EngineFactory<MatchingEngine> | undefined;
let replica: { engine: MatchingEngine; seq: number; timestamp: number } | undefined;
let work: Promise<void> = Promise.resolve();

const reply = (message: SnapshotReply): void => {
  process.send?.(message);
};

async function snapshotAt(seq: number): Promise<void> {
  const started = performance.now();
  try {
    if (!factory) throw new Error('snapshot process not initialised');
    const caughtUp = await recover({ dataDir, ...factory, toSeq: seq, ...(replica ? { startFrom: replica } : {}) });
    replica = { engine: caughtUp.engine, seq: caughtUp.lastSeq, timestamp: caughtUp.lastTimestamp };
    if (caughtUp.lastSeq !== seq) throw new Error(`the journal ends at seq ${caughtUp.lastSeq}, before ${seq}`);
    const written = writeSnapshot(snapshotDirOf(dataDir), seq, caughtUp.lastTimestamp, caughtUp.engine.snapshot());
    reply({ type: 'done', seq, bytes: written.bytes, ms: performance.now() - started });
  } catch (error) {
    replica = undefined; // start over from the newest snapshot next time
    reply({ type: 'failed', seq, message: (error as Error).message });
  }
}

async function handle(message: SnapshotRequest): Promise<void> {
  if (message.type === 'init') {
    dataDir = message.dataDir;
    const module = (await import(pathToFileURL(path.resolve(message.factoryModule)).href)) as Record<string, unknown>;
    let exported = module[message.factoryExport] as
      EngineFactory<MatchingEngine> | ((argument: unknown) => EngineFactory<MatchingEngine>) | undefined;
    if (typeof exported === 'function') exported = exported(message.factoryArgument);
    if (!exported || typeof exported.createEngine !== 'function' || typeof exported.restoreEngine !== 'function') {
      throw new Error(`${message.factoryModule} does not export an engine factory named ${message.factoryExport}`);
    }
    factory = exported;
  } else {
    await snapshotAt(message.seq);
  }
}

process.on('message', (message: SnapshotRequest) => {
  work = work
    .then(() => handle(message))
    .catch((error: unknown) => {
      console.error(`snapshot process: ${(error as Error).message}`);
      process.exit(1);
    });
});
process.on('disconnect', () => process.exit(0));
