/**
 * `npm run bench:engine`: 1,000,000 commands from a seeded generator through the engine, and the
 * same stream (without ledger) through nodejs-order-book, in one run. Prints ONE JSON line.
 *
 * Stream: two symbols, 1,000 funded users, about 70 % limit (about 30 % of them crossing the
 * moving mid), 10 % market, 20 % cancel of a random live order.
 * Passes: warm-up; throughput (no per-command timing); latency (process.hrtime.bigint around
 * each command, into an HDR histogram — the timer's own cost, measured on empty intervals, is
 * reported as timer_overhead_ns and NOT subtracted); snapshot (snapshot() + JSON.stringify) and restore
 * (JSON.parse + Engine.restore) of the state after the 1M commands, checked by stateHash.
 *
 * Also timed in the same run: BASELINES.md's yardstick, plain price-time matching without ledger or
 * events (ops/bench/plain-matcher.ts), reported as yardstick_commands_per_sec and the engine's
 * ratio to it — the VM's speed moves absolute figures by ±40 % and more between machines.
 *
 * Env: BENCH_COMMANDS (default 1000000), BENCH_SEED (default 1), BENCH_SKIP_PEER=1.
 * Diagnostics (trades, book size, commands per CPU-second) go to stderr.
 */
import { build } from 'hdr-histogram-js';
import { OrderBook, Side as PeerSide } from 'nodejs-order-book';
import { DEFAULT_ENGINE_CONFIG, Engine, type Command, type EngineConfig } from '../../engine/index.ts';
import { freshEngine, generate, SYMBOLS } from './engine-stream.ts';
import { PlainMatcher } from './plain-matcher.ts';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 1_000_000);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const SKIP_PEER = process.env.BENCH_SKIP_PEER === '1';
function runPeer(commands: Command[]): number {
  const books = new Map(SYMBOLS.map((symbol) => [symbol as string, new OrderBook()]));
  const symbolOf = new Map<number, string>();
  const started = process.hrtime.bigint();
  for (const command of commands) {
    if (command.type === 'PlaceOrder') {
      const book = books.get(command.symbol)!;
      const side = command.side === 'Buy' ? PeerSide.BUY : PeerSide.SELL;
      if (command.orderType === 'Limit') {
        book.limit({ id: String(command.orderId), side, size: command.quantity!, price: command.price! });
        symbolOf.set(command.orderId, command.symbol);
      } else book.market({ side, size: command.quantity! });
    } else if (command.type === 'CancelOrder') {
      const symbol = symbolOf.get(command.orderId);
      if (symbol !== undefined) books.get(symbol)!.cancel(String(command.orderId));
    }
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * The same stream through BASELINES.md's yardstick (plain price-time matching, no ledger, no
 * events), best of three after a warm-up: what this VM does today with the least matching work.
 */
function runYardstick(commands: Command[]): number {
  let best = Infinity;
  for (let round = 0; round < 4; round++) {
    const matcher = new PlainMatcher();
    const started = process.hrtime.bigint();
    for (let index = 0; index < commands.length; index++) matcher.apply(commands[index]!);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (round > 0) best = Math.min(best, seconds);
  }
  return best;
}

/** Warm-up on a separate engine (dropped afterwards) so the JIT has seen every path. */
function warmUp(config: EngineConfig): void {
  const warm = freshEngine(config);
  for (const command of generate(Math.min(COMMANDS, 300_000), SEED + 1)) warm.apply(command);
}

/** Throughput: no per-command timing. */
function throughput(config: EngineConfig, commands: Command[]) {
  const engine = freshEngine(config);
  let events = 0;
  const cpuStarted = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let index = 0; index < commands.length; index++) events += engine.apply(commands[index]!).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuUsed = process.cpuUsage(cpuStarted);
  // CPU time of the process (GC helper threads included): how fast the engine is when it is
  // not waiting for a core on a shared machine.
  const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
  return { engine, events, seconds, cpuSeconds };
}

