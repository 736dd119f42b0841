/**
 * Crash-test fixture: `kill-child.ts <dataDir> <snapshotEvery> <toy|engine>` opens a sequencer on
 * dataDir and submits commands from 64 concurrent loops as fast as it can, printing each acked seq
 * on its own line. stdout to a pipe is synchronous on Linux, so a printed seq was acked before any
 * kill. `toy`: deposits into the toy engine; `engine`: the real engine with the seeded order mix.
 */
import { DEFAULT_ENGINE_CONFIG, Engine, type EngineSnapshot, type MatchingEngine } from '../../engine/index.ts';
import { ENGINE_FACTORY_MODULE, openSequencer } from '../index.ts';
import type { CommandInput, EngineFactory } from '../types.ts';
import { commandMix } from './command-mix.ts';
import { toyFactory } from './toy-engine.ts';

const [dataDir, snapshotArgument = '0', kind = 'toy'] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: kill-child.ts <dataDir> [snapshotEvery] [toy|engine]');

const factory: EngineFactory<MatchingEngine> =
  kind === 'engine'
    ? {
        createEngine: () => new Engine(DEFAULT_ENGINE_CONFIG),
        restoreEngine: (snapshot: EngineSnapshot) => Engine.restore(DEFAULT_ENGINE_CONFIG, snapshot),
      }
    : toyFactory;

const sequencer = await openSequencer({
  dataDir,
  ...factory,
  snapshotEvery: Number(snapshotArgument),
  keepJournal: true,
  maxPending: 10_000,
  // the real engine's snapshots come from the background process, which must die with this one
  ...(kind === 'engine' ? { snapshotProcess: { module: ENGINE_FACTORY_MODULE, argument: DEFAULT_ENGINE_CONFIG } } : {}),
});
process.stdout.write(`ready ${sequencer.lastSeq}\n`);

// submit() assigns seqs synchronously, so the generator's n-th command gets seq lastSeq + n
const orders = commandMix({ count: Number.MAX_SAFE_INTEGER, users: 200, seed: sequencer.lastSeq + 1, firstSeq: sequencer.lastSeq + 1 });
let deposits = 0;
const next = (worker: number): CommandInput =>
  kind === 'engine'
    ? (orders.next().value as CommandInput)
    : { type: 'Deposit', userId: worker, asset: 'KRW', amount: 1 + (deposits++ % 1000) };

async function loop(worker: number): Promise<void> {
  while (true) {
    const { seq } = await sequencer.submit(next(worker));
    process.stdout.write(`${seq}\n`);
  }
}

await Promise.all(Array.from({ length: 64 }, (_, worker) => loop(worker + 1)));
