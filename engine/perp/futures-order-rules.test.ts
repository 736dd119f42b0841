/**
 * Perpetual order rules closed after part 1 (README decisions 29 and 30): the tier rule for orders
 * and all-or-nothing FOK under the futures fill caps. BTC-KRW-PERP: 1 tick × 1 lot = 1 KRW; tier 1
 * up to 250,000,000 KRW at 50×, tier 2 at 25×.
 */
import { describe, expect, it } from 'vitest';
import { PerpDriver } from './testing/perp-driver.ts';

describe('the tier rule for orders', () => {
  it('refuses an opening order whose completely filled leg would be above the tier of its leverage, at the mark', () => {
    const d = new PerpDriver();
    d.fund(1, 20_000_000);
    d.fund(2, 40_000_000);
    d.index(100_000);
    d.leverage(1, 50);
    expect(d.rejection()).toBeUndefined();
    // flat: 2,501 lots × 100,000 = 250,100,000 KRW is tier 2 (25×); 2,500 lots is the last of tier 1
    d.perp(1, 'Buy', 2_501, 100_000);
    expect(d.rejection()).toBe('LEVERAGE_ABOVE_TIER_MAX');
    expect(d.types()).toEqual(['OrderRejected']);
    const atEdge = d.perp(1, 'Buy', 2_500, 99_000);
    expect(d.rejection()).toBeUndefined();
    d.cancel(1, atEdge);
    // at the mark, not at the order's price
    d.index(100_001);
    d.perp(1, 'Buy', 2_500, 90_000);
    expect(d.rejection()).toBe('LEVERAGE_ABOVE_TIER_MAX');
    d.index(100_000);

    // growing a long of 2,000: 500 more reach the edge, 501 pass it
    d.perp(2, 'Sell', 2_000, 100_000);
    d.perp(1, 'Buy', 2_000, 100_000);
    expect(d.position(1)).toMatchObject({ size: 2_000 });
    d.perp(1, 'Buy', 501, 99_000);
    expect(d.rejection()).toBe('LEVERAGE_ABOVE_TIER_MAX');
    d.cancel(1, d.perp(1, 'Buy', 500, 99_000));
    expect(d.rejection()).toBeUndefined();

    // a flip leaves only the opening lots: short 2,500 is tier 1, short 2,501 is not
    d.perp(1, 'Sell', 4_501, 101_000);
    expect(d.rejection()).toBe('LEVERAGE_ABOVE_TIER_MAX');
    d.cancel(1, d.perp(1, 'Sell', 4_500, 101_000));
    expect(d.rejection()).toBeUndefined();
    // closing lots never open: a plain sell of the whole long is not checked (nor is reduce-only)
    d.cancel(1, d.perp(1, 'Sell', 2_000, 101_000));
    expect(d.rejection()).toBeUndefined();
    // at 25× the tier-2 notional is fine
    d.leverage(1, 25);
    d.perp(1, 'Buy', 501, 99_000);
    expect(d.rejection()).toBeUndefined();
  });

  it('checks each hedge-mode leg on its own', () => {
    const d = new PerpDriver();
    d.fund(1, 30_000_000);
    d.fund(2, 40_000_000);
    d.index(100_000);
    d.hedge(1, true);
    d.leverage(1, 50);
    d.perp(2, 'Sell', 2_000, 100_000);
    d.perp(1, 'Buy', 2_000, 100_000, { positionSide: 'LONG' });
    expect(d.position(1, 'LONG')).toMatchObject({ size: 2_000 });
    d.perp(1, 'Buy', 501, 99_000, { positionSide: 'LONG' });
    expect(d.rejection()).toBe('LEVERAGE_ABOVE_TIER_MAX');
    d.perp(1, 'Sell', 2_500, 101_000, { positionSide: 'SHORT' }); // the SHORT leg is flat: 2,500 is tier 1
    expect(d.rejection()).toBeUndefined();
    d.perp(1, 'Sell', 2_501, 101_000, { positionSide: 'SHORT' });
    expect(d.rejection()).toBe('LEVERAGE_ABOVE_TIER_MAX');
  });
});

