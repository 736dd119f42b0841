/**
 * PerpOrders (perp-orders.ts): the Σ reserves and per-leg lists it keeps beside the orders by id,
 * and the rule the end-of-command cut relies on to skip work (reduce-only-cut.ts): after every
 * command every open order's reserve is what FuturesLedger.refreshReserve would compute now.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../engine.ts';
import { DEFAULT_ENGINE_CONFIG } from '../index.ts';
import { freshEngine, futuresSetUp, generate, PERP_MARKETS } from '../../ops/bench/engine-stream.ts';
import { reducibleLots } from './futures-ledger.ts';
import { orderInitialMarginKrw } from './margin-rules.ts';
import { BTC_KRW_PERP, ETH_KRW_PERP } from './perp-market.ts';
import { LegKind, PerpOrder, PerpOrders } from './perp-orders.ts';

const listed = (orders: PerpOrders, kind: LegKind, side: 'BOTH' | 'LONG' | 'SHORT' = 'BOTH', market = BTC_KRW_PERP): number[] => {
  const ids: number[] = [];
  for (let order = orders.onLeg(market, side, kind).head; order !== null; order = order.nextOnLeg) ids.push(order.orderId);
  return ids;
};

describe('PerpOrders', () => {
  it('keeps Σ reserves per settlement asset through set, reserve changes and delete', () => {
    const orders = new PerpOrders();
    const a = new PerpOrder(1, BTC_KRW_PERP, 'BOTH', false, 100_000, 1_000n, true);
    const b = new PerpOrder(2, ETH_KRW_PERP, 'BOTH', false, 5_000, 250n, false);
    orders.set(1, a);
    orders.set(2, b);
    expect(orders.reservesKrw('KRW')).toBe(1_250n);
    a.reserveKrw = 400n;
    expect(orders.reservesKrw('KRW')).toBe(650n);
    orders.delete(2);
    expect(orders.reservesKrw('KRW')).toBe(400n);
    b.reserveKrw = 9_999n; // no longer in the map: not counted
    expect(orders.reservesKrw('KRW')).toBe(400n);
    orders.set(1, new PerpOrder(1, BTC_KRW_PERP, 'BOTH', false, 100_000, 7n, true)); // replaces a
    expect(orders.reservesKrw('KRW')).toBe(7n);
    expect(orders.reservesKrw('USDT')).toBe(0n);
    expect(orders.size).toBe(1);
  });

  it('lists each leg’s orders by kind, oldest first, and files a restored order by side once known', () => {
    const orders = new PerpOrders();
    orders.set(1, new PerpOrder(1, BTC_KRW_PERP, 'BOTH', false, 1, 0n, true));
    orders.set(2, new PerpOrder(2, BTC_KRW_PERP, 'BOTH', true, 0, 0n, false));
    orders.set(3, new PerpOrder(3, BTC_KRW_PERP, 'BOTH', false, 1, 0n, false));
    orders.set(4, new PerpOrder(4, BTC_KRW_PERP, 'BOTH', false, 1, 0n, true));
    orders.set(5, new PerpOrder(5, BTC_KRW_PERP, 'LONG', false, 1, 0n, true));
    const restored = new PerpOrder(6, BTC_KRW_PERP, 'BOTH', false, 1, 0n);
    orders.set(6, restored);
    expect(listed(orders, LegKind.Buy)).toEqual([1, 4]);
    expect(listed(orders, LegKind.Sell)).toEqual([3]);
    expect(listed(orders, LegKind.ReduceOnly)).toEqual([2]);
    expect(listed(orders, LegKind.SideUnknown)).toEqual([6]);
    expect(listed(orders, LegKind.Buy, 'LONG')).toEqual([5]);
    expect(listed(orders, LegKind.Buy, 'BOTH', ETH_KRW_PERP)).toEqual([]);
    orders.learnSide(restored, false, 3);
    expect(listed(orders, LegKind.SideUnknown)).toEqual([]);
    expect(listed(orders, LegKind.Sell)).toEqual([3, 6]);
    orders.delete(1);
    orders.delete(4);
    expect(listed(orders, LegKind.Buy)).toEqual([]);
    expect(orders.onLeg(BTC_KRW_PERP, 'BOTH', LegKind.Buy).maxRemaining).toBe(0);
  });
});

describe('reserves after every command', () => {
  it('equal a fresh recomputation for every open order, and Σ reserves their sum, across a snapshot restore', () => {
    let engine = freshEngine(DEFAULT_ENGINE_CONFIG);
    const commands = [...futuresSetUp(7), ...generate(6_000, 7, PERP_MARKETS)];
    let checked = 0;
    for (let index = 0; index < commands.length; index++) {
      if (index === 4_000) engine = Engine.restore(DEFAULT_ENGINE_CONFIG, JSON.parse(JSON.stringify(engine.snapshot())));
      engine.apply(commands[index]!);
      if (index % 50 !== 0) continue;
      const state = engine.futures;
      for (const account of state.accounts.values()) {
        let sum = 0n;
        for (const order of account.orders.values()) {
          sum += order.reserveKrw;
          const node = state.lookupOrder(order.orderId);
          if (node === null || order.reduceOnly) continue;
          const reducible = reducibleLots(account.findPosition(order.market.symbol, order.leg), node.isBuy);
          const opening = Math.max(0, node.quantity - node.filled - reducible);
          const leverage = account.settingsOf(order.market.symbol).leverage;
          const want = opening === 0 ? 0n : orderInitialMarginKrw(opening, order.reservePriceTicks, leverage, order.market);
          if (want !== order.reserveKrw)
            expect({ orderId: order.orderId, index, reserve: order.reserveKrw }).toEqual({ orderId: order.orderId, index, reserve: want });
          checked++;
        }
        if (sum !== account.orders.reservesKrw('KRW')) expect(account.orders.reservesKrw('KRW')).toBe(sum);
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});
