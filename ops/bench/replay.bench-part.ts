/**
 * The replay figure of `npm run bench:futures` (issue 19): a journal holding perpetual order flow
 * with the core's price ticks replays at ≥ 0.5 × the speed of a spot journal, same process and run.
 *
 * Two real journals are written in a temp dir with the sequencer's own segment writer and codec
 * (journal.ts, codec.ts: the bytes a running core writes), each from seq 1:
 *  - spot: funding() + the spot stream of bench:engine;
 *  - futures: funding() + futuresSetUp() + the perpetual stream of bench:futures, with a PriceTick
 *    before the first command of every new second of the stream's timestamps (the core journals one
 *    a second while perpetuals exist). The stream's timestamps are shifted so that its middle is an
 *    8-hour funding time: one tick settles funding on every open position of both markets, and
 *    whatever liquidations the ticks' marks cause are replayed with them.
 * Then each is recovered the way the core does at start (recovery.ts `replayJournal`: list segments,
 * read, check frames, decode, apply to a fresh engine, hand the events to a sink) and timed, best of
 * two alternating passes after a warm-up of each. The recovered state hash is checked against the
 * same commands applied directly, so the figure is for a replay that reproduced the state; that
 * direct pass also times the PriceTicks alone, to tell the ticks' share from the order flow's.
 * Env: BENCH_REPLAY_COMMANDS (default 100000) stream commands per journal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine, type Command, type EngineConfig, type EngineEvent } from '../../engine/index.ts';
import { canonicalCommand, RecordWriter } from '../../sequencer/codec.ts';
import { SegmentWriter } from '../../sequencer/journal.ts';
import { journalDirOf, replayJournal } from '../../sequencer/recovery.ts';
import { funding, futuresSetUp, generate, PERP_MARKETS } from './engine-stream.ts';

const EIGHT_HOURS_MS = 8 * 3_600_000;
/** the sequencer's default segment size: the journal is split where a core would split it */
const SEGMENT_MAX_BYTES = 64 * 1024 * 1024;
/** records per write, as a full group commit */
const BATCH = 8_192;

export interface ReplayFigures {
  readonly spot_commands_per_sec: number;
  readonly futures_commands_per_sec: number;
  readonly ratio_vs_spot: number;
  readonly target_ratio: 0.5;
  readonly spot_commands: number;
  readonly futures_commands: number;
  readonly price_ticks: number;
  /** engine time of the PriceTicks (applied directly, funding settlement included) over the futures replay time */
  readonly price_tick_share: number;
  readonly funding_paid: number;
  readonly liquidations: number;
  readonly spot_journal_bytes: number;
  readonly futures_journal_bytes: number;
  readonly state_hash_matches: true;
}

/** The stream's timestamps moved so that its middle is a funding time (only relative times matter to the engine). */
function acrossFundingTime(stream: readonly Command[]): Command[] {
  const first = stream[0]!.timestamp;
  const last = stream.at(-1)!.timestamp;
  const middle = Math.floor((first + last) / 2);
  const shift = Math.ceil(middle / EIGHT_HOURS_MS) * EIGHT_HOURS_MS - middle;
  return stream.map((command) => ({ ...command, timestamp: command.timestamp + shift }));
}

/** A PriceTick at the start of every second the stream enters, as the core's one-a-second timer would journal it. */
function withPriceTicks(stream: readonly Command[]): Command[] {
  const out: Command[] = [];
  let second = -1;
  for (const command of stream) {
    const now = Math.floor(command.timestamp / 1_000);
    if (now !== second) {
      second = now;
      out.push({ type: 'PriceTick', timestamp: now * 1_000 });
    }
    out.push(command);
  }
  return out;
}

/** Writes `commands` as journal records seq 1…n into `dataDir`/journal; returns the bytes written. */
function writeJournal(dataDir: string, commands: readonly Command[]): number {
  const journalDir = journalDirOf(dataDir);
  fs.mkdirSync(journalDir, { recursive: true });
  const records = new RecordWriter();
  let writer = SegmentWriter.create(journalDir, 1);
  let bytes = 0;
  for (let first = 0; first < commands.length; first += BATCH) {
    records.reset();
    const end = Math.min(commands.length, first + BATCH);
    for (let index = first; index < end; index++) records.append(index + 1, canonicalCommand(commands[index]!));
    if (writer.size > SEGMENT_MAX_BYTES) {
      writer.syncNow();
      bytes += writer.size;
      writer.close();
      writer = SegmentWriter.create(journalDir, first + 1);
    }
    writer.write(records.bytes());
  }
  writer.syncNow();
  bytes += writer.size;
  writer.close();
  return bytes;
}