describe('FOK on a perpetual book: all or nothing under the fill caps', () => {
  it('expires a triggered reduce-only FOK larger than its shrunk leg with nothing filled', () => {
    const d = new PerpDriver();
    for (const userId of [1, 2, 3]) d.fund(userId, 5_000_000);
    d.index(100_000);
    d.perp(2, 'Sell', 10, 100_000);
    d.perp(1, 'Buy', 10, 100_000); // long 10, last price 100,000
    d.perp(1, 'Sell', 4, 99_000); // a plain sell resting on the ask side
    const stop = d.perp(1, 'Sell', 10, undefined, { type: 'StopMarket', stopPrice: 99_000, tif: 'FOK', reduceOnly: true });
    expect(d.rejection()).toBeUndefined();
    d.perp(2, 'Buy', 10, 98_000); // the liquidity the stop would sell into
    // user 3 takes the plain sell: the long is 6 and the last price 99,000 fires the reduce-only FOK of 10
    d.perp(3, 'Buy', 4, 99_000);
    expect(d.engine.getOrder(stop)).toMatchObject({ status: 'Expired', expireReason: 'FOK', filledQuantity: 0 });
    expect(d.trades().map(([price, lots]) => [price, lots])).toEqual([[99_000, 4]]);
    expect(d.position(1)).toMatchObject({ size: 6 });
  });

  it('expires a market FOK whose margin covers only its first fills with nothing filled', () => {
    const d = new PerpDriver();
    d.fund(1, 101_000);
    d.fund(2, 5_000_000);
    d.index(100_000);
    d.perp(2, 'Sell', 10, 100_000);
    d.perp(2, 'Sell', 10, 110_000);
    // reserve at max(mark, best ask) = 100,000: 20 lots at 20× = 100,000 + taker fee 1,000 = the whole wallet;
    // the second 10 lots fill at 110,000 and need 55,550 where 50,500 is left
    const fok = d.perp(1, 'Buy', 20, undefined, { tif: 'FOK' });
    expect(d.rejection()).toBeUndefined();
    expect(d.engine.getOrder(fok)).toMatchObject({ status: 'Expired', expireReason: 'FOK', filledQuantity: 0 });
    expect(d.trades()).toEqual([]);
    expect(d.position(1)).toBeUndefined();
    expect(d.engine.futuresAccount(1)).toMatchObject({ walletBalanceKrw: 101_000n, orderMarginKrw: 0n });
    // the same order as IOC takes what its margin covers and expires on the cut
    const ioc = d.perp(1, 'Buy', 20, undefined, { tif: 'IOC' });
    expect(d.engine.getOrder(ioc)).toMatchObject({ status: 'Expired', expireReason: 'InsufficientMargin', filledQuantity: 10 });
  });

  it('fills a FOK its caps allow completely, and leaves no trace of the pre-check', () => {
    const d = new PerpDriver();
    d.fund(1, 5_000_000);
    d.fund(2, 5_000_000);
    d.index(100_000);
    d.perp(2, 'Sell', 10, 100_000);
    d.perp(2, 'Sell', 10, 110_000);
    const accounts = () => [1, 2].map((userId) => [d.engine.futuresAccount(userId), d.engine.futuresPositions(userId)]);
    const before = accounts();
    // one lot short of the book: the walk previews both trades, then finds no more and undoes them
    const fok = d.perp(1, 'Buy', 21, 110_000, { tif: 'FOK' });
    expect(d.engine.getOrder(fok)).toMatchObject({ status: 'Expired', expireReason: 'FOK', filledQuantity: 0 });
    expect(accounts()).toEqual(before);
    expect(d.engine.futures.accounts.get(1)!.positions.size).toBe(0);
    const full = d.perp(1, 'Buy', 20, undefined, { tif: 'FOK' });
    expect(d.engine.getOrder(full)).toMatchObject({ status: 'Filled', filledQuantity: 20 });
    expect(d.position(1)).toMatchObject({ size: 20 });
  });
});
