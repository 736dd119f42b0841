/**
 * A seeded, realistic command stream for the real engine's default markets (BTC-KRW, ETH-KRW):
 * deposits for every user first, then limit orders around a slowly moving mid (one in five
 * crossing it), some market orders and cancels of recent orders (and, with `tickEvery`, a Tick
 * now and then). Same seed → same commands, and it assumes the sequencer numbers them 1, 2, … (a
 * PlaceOrder's id is its seq) from `firstSeq`.
 */
import type { CommandInput } from '../types.ts';

/** mulberry32: small, fast, seeded */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CommandMixOptions {
  readonly count: number;
  readonly users?: number;
  readonly seed?: number;
  /** seq the first generated command will get (default 1) */
  readonly firstSeq?: number;
  /** every this many trading commands, one is a Tick (drawing nothing from the random stream); default never */
  readonly tickEvery?: number;
}

export function* commandMix(options: CommandMixOptions): Generator<CommandInput> {
  const users = options.users ?? 1_000;
  const rand = seededRandom(options.seed ?? 42);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  let count = options.count;
  let seq = (options.firstSeq ?? 1) - 1;
  for (let user = 1; user <= users; user++) {
    for (const [asset, amount] of [
      ['KRW', 1_000_000_000_000],
      ['BTC', 10_000_000_000],
      ['ETH', 100_000_000_000],
    ] as const) {
      if (count-- <= 0) return;
      seq++;
      yield { type: 'Deposit', userId: user, asset, amount };
    }
  }
  const markets = [
    { symbol: 'BTC-KRW', mid: 100_000 }, // ticks of 1,000 KRW: 100,000,000 KRW
    { symbol: 'ETH-KRW', mid: 5_000 },
  ];
  const recent: Array<{ orderId: number; userId: number }> = []; // resting candidates for a cancel
  const tickEvery = options.tickEvery ?? 0;
  for (let index = 1; count-- > 0; index++) {
    seq++;
    if (tickEvery > 0 && index % tickEvery === 0) {
      yield { type: 'Tick' };
      continue;
    }
    const market = markets[rand() < 0.6 ? 0 : 1]!;
    if (rand() < 0.002) market.mid = Math.max(100, market.mid + int(-3, 3) * Math.ceil(market.mid / 2_000));
    const userId = int(1, users);
    const roll = rand();
    if (roll < 0.15 && recent.length > 0) {
      // swap-remove: O(1), order of the candidates does not matter
      const index = int(0, recent.length - 1);
      const victim = recent[index]!;
      recent[index] = recent[recent.length - 1]!;
      recent.pop();
      yield { type: 'CancelOrder', userId: victim.userId, orderId: victim.orderId };
      continue;
    }
    const side = rand() < 0.5 ? 'Buy' : 'Sell';
    const quantity = int(1, 50);
    if (roll < 0.22) {
      yield {
        type: 'PlaceOrder',
        userId,
        symbol: market.symbol,
        side,
        orderType: 'Market',
        quantity,
        timeInForce: 'IOC',
        postOnly: false,
        stp: 'ExpireTaker',
      };
      continue;
    }
    const step = Math.max(1, Math.ceil(market.mid / 5_000));
    const offset = int(1, 20) * step * (rand() < 0.2 ? -1 : 1);
    const price = side === 'Buy' ? market.mid - offset : market.mid + offset;
    yield {
      type: 'PlaceOrder',
      userId,
      symbol: market.symbol,
      side,
      orderType: 'Limit',
      price,
      quantity,
      timeInForce: 'GTC',
      postOnly: false,
      stp: 'ExpireTaker',
    };
    recent.push({ orderId: seq, userId });
    if (recent.length > 20_000) recent.splice(0, 10_000); // rare: once per ~10,000 orders
  }
}
