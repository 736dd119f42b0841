/**
 * Ticker events and the Tick command: when a Ticker goes out (a trade or a new best price, at most
 * once per symbol per TICKER_INTERVAL_MS, at the end of the command), what its 24 h figures are,
 * and that the ticker state survives snapshot / restore.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';
import { SNAPSHOT_VERSION } from './snapshot.ts';
import { Driver, fundedDriver, LOT, testConfig } from './test-support.ts';
import { TICKER_INTERVAL_MS, type Command, type EngineEvent, type TickerEvent } from './types.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** a whole minute: 1,700,000,040,000 ms = minute 28,333,334 */
const T0 = 28_333_334 * MINUTE;

let d: Driver;

beforeEach(() => {
  d = fundedDriver();
  d.deposit(1, 'ETH', 100 * LOT);
  d.deposit(2, 'ETH', 100 * LOT);
});

const tickers = (events: EngineEvent[] = d.events): TickerEvent[] =>
  events.filter((event): event is TickerEvent => event.type === 'Ticker');

/** A figures-only ticker (no trade yet in the window, nothing absent spelled out). */
const empty = {
  lastPrice: undefined,
  bestBid: undefined,
  bestAsk: undefined,
  open24h: undefined,
  high24h: undefined,
  low24h: undefined,
  volume24h: 0,
  quoteVolume24h: 0,
};

