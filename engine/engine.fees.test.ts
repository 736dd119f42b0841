/**
 * Fees are charged on an order's cumulative fill (engine/README "Fees"): after its fills an order
 * has paid floor(Σ notionalᵢ × rateᵢ), so the total does not depend on how the order was split.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { carryAfter, feeOf } from './arithmetic.ts';
import { Engine } from './engine.ts';
import { Driver, LOT, testConfig } from './test-support.ts';
import type { EngineSnapshot } from './types.ts';

const PPM = 1_000_000n;

describe('fees on the cumulative fill', () => {
  it('a fill pays what it adds to floor(carry + notional × rate): exact near 2^53, carry < 10^6', () => {
    let x = 987654321;
    for (let index = 0; index < 10_000; index++) {
      x = (x * 1_103_515_245 + 12345) % 2_147_483_648;
      const notional = (x * 4_194_301 + index) % Number.MAX_SAFE_INTEGER;
      const ppm = x % 1_000_001;
      const carry = (x * 7) % 1_000_000;
      const exact = BigInt(notional) * BigInt(ppm) + BigInt(carry);
      expect(feeOf(notional, ppm, carry)).toBe(Number(exact / PPM));
      expect(carryAfter(notional, ppm, carry)).toBe(Number(exact % PPM));
    }
  });

  it('a resting sell filled one lot at a time pays the fee of the whole (per-fill rounding paid nothing)', () => {
    const d = new Driver();
    d.deposit(1, 'BTC', 100 * LOT);
    for (const user of [2, 3]) d.deposit(user, 'KRW', 1_000_000);
    const sell = d.sell(1, 100, 999);
    // 0.1 % of 999 KRW is 0.999 KRW: rounded down per fill, 100 one-lot fills paid 0.
    for (let index = 0; index < 100; index++) d.buy(2 + (index % 2), 1, 999);
    expect(d.engine.getOrder(sell)).toMatchObject({ status: 'Filled', filledQuote: 99_900, feesPaid: 99 });
    // Each taker is an order of its own (0.2 % of 999 = 1.998 → 1); the fee account got all of it.
    expect(d.balance(0, 'KRW').available).toBe(99 + 100);
    expect(d.balance(1, 'KRW').available).toBe(99_900 - 99);
  });

  it('a taker sweeping many makers pays the fee of its cumulative quote, and its hold covered it', () => {
    const d = new Driver();
    d.deposit(1, 'BTC', 100 * LOT);
    d.deposit(2, 'KRW', 200_000);
    for (let index = 0; index < 40; index++) d.sell(1, 1, 1000 + (index % 7));
    const buy = d.buy(2, 40, 1010);
    const view = d.engine.getOrder(buy)!;
    expect(view.status).toBe('Filled');
    expect(view.feesPaid).toBe(Math.floor((view.filledQuote * 2000) / 1_000_000));
    expect(d.balance(2, 'KRW')).toEqual({ available: 200_000 - view.filledQuote - view.feesPaid, locked: 0 });
  });

  it('keeps the fraction across a snapshot (version 6) and starts from none with a version 5 one', () => {
    const d = new Driver();
    d.deposit(1, 'BTC', 10 * LOT);
    d.deposit(2, 'KRW', 100_000);
    const sell = d.sell(1, 3, 999);
    d.buy(2, 1, 999); // 0.999 due, 0 paid: carry 999,000
    const snapshot = JSON.parse(JSON.stringify(d.engine.snapshot())) as EngineSnapshot & { feeCarries: number[] };
    expect(snapshot.feeCarries).toEqual([sell, 999_000]);
    const restored = Engine.restore(d.engine.config, snapshot);
    expect(restored.stateHash()).toBe(d.engine.stateHash());
    const { feeCarries: _carries, ...v5 } = { ...snapshot, version: 5 };
    const old = Engine.restore(d.engine.config, v5 as EngineSnapshot);
    const next = {
      type: 'PlaceOrder' as const,
      orderId: 99,
      userId: 2,
      symbol: 'BTC-KRW',
      side: 'Buy' as const,
      orderType: 'Limit' as const,
      price: 999,
      quantity: 1,
      timeInForce: 'GTC' as const,
      postOnly: false,
      stp: 'ExpireTaker' as const,
      timestamp: 2e12,
    };
    const fee = (engine: Engine) => engine.apply(next).flatMap((event) => (event.type === 'Trade' ? [event.maker.fee] : []));
    expect(fee(restored)).toEqual([1]); // 1.998 due in all, 0 paid
    expect(fee(old)).toEqual([0]); // from version 5: this fill's 0.999 alone
  });
});

describe('fee properties', () => {
  const rate = fc.integer({ min: 0, max: 5000 });
  it('the same order filled in one piece or in k pieces pays the same total fee, floor(Σ notional × rate)', () => {
    fc.assert(
      fc.property(
        rate,
        rate,
        fc.integer({ min: 1000, max: 1500 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 25, maxLength: 25 }),
        fc.boolean(),
        (makerFeePpm, takerFeePpm, price, pieces, offsets, restingBuy) => {
          const config = testConfig({ makerFeePpm, takerFeePpm });
          const total = pieces.reduce((sum, lots) => sum + lots, 0);
          const run = (split: boolean) => {
            const d = new Driver(config);
            d.deposit(1, 'BTC', 1_000 * LOT);
            d.deposit(1, 'KRW', 100_000_000);
            d.deposit(2, 'BTC', 1_000 * LOT);
            d.deposit(2, 'KRW', 100_000_000);
            // The order under test (user 1) rests; user 2's orders fill it, in one piece or in k.
            const order = restingBuy ? d.buy(1, total, price) : d.sell(1, total, price);
            const against = (lots: number) => (restingBuy ? d.sell(2, lots, price) : d.buy(2, lots, price));
            for (const lots of split ? pieces : [total]) against(lots);
            // …and, as a taker, user 2 sweeps k makers at k prices, or one maker of the same quote.
            const makers = split ? pieces.map((lots, index) => ({ lots, price: price + offsets[index]! })) : [{ lots: total, price }];
            for (const maker of makers) d.sell(1, maker.lots, maker.price);
            const taker = d.buy(2, total, price + 6);
            return { d, maker: d.engine.getOrder(order)!, taker: d.engine.getOrder(taker)! };
          };
          const whole = run(false);
          const split = run(true);
          expect(split.maker.status).toBe('Filled');
          expect(split.maker.feesPaid).toBe(whole.maker.feesPaid);
          expect(BigInt(split.maker.feesPaid)).toBe((BigInt(split.maker.filledQuote) * BigInt(makerFeePpm)) / PPM);
          // The sweep's quote differs with the prices; its fee is that of its cumulative quote.
          expect(split.taker.status).toBe('Filled');
          expect(BigInt(split.taker.feesPaid)).toBe((BigInt(split.taker.filledQuote) * BigInt(takerFeePpm)) / PPM);
          for (const { d } of [whole, split]) {
            // Every hold released, every fee at the fee account, nothing created or lost.
            for (const user of [1, 2]) for (const asset of ['BTC', 'KRW']) expect(d.balance(user, asset).locked).toBe(0);
            const krw = [0, 1, 2].reduce((sum, user) => sum + d.balance(user, 'KRW').available, 0);
            expect(krw).toBe(200_000_000);
          }
        },
      ),
      { seed: 20261201, numRuns: 300 },
    );
  });

  it('an order that takes, then rests and is taken, pays floor(Σ notional × its rate for each fill)', () => {
    fc.assert(
      fc.property(
        rate,
        rate,
        fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 990, max: 1000 })), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 8 }),
        (makerFeePpm, takerFeePpm, asks, laterSells) => {
          const d = new Driver(testConfig({ makerFeePpm, takerFeePpm }));
          d.deposit(1, 'BTC', 1_000 * LOT);
          d.deposit(2, 'KRW', 100_000_000);
          for (const [lots, price] of asks) d.sell(1, lots, price);
          const taken = asks.reduce((sum, [lots]) => sum + lots, 0);
          const later = laterSells.reduce((sum, lots) => sum + lots, 0);
          const buy = d.buy(2, taken + later, 1000); // takes every ask, rests with the rest
          for (const lots of laterSells) d.sell(1, lots, 1000);
          const exact =
            asks.reduce((sum, [lots, price]) => sum + BigInt(lots * price) * BigInt(takerFeePpm), 0n) +
            BigInt(later * 1000) * BigInt(makerFeePpm);
          const view = d.engine.getOrder(buy)!;
          expect(view.status).toBe('Filled');
          expect(BigInt(view.feesPaid)).toBe(exact / PPM);
          expect(d.balance(2, 'KRW')).toEqual({ available: 100_000_000 - view.filledQuote - view.feesPaid, locked: 0 });
        },
      ),
      { seed: 1201, numRuns: 300 },
    );
  });
});
