/**
 * Crash-test fixture: opens a sequencer on argv[2] (toy engine, snapshots every argv[3] commands)
 * and submits deposits from 64 concurrent loops as fast as it can, printing each acked seq on its
 * own line. stdout to a pipe is synchronous on Linux, so a printed seq was acked before any kill.
 */
import { openSequencer } from '../index.ts';
import { toyFactory } from './toy-engine.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: kill-child.ts <dataDir> [snapshotEvery]');
const snapshotEvery = Number(process.argv[3] ?? 0);

const sequencer = await openSequencer({ dataDir, ...toyFactory, snapshotEvery, maxPending: 10_000 });
process.stdout.write(`ready ${sequencer.lastSeq}\n`);

async function loop(worker: number): Promise<void> {
  for (let i = 0; ; i++) {
    const { seq } = await sequencer.submit({ type: 'Deposit', userId: worker, asset: 'KRW', amount: 1 + (i % 1000) });
    process.stdout.write(`${seq}\n`);
  }
}

await Promise.all(Array.from({ length: 64 }, (_, worker) => loop(worker + 1)));
