import { describe, expect, it } from 'vitest';
import { REJECT_CODES, type RejectReason } from './reject-codes.ts';
import { Driver, testConfig, type OrderOptions } from './test-support.ts';
import type { Command, PlaceOrderCommand } from './types.ts';

const LOT = 100_000;

/** A market with a 2-lot minimum, a 2-tick minimum price and a 5,000 KRW minimum notional. */
function driver(): Driver {
  const d = new Driver(testConfig({ minQuantity: '0.002', minPrice: '2000', minNotional: '5000' }));
  d.deposit(1, 'KRW', 1_000_000);
  d.deposit(1, 'BTC', 100 * LOT);
  d.deposit(2, 'KRW', 1_000_000);
  return d;
}

const limit: OrderOptions = { price: 1000, quantity: 10 };

function raw(d: Driver, patch: Record<string, unknown>): void {
  const base: PlaceOrderCommand = {
    type: 'PlaceOrder',
    orderId: ++d.commandSeq,
    userId: 1,
    symbol: 'BTC-KRW',
    side: 'Buy',
    orderType: 'Limit',
    price: 1000,
    quantity: 10,
    timeInForce: 'GTC',
    postOnly: false,
    stp: 'ExpireTaker',
    timestamp: 1,
  };
  d.apply({ ...base, ...patch } as unknown as Command);
}

const PERP = 'BTC-KRW-PERP';

/** A futures command stamped like the driver's own (issue 18). */
function futures(d: Driver, command: Record<string, unknown>): void {
  d.time += 1;
  d.commandSeq += 1;
  d.apply({ timestamp: d.time, ...command } as unknown as Command);
}

function perpOrder(d: Driver, patch: Record<string, unknown> = {}): void {
  raw(d, { symbol: PERP, timestamp: d.time + 1, ...patch });
}

/** 100,000 KRW in user 1's futures wallet and a mark of 1,000 ticks. */
function perpReady(d: Driver): void {
  futures(d, { type: 'FuturesTransfer', userId: 1, asset: 'KRW', amount: 100_000, direction: 'SpotToFutures' });
  futures(d, { type: 'SetIndexPrices', prices: [{ symbol: PERP, source: 'test', price: 1000 }] });
}

