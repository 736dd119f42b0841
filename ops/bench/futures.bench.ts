/**
 * `npm run bench:futures`: perpetual order flow through the engine — many users opening, growing,
 * reducing and flipping positions (cross and isolated, leverage 2–20, some reduce-only orders, the
 * index moving with the mid) — beside the spot engine on the same stream shape, in the same process
 * and run, so the ratio holds whatever the machine's speed. Prints ONE JSON line.
 *
 * Target (issue 18): perpetual commands/s ≥ 0.5 × spot commands/s. Issue 19 (liquidation-bench.ts):
 * mark_move_ms ≤ 1 with 100,000 open positions, liquidation_shock_ms ≤ 100 for 1,000 liquidations.
 * Passes, each on a fresh engine: warm-up of both; throughput spot, futures, spot, futures (best of
 * two each: a shared 2-core machine moves single passes by tens of percent); latency of the futures
 * stream (hrtime around each command into an HDR histogram, timer cost not subtracted); snapshot and
 * restore of the futures state, checked by state hash; then, on that engine, a mark move with
 * 10,000 resting mark-price TP/SL that fires none (mark-stops.ts; issue 19).
 *
 * Price ticks (issue 19, price-tick.bench-part.ts): a tick with BENCH_OPEN_POSITIONS (default 100,000)
 * open positions and nothing to liquidate (target ≤ 1 ms), and a funding settlement over them
 * (target ≤ 200 ms).
 *
 * Env: BENCH_COMMANDS (default 300000), BENCH_SEED (default 1), BENCH_OPEN_POSITIONS (default 100000),
 * BENCH_TICKS (default 2000).
 */
import { build } from 'hdr-histogram-js';
import { DEFAULT_ENGINE_CONFIG, Engine, type Command, type EngineConfig, type EngineEvent } from '../../engine/index.ts';
import { freshEngine, futuresSetUp, generate, PERP_MARKETS } from './engine-stream.ts';
import { liquidationShockMedianMs, markMoveMs } from './liquidation-bench.ts';
import { markMoveWithStops } from './mark-stops.ts';
import { priceTickFigures } from './price-tick.bench-part.ts';
import { replayFigures, type ReplayFigures } from './replay.bench-part.ts';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 300_000);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const OPEN_POSITIONS = Number(process.env.BENCH_OPEN_POSITIONS ?? 100_000);
const TICKS = Number(process.env.BENCH_TICKS ?? 2_000);
function freshFuturesEngine(config: EngineConfig): Engine {
  const engine = freshEngine(config);
  for (const command of futuresSetUp(SEED)) {
    const refused = engine.apply(command).find((event) => event.type === 'OrderRejected');
    if (refused)
      throw new Error(`set-up command refused: ${JSON.stringify(command)} → ${refused.type === 'OrderRejected' ? refused.reason : ''}`);
  }
  return engine;
}

/** What the futures stream did to positions, from its PositionChanged events: the flow must really open, grow, reduce and flip. */
class PositionMoves {
  readonly counts = { opens: 0, grows: 0, reduces: 0, flips: 0, closes: 0 };
  readonly #sizes = new Map<string, number>();
  rejected = 0;
  placed = 0;

  see(events: readonly EngineEvent[]): void {
    for (const event of events) {
      if (event.type === 'OrderRejected' && event.commandType === 'PlaceOrder') this.rejected++;
      if (event.type === 'OrderAccepted') this.placed++;
      if (event.type !== 'PositionChanged') continue;
      const key = `${event.userId}:${event.symbol}:${event.positionSide}`;
      const before = this.#sizes.get(key) ?? 0;
      const after = event.size;
      this.#sizes.set(key, after);
      if (before === 0 && after !== 0) this.counts.opens++;
      else if (after === 0 && before !== 0) this.counts.closes++;
      else if (Math.sign(before) !== Math.sign(after)) this.counts.flips++;
      else if (Math.abs(after) > Math.abs(before)) this.counts.grows++;
      else if (Math.abs(after) < Math.abs(before)) this.counts.reduces++;
    }
  }
}

function throughput(engine: Engine, commands: readonly Command[]): { seconds: number; events: number } {
  let events = 0;
  const started = process.hrtime.bigint();
  for (let index = 0; index < commands.length; index++) events += engine.apply(commands[index]!).length;
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, events };
}