describe('Ticker emission', () => {
  it('goes out at once on the first change, waits within a second, and a Tick a second later sends it', () => {
    d.at(T0);
    d.sell(1, 5, 1010);
    // The first change of the symbol: its Ticker at the end of the command, after deltas and balances.
    expect(d.types()).toEqual(['OrderAccepted', 'BookDelta', 'BalanceChanged', 'Ticker']);
    expect(tickers()).toEqual([
      { type: 'Ticker', seq: d.engine.lastEventSeq(), timestamp: T0, symbol: 'BTC-KRW', ...empty, bestAsk: 1010 },
    ]);
    expect(d.engine.pendingTickers()).toBe(0);

    d.at(T0 + 400).buy(2, 2, 990); // a new best bid, 400 ms later: waits
    expect(d.types()).toEqual(['OrderAccepted', 'BookDelta', 'BalanceChanged']);
    expect(d.engine.pendingTickers()).toBe(1);
    d.at(T0 + 999);
    expect(d.tick()).toEqual([]); // 999 ms after the last Ticker: still waits
    expect(d.engine.pendingTickers()).toBe(1);

    d.at(T0 + TICKER_INTERVAL_MS);
    const seq = d.engine.lastEventSeq();
    expect(d.tick()).toEqual([
      { type: 'Ticker', seq: seq + 1, timestamp: T0 + 1000, symbol: 'BTC-KRW', ...empty, bestBid: 990, bestAsk: 1010 },
    ]);
    expect(d.engine.pendingTickers()).toBe(0);
    expect(d.tick()).toEqual([]); // nothing changed since
  });

  it('is not made due by a best-bid quantity change or a deeper level; a best price that comes back still waits for its Ticker', () => {
    const bid = d.at(T0).buy(2, 2, 990);
    d.sell(1, 5, 1010);
    d.at(T0 + 5_000).tick();
    expect(tickers()).toMatchObject([{ bestBid: 990, bestAsk: 1010 }]);

    const mark = d.log.length;
    d.at(T0 + 10_000).buy(3, 1, 990); // same best bid price, more quantity
    d.buy(3, 1, 980); // a level behind the best
    d.sell(1, 1, 1050);
    d.amend(2, bid, 1); // the best bid's quantity down
    d.tick();
    expect(d.log.slice(mark).filter((event) => event.type === 'Ticker')).toEqual([]);
    expect(d.engine.pendingTickers()).toBe(0);

    const better = d.buy(3, 1, 1000); // T0 + 10,005: due (10 s since the last), sent at once
    expect(tickers()).toMatchObject([{ timestamp: T0 + 10_005, bestBid: 1000 }]);
    d.at(T0 + 10_500).cancel(3, better); // 990 again, unlike the 1,000 the last Ticker said: waits
    expect(d.engine.pendingTickers()).toBe(1);
    d.at(T0 + 11_005).tick();
    expect(tickers()).toMatchObject([{ bestBid: 990, bestAsk: 1010 }]);
    // Changed and back within the second: the change was seen, so a Ticker still follows (same prices).
    const brief = d.at(T0 + 11_100).buy(3, 1, 995);
    d.cancel(3, brief);
    expect(d.engine.pendingTickers()).toBe(1);
    d.at(T0 + 12_005).tick();
    expect(tickers()).toMatchObject([{ bestBid: 990, bestAsk: 1010 }]);
    expect(d.engine.pendingTickers()).toBe(0);
  });

  it('goes out for a trade even when the best prices stay, and for every due symbol in market order after any command', () => {
    d.at(T0).sell(1, 5, 1010);
    d.sell(1, 5, 3000, { symbol: 'ETH-KRW' });
    expect(d.log.filter((event) => event.type === 'Ticker').map((event) => (event as TickerEvent).symbol)).toEqual(['BTC-KRW', 'ETH-KRW']);

    d.at(T0 + 2_000).buy(2, 1, 1010); // trades; the best ask stays 1010 (4 left)
    expect(tickers()).toEqual([
      {
        type: 'Ticker',
        seq: d.engine.lastEventSeq(),
        timestamp: T0 + 2_000,
        symbol: 'BTC-KRW',
        ...empty,
        lastPrice: 1010,
        bestAsk: 1010,
        open24h: 1010,
        high24h: 1010,
        low24h: 1010,
        volume24h: 1,
        quoteVolume24h: 1010,
      },
    ]);

    // Both symbols change: BTC-KRW's Ticker waits (its last is 100 ms old), ETH-KRW's goes out ...
    d.at(T0 + 2_100).buy(2, 1, 1010);
    expect(d.engine.pendingTickers()).toBe(1);
    d.buy(2, 1, 3000, { symbol: 'ETH-KRW' });
    expect(tickers()).toEqual([
      {
        symbol: 'ETH-KRW',
        ...empty,
        lastPrice: 3000,
        bestAsk: 3000,
        open24h: 3000,
        high24h: 3000,
        low24h: 3000,
        volume24h: 1,
        quoteVolume24h: 3000,
        type: 'Ticker',
        seq: d.engine.lastEventSeq(),
        timestamp: d.time,
      },
    ]);
    // (ETH-KRW's last Ticker was 2.1 s ago: due at once. BTC-KRW's waits until T0 + 3,000.)
    expect(d.engine.pendingTickers()).toBe(1);
    // ... then ANY command flushes it, after its own events: a deposit, a refused cancel.
    d.at(T0 + 3_000);
    expect(d.types(d.deposit(3, 'KRW', 1))).toEqual(['BalanceChanged', 'Ticker']);
    expect(tickers()).toMatchObject([{ symbol: 'BTC-KRW', volume24h: 2, quoteVolume24h: 2020 }]);

    d.at(T0 + 3_200).buy(2, 1, 3000, { symbol: 'ETH-KRW' }); // ETH-KRW: due, sent
    d.at(T0 + 3_300).buy(2, 1, 1010); // both wait now
    d.buy(2, 1, 3000, { symbol: 'ETH-KRW' });
    expect(d.engine.pendingTickers()).toBe(2);
    d.at(T0 + 4_300);
    expect(d.types(d.cancel(1, 999_999))).toEqual(['OrderRejected', 'Ticker', 'Ticker']);
    expect(tickers().map((event) => event.symbol)).toEqual(['BTC-KRW', 'ETH-KRW']); // market-config order
    expect(d.engine.pendingTickers()).toBe(0);
  });

  it('takes a seq of its own, and a Tick that sends nothing takes none', () => {
    d.at(T0).sell(1, 5, 1010);
    const seqs = d.log.flatMap((event) => (event.type === 'Trade' ? [event.seq, event.maker.seq, event.taker.seq] : [event.seq]));
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    const last = d.engine.lastEventSeq();
    d.tick();
    expect(d.engine.lastEventSeq()).toBe(last);
  });
});