const cases: [RejectReason, (d: Driver) => void][] = [
  ['NOT_A_PERPETUAL', (d) => raw(d, { reduceOnly: true })],
  ['LEVERAGE_ABOVE_TIER_MAX', (d) => futures(d, { type: 'SetLeverage', userId: 1, symbol: PERP, leverage: 51 })],
  ['INVALID_LEVERAGE', (d) => futures(d, { type: 'SetLeverage', userId: 1, symbol: PERP, leverage: 0 })],
  [
    'POSITION_OR_ORDERS_OPEN',
    (d) => {
      perpReady(d);
      perpOrder(d);
      futures(d, { type: 'SetMarginType', userId: 1, symbol: PERP, marginType: 'ISOLATED' });
    },
  ],
  [
    'INSUFFICIENT_MARGIN',
    (d) => {
      futures(d, { type: 'SetIndexPrices', prices: [{ symbol: PERP, source: 'test', price: 1000 }] });
      perpOrder(d);
    },
  ],
  [
    'REDUCE_ONLY_WOULD_INCREASE',
    (d) => {
      perpReady(d);
      perpOrder(d, { reduceOnly: true });
    },
  ],
  [
    'NO_POSITION',
    (d) => {
      futures(d, { type: 'SetMarginType', userId: 1, symbol: PERP, marginType: 'ISOLATED' });
      futures(d, { type: 'AdjustIsolatedMargin', userId: 1, symbol: PERP, positionSide: 'BOTH', amount: 1, action: 'Add' });
    },
  ],
  ['NO_MARK_PRICE', (d) => perpOrder(d)],
  ['POSITION_SIDE_MISMATCH', (d) => perpOrder(d, { positionSide: 'LONG' })],
  [
    'NOT_ISOLATED',
    (d) => futures(d, { type: 'AdjustIsolatedMargin', userId: 1, symbol: PERP, positionSide: 'BOTH', amount: 1, action: 'Add' }),
  ],
  ['INVALID_MARGIN_TYPE', (d) => futures(d, { type: 'SetMarginType', userId: 1, symbol: PERP, marginType: 'HALF' })],
  ['INVALID_POSITION_SIDE', (d) => perpOrder(d, { positionSide: 'UP' })],
  [
    'INDEX_STALE',
    (d) => {
      perpReady(d);
      d.time += 61_000;
      perpOrder(d);
    },
  ],
  ['INVALID_WORKING_TYPE', (d) => perpOrder(d, { orderType: 'StopMarket', price: undefined, stopPrice: 900, workingType: 'INDEX_PRICE' })],
  [
    'CLOSE_POSITION_NOT_ALLOWED',
    (d) =>
      perpOrder(d, {
        orderType: 'StopMarket',
        price: undefined,
        quantity: undefined,
        stopPrice: 900,
        closePosition: true,
        reduceOnly: true,
      }),
  ],
  ['UNKNOWN_SYMBOL', (d) => d.buy(1, 10, 1000, { symbol: 'DOGE-KRW' })],
  ['UNKNOWN_ASSET', (d) => d.deposit(1, 'DOGE', 1)],
  ['INVALID_SIDE', (d) => raw(d, { side: 'Short' })],
  ['INVALID_ORDER_TYPE', (d) => raw(d, { orderType: 'Iceberg' })],
  ['INVALID_TIME_IN_FORCE', (d) => raw(d, { timeInForce: 'GTD' })],
  ['INVALID_STP_MODE', (d) => raw(d, { stp: 'CancelNewest' })],
  ['INVALID_ORDER_ID', (d) => raw(d, { orderId: 0 })],
  ['INVALID_USER_ID', (d) => raw(d, { userId: -1 })],
  ['INVALID_QUANTITY', (d) => d.buy(1, 2.5, 1000)],
  ['QUANTITY_BELOW_MIN', (d) => d.buy(1, 1, 10_000)],
  ['QUANTITY_ABOVE_MAX', (d) => d.buy(1, 1_000_001, 1000)],
  ['INVALID_PRICE', (d) => d.buy(1, 10, 1000.5)],
  ['PRICE_BELOW_MIN', (d) => d.buy(1, 10_000, 1)],
  ['PRICE_ABOVE_MAX', (d) => d.buy(1, 10, 1_000_000_001)],
  ['PRICE_REQUIRED', (d) => d.place(1, 'Buy', { type: 'Limit', quantity: 10 })],
  ['PRICE_NOT_ALLOWED', (d) => d.place(1, 'Buy', { type: 'Market', quantity: 10, price: 1000 })],
  ['STOP_PRICE_REQUIRED', (d) => d.place(1, 'Sell', { type: 'StopMarket', quantity: 10 })],
  ['STOP_PRICE_NOT_ALLOWED', (d) => d.place(1, 'Buy', { ...limit, stopPrice: 900 })],
  ['INVALID_STOP_PRICE', (d) => d.place(1, 'Sell', { type: 'StopMarket', quantity: 10, stopPrice: 1 })],
  ['NOTIONAL_BELOW_MIN', (d) => d.buy(1, 4, 1000)],
  ['INVALID_QUOTE_AMOUNT', (d) => d.place(1, 'Buy', { type: 'Market', quoteAmount: -5 })],
  ['QUOTE_AMOUNT_NOT_ALLOWED', (d) => d.place(1, 'Sell', { type: 'Market', quantity: 10, quoteAmount: 10_000 })],
  ['QUANTITY_REQUIRED', (d) => d.place(1, 'Sell', { type: 'Market' })],
  ['POST_ONLY_NOT_ALLOWED', (d) => d.buy(1, 10, 1000, { postOnly: true, tif: 'IOC' })],
  ['INVALID_AMOUNT', (d) => d.deposit(1, 'KRW', 0)],
  ['INVALID_TIMESTAMP', (d) => raw(d, { timestamp: -1 })],
  ['INVALID_COMMAND', (d) => d.apply({ type: 'Transfer', timestamp: 1 } as unknown as Command)],
  ['QUOTE_AMOUNT_REQUIRED', (d) => d.place(1, 'Buy', { type: 'StopMarket', stopPrice: 1000, quantity: 10 })],
  ['INVALID_CLIENT_ORDER_ID', (d) => d.buy(1, 10, 1000, { clientOrderId: 'x'.repeat(65) })],
  ['INSUFFICIENT_FUNDS', (d) => d.buy(2, 1000, 1000)],
  ['INSUFFICIENT_AVAILABLE', (d) => d.withdraw(2, 'BTC', 1)],
  ['ASSET_SUPPLY_LIMIT', (d) => d.deposit(2, 'KRW', Number.MAX_SAFE_INTEGER)],
  [
    'DUPLICATE_ORDER_ID',
    (d) => {
      const id = d.buy(1, 10, 1000);
      raw(d, { orderId: id });
    },
  ],
  [
    'DUPLICATE_CLIENT_ORDER_ID',
    (d) => {
      d.buy(1, 10, 1000, { clientOrderId: 'retry-me' });
      d.sell(1, 10, 2000, { clientOrderId: 'retry-me' });
    },
  ],
  [
    'TOO_MANY_OPEN_ORDERS',
    (d) => {
      d.deposit(2, 'KRW', 10_000_000);
      for (let index = 0; index < d.engine.config.maxOpenOrdersPerUserMarket; index++) d.buy(2, 5, 1000);
      d.buy(2, 5, 1000);
    },
  ],
  ['ORDER_NOT_FOUND', (d) => d.cancel(1, 12345)],
  [
    'NOT_ORDER_OWNER',
    (d) => {
      const id = d.buy(1, 10, 1000);
      d.cancel(2, id);
    },
  ],
  [
    'ORDER_NOT_OPEN',
    (d) => {
      const id = d.buy(1, 10, 1000);
      d.cancel(1, id);
      d.cancel(1, id);
    },
  ],
  [
    'POST_ONLY_WOULD_TAKE',
    (d) => {
      d.sell(1, 10, 1000);
      d.buy(2, 10, 1000, { postOnly: true });
    },
  ],
  [
    'AMEND_NOT_REDUCING',
    (d) => {
      const id = d.buy(1, 10, 1000);
      d.amend(1, id, 10);
    },
  ],
  [
    'AMEND_BELOW_FILLED',
    (d) => {
      const id = d.buy(2, 10, 1000);
      d.sell(1, 5, 1000);
      d.amend(2, id, 5);
    },
  ],
  [
    'AMEND_NOT_ALLOWED',
    (d) => {
      const id = d.place(2, 'Buy', { type: 'StopMarket', stopPrice: 5000, quoteAmount: 10_000 });
      d.amend(2, id, 1);
    },
  ],
];

