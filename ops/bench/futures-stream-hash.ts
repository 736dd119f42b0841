/**
 * Behaviour guard for futures performance work: runs bench:futures' stream (same set-up, same
 * generator) through a fresh engine and prints one JSON line with a SHA-256 of every emitted event
 * (in order, BigInt as decimal) and the final engine.stateHash(). An optimisation must leave both
 * unchanged. Env: GUARD_COMMANDS (default 50000), BENCH_SEED (default 1), GUARD_RESTORE_AT (a
 * command index: the engine is snapshotted, restored from JSON and continues there; both hashes
 * must not change).
 */
import { createHash } from 'node:crypto';
import { DEFAULT_ENGINE_CONFIG, Engine } from '../../engine/index.ts';
import { freshEngine, futuresSetUp, generate, PERP_MARKETS } from './engine-stream.ts';

const COMMANDS = Number(process.env.GUARD_COMMANDS ?? 50_000);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const RESTORE_AT = Number(process.env.GUARD_RESTORE_AT ?? -1);
const bigintAsText = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

let engine = freshEngine(DEFAULT_ENGINE_CONFIG);
const hash = createHash('sha256');
let events = 0;
const commands = [...futuresSetUp(SEED), ...generate(COMMANDS, SEED, PERP_MARKETS)];
for (let index = 0; index < commands.length; index++) {
  const command = commands[index]!;
  if (index === RESTORE_AT) engine = Engine.restore(DEFAULT_ENGINE_CONFIG, JSON.parse(JSON.stringify(engine.snapshot())));
  for (const event of engine.apply(command)) {
    hash.update(JSON.stringify(event, bigintAsText));
    hash.update('\n');
    events++;
  }
}
console.log(
  JSON.stringify({
    commands: COMMANDS,
    seed: SEED,
    restoredAt: RESTORE_AT,
    events,
    eventsHash: hash.digest('hex'),
    stateHash: engine.stateHash(),
  }),
);