describe('Ticker 24 h figures', () => {
  /** One trade of `lots` at `price` on BTC-KRW at `timestamp` (user 1 rests a second before, user 2 takes). */
  const trade = (timestamp: number, price: number, lots: number): void => {
    d.at(timestamp - 1_000).sell(1, lots, price);
    d.at(timestamp).buy(2, lots, price);
    expect(d.trades()).toHaveLength(1);
  };

  it('sum the minute buckets of the last 24 h, the window edge moving a minute at a time', () => {
    trade(T0 + 1_000, 1000, 2); // minute 0 (each trade's Ticker is due: the previous one is a second old or more)
    trade(T0 + 50_000, 1020, 1); // minute 0: bucket open 1000, high 1020, low 1000, 3 lots, 3,020
    trade(T0 + 5 * MINUTE + 7, 990, 4); // minute 5: 3,960
    trade(T0 + 30 * MINUTE, 1050, 1); // minute 30: 1,050
    const all = {
      symbol: 'BTC-KRW',
      lastPrice: 1050,
      bestBid: undefined,
      bestAsk: undefined,
      open24h: 1000,
      high24h: 1050,
      low24h: 990,
      volume24h: 8,
      quoteVolume24h: 8030,
    };
    expect(d.engine.ticker('BTC-KRW', T0 + 31 * MINUTE)).toEqual(all);
    // The Ticker of the last trade said the same.
    expect(tickers()).toEqual([{ type: 'Ticker', seq: d.engine.lastEventSeq(), timestamp: T0 + 30 * MINUTE, ...all }]);
    // Minute 0 counts until the window ending at `now` starts after it: now in minute 1,439 still ...
    expect(d.engine.ticker('BTC-KRW', T0 + DAY - 1)).toEqual(all);
    // ... minute 1,440 drops it,
    expect(d.engine.ticker('BTC-KRW', T0 + DAY)).toEqual({
      ...all,
      open24h: 990,
      high24h: 1050,
      low24h: 990,
      volume24h: 5,
      quoteVolume24h: 5010,
    });
    // minute 1,445 minute 5,
    expect(d.engine.ticker('BTC-KRW', T0 + DAY + 5 * MINUTE)).toEqual({
      ...all,
      open24h: 1050,
      high24h: 1050,
      low24h: 1050,
      volume24h: 1,
      quoteVolume24h: 1050,
    });
    // and after minute 1,470 the window is empty; the last price stays.
    expect(d.engine.ticker('BTC-KRW', T0 + DAY + 30 * MINUTE)).toEqual({
      ...all,
      open24h: undefined,
      high24h: undefined,
      low24h: undefined,
      volume24h: 0,
      quoteVolume24h: 0,
    });
    // Buckets after `now` do not count either.
    expect(d.engine.ticker('BTC-KRW', T0 + 4 * MINUTE)).toEqual({
      ...all,
      high24h: 1020,
      low24h: 1000,
      volume24h: 3,
      quoteVolume24h: 3020,
    });

    // A trade a day later reuses minute 0's slot (minute 1,440): the old bucket is replaced, not added to.
    trade(T0 + DAY + 10_000, 1100, 1);
    const dayLater = { ...all, lastPrice: 1100, open24h: 990, high24h: 1100, low24h: 990, volume24h: 6, quoteVolume24h: 6110 };
    expect(tickers()).toEqual([{ type: 'Ticker', seq: d.engine.lastEventSeq(), timestamp: T0 + DAY + 10_000, ...dayLater }]);
    expect(d.engine.ticker('BTC-KRW', T0 + DAY + 10_000)).toEqual(dayLater);
    expect(d.engine.ticker('BTC-KRW', T0 + 2 * DAY)).toEqual({
      ...dayLater,
      open24h: undefined,
      high24h: undefined,
      low24h: undefined,
      volume24h: 0,
      quoteVolume24h: 0,
    });
  });

  it('are per symbol, with the best prices of now; an unknown symbol has none', () => {
    trade(T0, 1000, 1);
    d.sell(1, 2, 1010);
    d.buy(2, 3, 990);
    expect(d.engine.ticker('BTC-KRW', T0 + MINUTE)).toEqual({
      symbol: 'BTC-KRW',
      lastPrice: 1000,
      bestBid: 990,
      bestAsk: 1010,
      open24h: 1000,
      high24h: 1000,
      low24h: 1000,
      volume24h: 1,
      quoteVolume24h: 1000,
    });
    expect(d.engine.ticker('ETH-KRW', T0 + MINUTE)).toEqual({ symbol: 'ETH-KRW', ...empty });
    expect(d.engine.ticker('DOGE-KRW', T0)).toBeUndefined();
  });
});