/** Codes only the API edge produces (decimal strings → integers, engine/markets.ts). */
const EDGE_ONLY = new Set<RejectReason>(['NOT_A_DECIMAL', 'TOO_MANY_DECIMALS', 'OFF_TICK', 'OFF_LOT', 'OUT_OF_BOUNDS']);

describe('reject codes', () => {
  it.each(cases)('%s', (reason, act) => {
    const d = driver();
    act(d);
    const rejected = d.events.filter((event) => event.type === 'OrderRejected');
    expect(rejected).toEqual([expect.objectContaining({ reason, code: REJECT_CODES[reason] })]);
    expect(d.events).toHaveLength(1);
  });

  it('are each produced by some command', () => {
    const covered = new Set(cases.map(([reason]) => reason));
    const missing = (Object.keys(REJECT_CODES) as RejectReason[]).filter((reason) => !covered.has(reason) && !EDGE_ONLY.has(reason));
    expect(missing).toEqual([]);
  });

  it('never throw, whatever arrives', () => {
    const d = driver();
    for (const junk of [null, undefined, 42, 'x', {}, { type: 'PlaceOrder' }, { type: 'CancelOrder' }, { type: 'Deposit', amount: '5' }]) {
      expect(() => d.apply(junk as unknown as Command)).not.toThrow();
      expect(d.events[0]?.type).toBe('OrderRejected');
    }
  });
});