interface Counted {
  seconds: number;
  hash: string;
  commands: number;
  events: Map<string, number>;
}

/** Recovery of `dataDir` from seq 1 into a fresh engine, with a sink counting event types (the core hands every replayed event to its sink). */
async function timeReplay(config: EngineConfig, dataDir: string): Promise<Counted> {
  const events = new Map<string, number>();
  const started = process.hrtime.bigint();
  const replayed = await replayJournal<Engine>({
    dataDir,
    createEngine: () => new Engine(config),
    restoreEngine: () => {
      throw new Error('no snapshot expected');
    },
    onEvents: (batch: readonly EngineEvent[]) => {
      for (const event of batch) events.set(event.type, (events.get(event.type) ?? 0) + 1);
    },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, hash: replayed.engine.stateHash(), commands: replayed.replayedCommands, events };
}

/** The same commands applied without the journal: the state replay must reach, and the engine time of the PriceTicks alone. */
function direct(config: EngineConfig, commands: readonly Command[]): { hash: string; tickSeconds: number } {
  const engine = new Engine(config);
  let tickNanoseconds = 0n;
  for (const command of commands) {
    const canonical = canonicalCommand(command);
    if (canonical.type !== 'PriceTick') {
      engine.apply(canonical);
      continue;
    }
    const started = process.hrtime.bigint();
    engine.apply(canonical);
    tickNanoseconds += process.hrtime.bigint() - started;
  }
  return { hash: engine.stateHash(), tickSeconds: Number(tickNanoseconds) / 1e9 };
}

/** stream commands in each journal (the futures one adds its set-up and ticks) */
const REPLAY_COMMANDS = Number(process.env.BENCH_REPLAY_COMMANDS ?? 100_000);

export async function replayFigures(config: EngineConfig, seed: number, streamCommands = REPLAY_COMMANDS): Promise<ReplayFigures> {
  const spot = [...funding(), ...acrossFundingTime(generate(streamCommands, seed))];
  const futures = [...funding(), ...futuresSetUp(seed), ...withPriceTicks(acrossFundingTime(generate(streamCommands, seed, PERP_MARKETS)))];
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'xtrader-replay-bench-'));
  try {
    const spotDir = path.join(root, 'spot');
    const futuresDir = path.join(root, 'futures');
    const spotBytes = writeJournal(spotDir, spot);
    const futuresBytes = writeJournal(futuresDir, futures);

    await timeReplay(config, spotDir); // warm-up
    await timeReplay(config, futuresDir);
    const spotRuns: Counted[] = [];
    const futuresRuns: Counted[] = [];
    for (let round = 0; round < 2; round++) {
      spotRuns.push(await timeReplay(config, spotDir));
      futuresRuns.push(await timeReplay(config, futuresDir));
    }
    const spotRun = spotRuns.reduce((best, run) => (run.seconds < best.seconds ? run : best));
    const futuresRun = futuresRuns.reduce((best, run) => (run.seconds < best.seconds ? run : best));
    if (spotRun.commands !== spot.length || futuresRun.commands !== futures.length) throw new Error('replay did not read every record');
    const futuresDirect = direct(config, futures);
    if (spotRun.hash !== direct(config, spot).hash || futuresRun.hash !== futuresDirect.hash)
      throw new Error('replayed state differs from the commands applied directly');
    const fundingPaid = futuresRun.events.get('FundingPaid') ?? 0;
    if (fundingPaid === 0) throw new Error('the futures journal settled no funding');

    const spotRate = spot.length / spotRun.seconds;
    const futuresRate = futures.length / futuresRun.seconds;
    return {
      spot_commands_per_sec: Math.round(spotRate),
      futures_commands_per_sec: Math.round(futuresRate),
      ratio_vs_spot: Math.round((futuresRate / spotRate) * 1000) / 1000,
      target_ratio: 0.5,
      spot_commands: spot.length,
      futures_commands: futures.length,
      price_ticks: futures.filter((command) => command.type === 'PriceTick').length,
      price_tick_share: Math.round((futuresDirect.tickSeconds / futuresRun.seconds) * 1000) / 1000,
      funding_paid: fundingPaid,
      liquidations: futuresRun.events.get('Liquidation') ?? 0,
      spot_journal_bytes: spotBytes,
      futures_journal_bytes: futuresBytes,
      state_hash_matches: true,
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