/** Snapshot (snapshot() + JSON.stringify) and restore (JSON.parse + Engine.restore). */
function snapshotAndRestore(config: EngineConfig, engine: Engine) {
  const snapshotStarted = process.hrtime.bigint();
  const serialized = JSON.stringify(engine.snapshot());
  const snapshotMs = Number(process.hrtime.bigint() - snapshotStarted) / 1e6;
  const restoreStarted = process.hrtime.bigint();
  const restored = Engine.restore(config, JSON.parse(serialized));
  const restoreMs = Number(process.hrtime.bigint() - restoreStarted) / 1e6;
  if (restored.stateHash() !== engine.stateHash()) throw new Error('restored state differs');
  return { snapshotMs, restoreMs, bytes: serialized.length };
}

/** Latency: a separate pass timing each command into an HDR histogram (nanoseconds). */
function latency(config: EngineConfig, commands: Command[]) {
  const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: 3 });
  const engine = freshEngine(config);
  for (let index = 0; index < commands.length; index++) {
    const command = commands[index]!;
    const before = process.hrtime.bigint();
    engine.apply(command);
    const elapsed = process.hrtime.bigint() - before;
    histogram.recordValue(Number(elapsed));
  }
  return { histogram, hash: engine.stateHash() };
}

/** Median of 200,000 empty hrtime.bigint intervals: what each latency sample includes besides the command. */
function timerOverhead(): number {
  const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 1_000_000_000, numberOfSignificantValueDigits: 3 });
  for (let index = 0; index < 200_000; index++) {
    const before = process.hrtime.bigint();
    const elapsed = process.hrtime.bigint() - before;
    histogram.recordValue(Number(elapsed));
  }
  return histogram.getValueAtPercentile(50);
}

/** Throughput pass, then snapshot / restore of its final state; only figures leave. */
function throughputAndState(config: EngineConfig, commands: Command[]) {
  const { engine, events, seconds, cpuSeconds } = throughput(config, commands);
  const { snapshotMs, restoreMs, bytes } = snapshotAndRestore(config, engine);
  let resting = 0;
  let levels = 0;
  for (const book of engine.books.values()) {
    for (const side of [book.bids, book.asks]) {
      levels += side.sorted.length;
      for (const level of side.sorted) resting += level.count;
    }
  }
  return { events, seconds, cpuSeconds, snapshotMs, restoreMs, bytes, resting, levels, trades: engine.tradeSeq, hash: engine.stateHash() };
}

function main(): void {
  const config = DEFAULT_ENGINE_CONFIG;
  const commands = generate(COMMANDS, SEED);
  warmUp(config);
  const run = throughputAndState(config, commands);
  const { events, snapshotMs, restoreMs, bytes, resting, levels, trades, hash } = run;
  const timerNs = timerOverhead();
  const { histogram, hash: timedHash } = latency(config, commands);
  if (timedHash !== hash) throw new Error('timed pass diverged from the throughput pass');

  const peerSeconds = SKIP_PEER ? NaN : runPeer(commands);
  const yardstickSeconds = runYardstick(commands);
  const commandsPerSec = commands.length / run.seconds;
  const peerCommandsPerSec = commands.length / peerSeconds;
  const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;
  console.error(
    `engine: ${commands.length} commands, ${events} events, ${trades} trades, ${resting} resting orders on ${levels} levels, ` +
      `snapshot ${Math.round(bytes / 1e5) / 10} MB, ${Math.round(commands.length / run.cpuSeconds / 1000)}k commands per CPU-second`,
  );
  console.log(
    JSON.stringify({
      commands_per_sec: Math.round(commandsPerSec),
      p50_us: round(histogram.getValueAtPercentile(50) / 1000, 3),
      p99_us: round(histogram.getValueAtPercentile(99) / 1000, 3),
      p999_us: round(histogram.getValueAtPercentile(99.9) / 1000, 3),
      peer_commands_per_sec: Math.round(peerCommandsPerSec),
      ratio_vs_peer: round(commandsPerSec / peerCommandsPerSec, 1),
      snapshot_ms: round(snapshotMs, 1),
      restore_ms: round(restoreMs, 1),
      timer_overhead_ns: timerNs,
      // BASELINES.md: ~4,000,000/s on the machine the targets were set on; the 2M target is half of it
      yardstick_commands_per_sec: Math.round(commands.length / yardstickSeconds),
      ratio_vs_yardstick: round(run.seconds > 0 ? yardstickSeconds / run.seconds : NaN, 3),
    }),
  );
}

main();
