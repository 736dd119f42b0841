/**
 * The spot command stream of `bench:engine` (seeded): funded users, two symbols, about 70 % limit
 * (about 30 % of them crossing the moving mid), 10 % market, 20 % cancel of a random live order.
 * Shared by bench:engine and bench:futures (which measures the spot engine beside its perpetuals).
 */
import { Engine, type Command, type EngineConfig, type Side } from '../../engine/index.ts';
import { seededRandom as random } from '../../sequencer/testing/command-mix.ts';

export const USERS = 1000;
export const SYMBOLS = ['BTC-KRW', 'ETH-KRW'] as const;
const START_MID = [100_000, 5_000]; // ticks: 100,000,000 KRW/BTC and 5,000,000 KRW/ETH

export function funding(): Command[] {
  const commands: Command[] = [];
  for (let userId = 1; userId <= USERS; userId++) {
    commands.push({ type: 'Deposit', userId, asset: 'KRW', amount: 1_000_000_000_000, timestamp: 0 });
    commands.push({ type: 'Deposit', userId, asset: 'BTC', amount: 100_000_000_000, timestamp: 0 });
    commands.push({ type: 'Deposit', userId, asset: 'ETH', amount: 1_000_000_000_000, timestamp: 0 });
  }
  return commands;
}

/** Which markets a stream trades, and the futures extras (none on spot, so its draws stay as they were). */
export interface StreamMarkets {
  readonly symbols: readonly [string, string];
  /** share of placed orders marked reduce-only (perpetuals) */
  readonly reduceOnlyShare: number;
  /** every this many commands, a SetIndexPrices at the current mids (perpetuals; 0 = never) */
  readonly indexEvery: number;
}

export const SPOT_MARKETS: StreamMarkets = { symbols: SYMBOLS, reduceOnlyShare: 0, indexEvery: 0 };

/** The index feed of a perpetual stream: both mids from one source. */
export function indexPrices(markets: StreamMarkets, mids: readonly number[], timestamp: number): Command {
  return {
    type: 'SetIndexPrices',
    prices: markets.symbols.map((symbol, at) => ({ symbol, source: 'bench', price: mids[at]! })),
    timestamp,
  };
}

/** The trading stream; order ids are the command's position, like the sequencer's seq. */
export function generate(count: number, seed: number, markets: StreamMarkets = SPOT_MARKETS): Command[] {
  const next = random(seed);
  const mids = [...START_MID];
  const live: number[][] = [[], []]; // order ids that may still rest, per symbol
  const ownerOf = new Map<number, number>();
  const commands: Command[] = new Array(count);
  for (let index = 0; index < count; index++) {
    const orderId = index + 1;
    const timestamp = 1_700_000_000_000 + index;
    if (markets.indexEvery > 0 && index % markets.indexEvery === 0) {
      commands[index] = indexPrices(markets, mids, timestamp);
      continue;
    }
    const symbolIndex = next() < 0.5 ? 0 : 1;
    const symbol = markets.symbols[symbolIndex]!;
    if (next() < 0.02) mids[symbolIndex]! += next() < 0.5 ? -1 : 1; // the mid wanders
    const mid = mids[symbolIndex]!;
    const roll = next();
    const userId = 1 + Math.floor(next() * USERS);
    const side: Side = next() < 0.5 ? 'Buy' : 'Sell';
    const quantity = 1 + Math.floor(next() * 10);
    if (roll < 0.7) {
      const crossing = next() < 0.3;
      const distance = crossing ? Math.floor(next() * 4) : 1 + Math.floor(next() * 20);
      const price = side === 'Buy' ? (crossing ? mid + distance : mid - distance) : crossing ? mid - distance : mid + distance;
      commands[index] = {
        type: 'PlaceOrder',
        orderId,
        userId,
        symbol,
        side,
        orderType: 'Limit',
        price,
        quantity,
        timeInForce: 'GTC',
        postOnly: false,
        stp: 'ExpireMaker',
        timestamp,
        ...reduceOnly(markets, next),
      };
      live[symbolIndex]!.push(orderId);
      ownerOf.set(orderId, userId);
    } else if (roll < 0.8) {
      commands[index] = {
        type: 'PlaceOrder',
        orderId,
        userId,
        symbol,
        side,
        orderType: 'Market',
        quantity,
        timeInForce: 'IOC',
        postOnly: false,
        stp: 'ExpireMaker',
        timestamp,
        ...reduceOnly(markets, next),
      };
    } else {
      const pool = live[symbolIndex]!;
      if (pool.length === 0) {
        commands[index] = { type: 'CancelOrder', orderId: 0, userId, timestamp };
        continue;
      }
      const at = Math.floor(next() * pool.length);
      const target = pool[at]!;
      pool[at] = pool[pool.length - 1]!;
      pool.pop();
      commands[index] = { type: 'CancelOrder', orderId: target, userId: ownerOf.get(target)!, timestamp };
      ownerOf.delete(target);
    }
  }
  return commands;
}

/** `{reduceOnly: true}` for a share of a perpetual stream's orders; draws nothing on spot. */
function reduceOnly(markets: StreamMarkets, next: () => number): { reduceOnly?: true } {
  return markets.reduceOnlyShare > 0 && next() < markets.reduceOnlyShare ? { reduceOnly: true } : {};
}

export function freshEngine(config: EngineConfig): Engine {
  const engine = new Engine(config);
  for (const command of funding()) engine.apply(command);
  return engine;
}

/** The perpetual stream of bench:futures (and its behaviour guard, futures-stream-hash.ts). */
export const PERP_MARKETS: StreamMarkets = { symbols: ['BTC-KRW-PERP', 'ETH-KRW-PERP'], reduceOnlyShare: 0.1, indexEvery: 1_000 };

/** After `funding()`: half the KRW into the futures wallet; a third of the users isolated; leverage 2–20; the first index. */
export function futuresSetUp(seed: number): Command[] {
  const next = random(seed);
  const commands: Command[] = [];
  for (let userId = 1; userId <= USERS; userId++) {
    commands.push({ type: 'FuturesTransfer', userId, asset: 'KRW', amount: 500_000_000_000, direction: 'SpotToFutures', timestamp: 0 });
    for (const symbol of PERP_MARKETS.symbols) {
      if (next() < 1 / 3) commands.push({ type: 'SetMarginType', userId, symbol, marginType: 'ISOLATED', timestamp: 0 });
      commands.push({ type: 'SetLeverage', userId, symbol, leverage: 2 + Math.floor(next() * 19), timestamp: 0 });
    }
  }
  commands.push(indexPrices(PERP_MARKETS, START_MID, 1_700_000_000_000));
  return commands;
}