function main(replay: ReplayFigures): void {
  const config = DEFAULT_ENGINE_CONFIG;
  const spot = generate(COMMANDS, SEED);
  const futures = generate(COMMANDS, SEED, PERP_MARKETS);
  const warm = Math.min(COMMANDS, 100_000);
  throughput(freshEngine(config), generate(warm, SEED + 1));
  throughput(freshFuturesEngine(config), generate(warm, SEED + 1, PERP_MARKETS));

  const spotSeconds: number[] = [];
  const futuresSeconds: number[] = [];
  let futuresEvents = 0;
  for (let round = 0; round < 2; round++) {
    spotSeconds.push(throughput(freshEngine(config), spot).seconds);
    const run = throughput(freshFuturesEngine(config), futures);
    futuresSeconds.push(run.seconds);
    futuresEvents = run.events;
  }

  const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: 3 });
  const moves = new PositionMoves();
  const engine = freshFuturesEngine(config);
  for (let index = 0; index < futures.length; index++) {
    const before = process.hrtime.bigint();
    const events = engine.apply(futures[index]!);
    histogram.recordValue(Number(process.hrtime.bigint() - before));
    moves.see(events);
  }
  const snapshotStarted = process.hrtime.bigint();
  const serialized = JSON.stringify(engine.snapshot());
  const snapshotMs = Number(process.hrtime.bigint() - snapshotStarted) / 1e6;
  const restoreStarted = process.hrtime.bigint();
  const restored = Engine.restore(config, JSON.parse(serialized));
  const restoreMs = Number(process.hrtime.bigint() - restoreStarted) / 1e6;
  if (restored.stateHash() !== engine.stateHash()) throw new Error('restored futures state differs');
  const stops = markMoveWithStops(engine, futures.at(-1)!.timestamp);

  const ticks = priceTickFigures(config, OPEN_POSITIONS, TICKS);

  // issue 19: a mark move over 100,000 open positions with nothing to liquidate; a shock liquidating 1,000
  const markMove = markMoveMs();
  const shock = liquidationShockMedianMs();

  const spotRate = COMMANDS / Math.min(...spotSeconds);
  const futuresRate = COMMANDS / Math.min(...futuresSeconds);
  const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;
  console.error(
    `futures: ${COMMANDS} commands, ${futuresEvents} events, ${moves.placed} orders accepted, ${moves.rejected} refused, snapshot ${round(serialized.length / 1e6, 1)} MB`,
  );
  console.log(
    JSON.stringify({
      futures_commands_per_sec: Math.round(futuresRate),
      spot_commands_per_sec: Math.round(spotRate),
      ratio_vs_spot: round(futuresRate / spotRate, 3),
      target_ratio: 0.5,
      futures_p50_us: round(histogram.getValueAtPercentile(50) / 1000, 3),
      futures_p99_us: round(histogram.getValueAtPercentile(99) / 1000, 3),
      futures_p999_us: round(histogram.getValueAtPercentile(99.9) / 1000, 3),
      futures_events_per_command: round(futuresEvents / COMMANDS, 2),
      position_moves: moves.counts,
      orders_refused: moves.rejected,
      mark_move_ms: round(markMove, 4),
      mark_move_target_ms: 1,
      liquidation_shock_ms: round(shock, 1),
      liquidation_shock_target_ms: 100,
      snapshot_ms: round(snapshotMs, 1),
      restore_ms: round(restoreMs, 1),
      mark_move_with_stops_ms: { p50: round(stops.p50Ms, 4), p99: round(stops.p99Ms, 4), resting_tpsl: stops.resting },
      tick_ms: { p50: ticks.tick_p50_ms, p99: ticks.tick_p99_ms, ticks: ticks.ticks, open_positions: ticks.open_positions, target: 1 },
      funding_ms: { settlement: ticks.funding_ms, positions: ticks.open_positions, events: ticks.funding_events, target: 200 },
      replay, // issue 19: journal replay with price ticks vs spot (replay.bench-part.ts; BENCH_REPLAY_COMMANDS)
      commands: COMMANDS,
      seed: SEED,
    }),
  );
}

main(await replayFigures(DEFAULT_ENGINE_CONFIG, SEED));