describe('ticker state in snapshots', () => {
  /** Trades across minutes and a day, Tickers sent at once, one waiting (across the cut points), a Tick. */
  const streamCommands = (): Command[] => {
    d.at(T0).sell(1, 5, 1010);
    d.at(T0 + 3 * MINUTE).buy(2, 2, 1010); // due: sent
    d.at(T0 + 3 * MINUTE + 100).buy(2, 1, 1010); // waits
    d.at(T0 + 3 * MINUTE + 200).sell(3, 2, 1005); // still waits
    d.at(T0 + 3 * MINUTE + 700).tick(); // too early
    d.at(T0 + 3 * MINUTE + 1_500).tick(); // sends it
    d.at(T0 + 3 * MINUTE + 1_600).buy(2, 1, 1005, { symbol: 'BTC-KRW' }); // waits
    d.at(T0 + DAY + 3 * MINUTE).tick(); // sends it: minute 3's bucket (all the trades) is out of the window now
    d.at(T0 + DAY + 3 * MINUTE + 10).buy(2, 1, 1005); // waits
    return d.commands;
  };

  it('restore to the same events, Tickers and figures as the uninterrupted run, from every point', () => {
    const commands = streamCommands();
    const config = testConfig();
    const whole = new Engine(config);
    const wholeEvents = commands.map((command) => whole.apply(command));
    expect(tickers(wholeEvents.flat()).map((event) => event.timestamp - T0)).toEqual([0, 3 * MINUTE, 3 * MINUTE + 1_500, DAY + 3 * MINUTE]);
    expect(tickers(wholeEvents.flat()).at(-1)).toMatchObject({ lastPrice: 1005, volume24h: 0, quoteVolume24h: 0, open24h: undefined });
    expect(whole.pendingTickers()).toBe(1);
    let pendingAtCut = 0;
    for (let cut = 0; cut <= commands.length; cut++) {
      const head = new Engine(config);
      for (const command of commands.slice(0, cut)) head.apply(command);
      if (head.pendingTickers() > 0) pendingAtCut++;
      const restored = Engine.restore(config, JSON.parse(JSON.stringify(head.snapshot())));
      expect(restored.stateHash()).toBe(head.stateHash());
      expect(restored.pendingTickers()).toBe(head.pendingTickers());
      for (const now of [T0 + 4 * MINUTE, T0 + DAY + 3 * MINUTE - 1, T0 + DAY + 4 * MINUTE])
        expect(restored.ticker('BTC-KRW', now)).toEqual(head.ticker('BTC-KRW', now));
      expect(commands.slice(cut).map((command) => restored.apply(command))).toEqual(wholeEvents.slice(cut));
      expect(restored.stateHash()).toBe(whole.stateHash());
    }
    expect(pendingAtCut).toBeGreaterThanOrEqual(4);
  });

  it('are in the state hash', () => {
    const config = testConfig();
    const a = new Engine(config);
    const b = new Engine(config);
    for (const engine of [a, b]) {
      engine.apply({ type: 'Deposit', userId: 1, asset: 'BTC', amount: 10 * LOT, timestamp: T0 });
      engine.apply({
        type: 'PlaceOrder',
        orderId: 2,
        userId: 1,
        symbol: 'BTC-KRW',
        side: 'Sell',
        orderType: 'Limit',
        price: 1000,
        quantity: 1,
        timeInForce: 'GTC',
        postOnly: false,
        stp: 'ExpireTaker',
        timestamp: T0,
      });
    }
    expect(a.stateHash()).toBe(b.stateHash());
    // Same books and balances, but b's change waits for its Ticker.
    a.apply({
      type: 'PlaceOrder',
      orderId: 3,
      userId: 1,
      symbol: 'BTC-KRW',
      side: 'Sell',
      orderType: 'Limit',
      price: 990,
      quantity: 1,
      timeInForce: 'GTC',
      postOnly: false,
      stp: 'ExpireTaker',
      timestamp: T0 + 2_000,
    });
    b.apply({
      type: 'PlaceOrder',
      orderId: 3,
      userId: 1,
      symbol: 'BTC-KRW',
      side: 'Sell',
      orderType: 'Limit',
      price: 990,
      quantity: 1,
      timeInForce: 'GTC',
      postOnly: false,
      stp: 'ExpireTaker',
      timestamp: T0 + 500,
    });
    expect(b.pendingTickers()).toBe(1);
    expect(a.stateHash()).not.toBe(b.stateHash());
  });

  it('restores a version 3 snapshot (before ticker state) with an empty ticker state', () => {
    const commands = streamCommands().slice(0, -1);
    const config = testConfig();
    const head = new Engine(config);
    for (const command of commands) head.apply(command);
    const current = JSON.parse(JSON.stringify(head.snapshot()));
    expect(current.version).toBe(SNAPSHOT_VERSION);
    const old = { ...current, version: 3, books: current.books.map(({ ticker: _ticker, ...book }: Record<string, unknown>) => book) };
    const restored = Engine.restore(config, old);
    expect(restored.pendingTickers()).toBe(0);
    expect(restored.lastTradePrice('BTC-KRW')).toBe(1005);
    // The 24 h figures start empty (a version 3 snapshot has no buckets) ...
    expect(head.ticker('BTC-KRW', T0 + 4 * MINUTE)).toMatchObject({ volume24h: 4 });
    expect(restored.ticker('BTC-KRW', T0 + 4 * MINUTE)).toEqual({ symbol: 'BTC-KRW', ...empty, lastPrice: 1005, bestAsk: 1005 });
    // ... and no Ticker was ever sent as far as it knows: the next change of the symbol sends one at once.
    const events = restored.apply(d.commands.at(-1)!);
    expect(tickers(events)).toMatchObject([{ symbol: 'BTC-KRW', lastPrice: 1005, volume24h: 1, quoteVolume24h: 1005 }]);
  });
});
