/**
 * Test support (pure, used by the engine's *.test.ts files): a small driver that stamps
 * timestamps and order ids like the sequencer does, and draws a book as a `bid | price | ask`
 * table so scenario tests read like the domain.
 */
import { Engine } from './engine.ts';
import { buildEngineConfig, DEFAULT_RAW_CONFIG, type RawMarketConfig } from './markets.ts';
import { DEFAULT_PERP_MARKETS } from './perp/perp-market.ts';
import type {
  Command,
  EngineConfig,
  EngineEvent,
  OrderType,
  PlaceOrderCommand,
  SelfTradePrevention,
  Side,
  TimeInForce,
  TradeEvent,
} from './types.ts';

/**
 * A market where hand arithmetic is easy: 1 tick × 1 lot = 1 KRW, no minimum notional,
 * maker fee 0.1 % (1000 ppm), taker fee 0.2 % (2000 ppm). A lot is 0.001 BTC = 100,000 satoshi.
 */
export function testConfig(patch: Partial<RawMarketConfig> = {}, recentFinishedLimit = 1000): EngineConfig {
  return buildEngineConfig({
    ...DEFAULT_RAW_CONFIG,
    markets: DEFAULT_RAW_CONFIG.markets.map((market) => ({ ...market, minNotional: '0', ...patch })),
    recentFinishedLimit,
    perpetualMarkets: DEFAULT_PERP_MARKETS,
  });
}

export interface OrderOptions {
  symbol?: string;
  type?: OrderType;
  price?: number;
  quantity?: number;
  stopPrice?: number;
  quoteAmount?: number;
  tif?: TimeInForce;
  postOnly?: boolean;
  stp?: SelfTradePrevention;
  clientOrderId?: string;
}

/** base minor units (satoshi) in one lot of the test market */
export const LOT = 100_000;

/** A driver whose users 1, 2 and 3 each hold 1,000,000 KRW and 100 lots of BTC — the scenario tests' start. */
export function fundedDriver(): Driver {
  const driver = new Driver();
  for (const user of [1, 2, 3]) {
    driver.deposit(user, 'KRW', 1_000_000);
    driver.deposit(user, 'BTC', 100 * LOT);
  }
  return driver;
}

export class Driver {
  readonly engine: Engine;
  /** the sequencer's counter: order ids are the command's seq */
  commandSeq = 0;
  time = 1_700_000_000_000;
  /** events of the last command */
  events: EngineEvent[] = [];
  readonly log: EngineEvent[] = [];
  readonly commands: Command[] = [];

  constructor(config: EngineConfig = testConfig()) {
    this.engine = new Engine(config);
  }

  apply(command: Command): EngineEvent[] {
    this.commands.push(command);
    this.events = this.engine.apply(command);
    this.log.push(...this.events);
    return this.events;
  }

  private stamp(): { seq: number; timestamp: number } {
    this.time += 1;
    return { seq: ++this.commandSeq, timestamp: this.time };
  }

  deposit(userId: number, asset: string, amount: number): EngineEvent[] {
    const { timestamp } = this.stamp();
    return this.apply({ type: 'Deposit', userId, asset, amount, timestamp });
  }

  withdraw(userId: number, asset: string, amount: number): EngineEvent[] {
    const { timestamp } = this.stamp();
    return this.apply({ type: 'Withdraw', userId, asset, amount, timestamp });
  }

  /** Places an order and returns its id (the command's seq). */
  place(userId: number, side: Side, options: OrderOptions): number {
    const { seq, timestamp } = this.stamp();
    const type = options.type ?? (options.price === undefined ? 'Market' : 'Limit');
    const command: PlaceOrderCommand = {
      type: 'PlaceOrder',
      orderId: seq,
      userId,
      symbol: options.symbol ?? 'BTC-KRW',
      side,
      orderType: type,
      price: options.price,
      stopPrice: options.stopPrice,
      quantity: options.quantity,
      quoteAmount: options.quoteAmount,
      timeInForce: options.tif ?? (type === 'Market' || type === 'StopMarket' ? 'IOC' : 'GTC'),
      postOnly: options.postOnly ?? false,
      stp: options.stp ?? 'ExpireTaker',
      clientOrderId: options.clientOrderId,
      timestamp,
    };
    this.apply(command);
    return seq;
  }

  buy(userId: number, quantity: number, price?: number, options: OrderOptions = {}): number {
    return this.place(userId, 'Buy', { quantity, price, ...options });
  }

  sell(userId: number, quantity: number, price?: number, options: OrderOptions = {}): number {
    return this.place(userId, 'Sell', { quantity, price, ...options });
  }

  cancel(userId: number, orderId: number): EngineEvent[] {
    const { timestamp } = this.stamp();
    return this.apply({ type: 'CancelOrder', userId, orderId, timestamp });
  }

  amend(userId: number, orderId: number, newQuantity: number): EngineEvent[] {
    const { timestamp } = this.stamp();
    return this.apply({ type: 'AmendOrder', userId, orderId, newQuantity, timestamp });
  }

  /** A Tick command (lets time pass; journaled like any command, so it takes a seq too). */
  tick(): EngineEvent[] {
    const { timestamp } = this.stamp();
    return this.apply({ type: 'Tick', timestamp });
  }

  /** The next command's timestamp will be `timestamp` (they go up by 1 ms per command otherwise). */
  at(timestamp: number): this {
    this.time = timestamp - 1;
    return this;
  }

  /** The book as `bid | price | ask` rows, highest price first (level totals). */
  table(symbol = 'BTC-KRW'): string {
    const depth = this.engine.depth(symbol, 1000);
    const rows = [
      ...depth.asks.map((level) => ({ price: level.price, bid: '', ask: String(level.quantity) })),
      ...depth.bids.map((level) => ({ price: level.price, bid: String(level.quantity), ask: '' })),
    ].sort((a, b) => b.price - a.price);
    return ['bid | price | ask', ...rows.map((row) => `${row.bid} | ${row.price} | ${row.ask}`.trim())].join('\n');
  }

  /** Trades of the last command as [price, quantity, makerOrderId, takerOrderId]. */
  trades(events: EngineEvent[] = this.events): [number, number, number, number][] {
    return events
      .filter((event): event is TradeEvent => event.type === 'Trade')
      .map((trade) => [trade.price, trade.quantity, trade.maker.orderId, trade.taker.orderId]);
  }

  types(events: EngineEvent[] = this.events): string[] {
    return events.map((event) => event.type);
  }

  balance(userId: number, asset: string): { available: number; locked: number } {
    const view = this.engine.balances(userId).find((balance) => balance.asset === asset);
    return { available: view?.available ?? 0, locked: view?.locked ?? 0 };
  }

  rejection(events: EngineEvent[] = this.events): string | undefined {
    const rejected = events.find((event) => event.type === 'OrderRejected');
    return rejected?.type === 'OrderRejected' ? rejected.reason : undefined;
  }
}

/** Normalises a hand-drawn `bid | price | ask` table for comparison with Driver.table(). */
export function book(drawing: string): string {
  return drawing
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) =>
      line
        .split('|')
        .map((cell) => cell.trim())
        .join(' | ')
        .trim(),
    )
    .join('\n');
}
