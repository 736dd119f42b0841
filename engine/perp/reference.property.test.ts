/**
 * The pure rules against the independent reference model (testing/reference-positions.ts) over
 * random streams of transfers, trades between three users in one-way mode — opens, grows, partial
 * reduces, full closes and flips — and funding settlements, compared after every command: size,
 * cost, entry price, wallet, isolated margin, realized PnL, fees, PnL and MM at a random mark,
 * bankruptcy and liquidation prices.
 * Plus the invariants the stream can check on its own (issue 18): Σ sizes = 0, and exactly
 * Σ wallets + fee account + insurance fund − Σ cost = Σ transfers in − out; funding never takes
 * from the insurance fund.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fundingPaymentKrw } from './funding-rules.ts';
import {
  cumulativeFeeDueKrw,
  isolatedMarginForOpeningKrw,
  isolatedMarginRelease,
  maintenanceMarginForNotionalKrw,
  notionalKrw,
} from './margin-rules.ts';
import { BTC_KRW_PERP as btc } from './perp-market.ts';
import { bankruptcyPriceTicks, crossLiquidationPriceTicks, liquidationPriceTicks } from './liquidation-prices.ts';
import { FLAT_POSITION, type PositionAmounts, applyFill, entryPriceTicks, unrealizedPnlKrw } from './position-rules.ts';
import { ReferencePositions } from './testing/reference-positions.ts';

const USERS = [1, 2, 3] as const;

interface UnderTest {
  position: PositionAmounts;
  wallet: bigint;
  isolatedMargin: bigint;
  realizedPnl: bigint;
  feesPaid: bigint;
}

type Command =
  | { kind: 'transfer'; userId: number; amount: bigint }
  | { kind: 'funding'; markTicks: number; rate1e8: bigint }
  | {
      kind: 'trade';
      buyer: number;
      seller: number;
      lots: number;
      priceTicks: number;
      buyerIsMaker: boolean;
      newBuyerOrder: boolean;
      newSellerOrder: boolean;
      markTicks: number;
    };

const user = fc.constantFrom(...USERS);
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('transfer' as const),
      userId: user,
      amount: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 13n }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('funding' as const),
      markTicks: fc.integer({ min: 1, max: 1_000_000 }),
      rate1e8: fc.bigInt({ min: -300_000n, max: 300_000n }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc
      .record({
        kind: fc.constant('trade' as const),
        buyer: user,
        sellerOffset: fc.constantFrom(1, 2),
        // sizes from a lot to 1,000 BTC and prices up to 10^9 KRW: fills of up to 10^15 KRW, sums past 2^53
        lots: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 1_000_000 })),
        priceTicks: fc.oneof(fc.integer({ min: 49_000, max: 51_000 }), fc.integer({ min: 1, max: 1_000_000 })),
        buyerIsMaker: fc.boolean(),
        newBuyerOrder: fc.boolean(),
        newSellerOrder: fc.boolean(),
        markTicks: fc.integer({ min: 1, max: 1_000_000 }),
      })
      .map(({ sellerOffset, ...rest }) => ({ ...rest, seller: USERS[(USERS.indexOf(rest.buyer as 1 | 2 | 3) + sellerOffset) % 3]! })),
  },
);

describe('engine/perp rules agree with the reference model', () => {
  it('over random streams of fills, transfers and funding (one-way mode, cross and isolated users)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(command, { minLength: 1, maxLength: 60 }),
        (leverage1, leverage3, commands) => {
          const isolatedLeverage = new Map<number, number>([
            [1, leverage1],
            [3, leverage3],
          ]);
          const reference = new ReferencePositions(1n, new Map([...isolatedLeverage].map(([id, lev]) => [id, BigInt(lev)])));
          const underTest = new Map<number, UnderTest>(
            USERS.map((id) => [id, { position: FLAT_POSITION, wallet: 0n, isolatedMargin: 0n, realizedPnl: 0n, feesPaid: 0n }]),
          );
          const orderOf = new Map<number, number>(); // user → current order id
          const orderNotional = new Map<number, bigint>();
          let nextOrderId = 1;
          let feeAccount = 0n;
          let insuranceFund = 0n;
          let transfersNet = 0n;

          const fillUnderTest = (userId: number, orderId: number, signedLots: number, priceTicks: number, feePpm: number): void => {
            const account = underTest.get(userId)!;
            const value = notionalKrw(signedLots, priceTicks, btc);
            const before = orderNotional.get(orderId) ?? 0n;
            orderNotional.set(orderId, before + value);
            const fee = cumulativeFeeDueKrw(feePpm, before + value) - cumulativeFeeDueKrw(feePpm, before);
            const outcome = applyFill(account.position, signedLots, priceTicks, btc);
            const leverage = isolatedLeverage.get(userId);
            if (leverage !== undefined) {
              if (outcome.closedLots > 0)
                account.isolatedMargin -= isolatedMarginRelease(account.isolatedMargin, account.position.sizeLots, outcome.closedLots);
              if (outcome.openedLots > 0)
                account.isolatedMargin += isolatedMarginForOpeningKrw(outcome.openedLots, priceTicks, leverage, btc);
            }
            account.position = outcome.position;
            account.wallet += outcome.realizedPnlKrw - fee;
            account.realizedPnl += outcome.realizedPnlKrw;
            account.feesPaid += fee;
            feeAccount += fee;
          };
          const orderFor = (userId: number, fresh: boolean): number => {
            if (fresh || !orderOf.has(userId)) orderOf.set(userId, nextOrderId++);
            return orderOf.get(userId)!;
          };

          for (const step of commands) {
            let mark = 50_000;
            if (step.kind === 'transfer') {
              reference.transfer(step.userId, step.amount);
              underTest.get(step.userId)!.wallet += step.amount;
              transfersNet += step.amount;
            } else if (step.kind === 'funding') {
              mark = step.markTicks;
              reference.fund(BigInt(step.markTicks), step.rate1e8);
              const fundBefore = insuranceFund;
              for (const id of USERS) {
                const account = underTest.get(id)!;
                const payment = fundingPaymentKrw(account.position.sizeLots, step.markTicks, step.rate1e8, btc);
                account.wallet += payment;
                if (isolatedLeverage.has(id)) account.isolatedMargin += payment;
                insuranceFund -= payment;
              }
              expect(insuranceFund).toBeGreaterThanOrEqual(fundBefore);
            } else {
              mark = step.markTicks;
              const buyerOrder = orderFor(step.buyer, step.newBuyerOrder);
              const sellerOrder = orderFor(step.seller, step.newSellerOrder);
              const buyerPpm = step.buyerIsMaker ? btc.makerFeePpm : btc.takerFeePpm;
              const sellerPpm = step.buyerIsMaker ? btc.takerFeePpm : btc.makerFeePpm;
              const lots = BigInt(step.lots);
              const price = BigInt(step.priceTicks);
              reference.fill({ userId: step.buyer, orderId: buyerOrder, side: 'buy', lots, priceTicks: price, feePpm: BigInt(buyerPpm) });
              reference.fill({
                userId: step.seller,
                orderId: sellerOrder,
                side: 'sell',
                lots,
                priceTicks: price,
                feePpm: BigInt(sellerPpm),
              });
              fillUnderTest(step.buyer, buyerOrder, step.lots, step.priceTicks, buyerPpm);
              fillUnderTest(step.seller, sellerOrder, -step.lots, step.priceTicks, sellerPpm);
            }

            let sizes = 0;
            let costs = 0n;
            let wallets = 0n;
            for (const id of USERS) {
              const mine = underTest.get(id)!;
              const theirs = reference.account(id);
              const entry = reference.entryPrice(id);
              expect({
                size: BigInt(mine.position.sizeLots),
                cost: mine.position.costKrw,
                entry: entryPriceTicks(mine.position, btc),
                wallet: mine.wallet,
                isolatedMargin: mine.isolatedMargin,
                realizedPnl: mine.realizedPnl,
                feesPaid: mine.feesPaid,
                unrealizedPnl: unrealizedPnlKrw(mine.position, mark, btc),
                maintenanceMargin: maintenanceMarginForNotionalKrw(notionalKrw(mine.position.sizeLots, mark, btc), btc),
              }).toEqual({
                size: reference.size(id),
                cost: reference.cost(id),
                entry: entry === undefined ? undefined : Number(entry),
                wallet: theirs.wallet,
                isolatedMargin: theirs.isolatedMargin,
                realizedPnl: theirs.realizedPnl,
                feesPaid: theirs.feesPaid,
                unrealizedPnl: reference.unrealizedPnl(id, BigInt(mark)),
                maintenanceMargin: reference.maintenanceMargin(id, BigInt(mark)),
              });
              if (mine.position.sizeLots === 0) expect(mine.isolatedMargin).toBe(0n);
              else {
                // an isolated position owns its margin; user 2 is cross and alone in its account (no isolated margins, no other MM)
                const isolated = isolatedLeverage.has(id);
                const owned = isolated ? mine.isolatedMargin : mine.wallet;
                const liquidation = isolated
                  ? liquidationPriceTicks(mine.position, owned, btc)
                  : crossLiquidationPriceTicks(mine.position, mine.wallet + unrealizedPnlKrw(mine.position, mark, btc), mark, 0n, btc);
                const expected = reference.thresholds(id)!;
                expect({
                  bankruptcy: BigInt(bankruptcyPriceTicks(mine.position, owned, btc)!),
                  liquidation: liquidation === undefined ? undefined : BigInt(liquidation),
                }).toEqual(expected);
              }
              sizes += mine.position.sizeLots;
              costs += mine.position.costKrw;
              wallets += mine.wallet;
            }
            expect(sizes).toBe(0);
            expect(wallets + feeAccount + insuranceFund - costs).toBe(transfersNet);
            expect([reference.feeAccount, reference.insuranceFund]).toEqual([feeAccount, insuranceFund]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
