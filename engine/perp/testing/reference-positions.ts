/**
 * Test-only reference model of perpetual positions and futures wallets (issue 18 "Invariants": a
 * model written independently, plain BigInt, the contract's formulas, no code shared with the
 * engine). It imports nothing: the BTC-KRW-PERP risk table and every formula below are written out
 * again from ARCHITECTURE.md "Perpetual futures", in a different shape from engine/perp (a side
 * plus unsigned magnitudes instead of signed size and cost), so a slip in one is unlikely to be
 * repeated in the other.
 *
 * Scope: one-way mode, one market with one tick × one lot = `krwPerTickLot` KRW: fills, transfers
 * and funding payments. Liquidation is later work (issue 19).
 */

type Side = 'long' | 'short';

interface ReferenceLeg {
  side: Side;
  lots: bigint; // > 0
  costMagnitude: bigint; // |Σ fill price × quantity|, KRW
}

export interface ReferenceAccount {
  wallet: bigint;
  leg: ReferenceLeg | undefined; // undefined when flat
  isolatedMargin: bigint; // 0 for cross
  realizedPnl: bigint; // Σ realized, gross
  feesPaid: bigint;
}

export interface ReferenceFill {
  readonly userId: number;
  readonly orderId: number;
  readonly side: 'buy' | 'sell';
  readonly lots: bigint; // > 0
  readonly priceTicks: bigint;
  readonly feePpm: bigint;
}

/** The contract's table: [notional up to (KRW, inclusive; null = above), MMR in 1e-8, cum KRW]. */
const CONTRACT_BTC_TIERS: ReadonlyArray<readonly [bigint | null, bigint, bigint]> = [
  [250_000_000n, 400_000n, 0n], // 0.40 %
  [1_000_000_000n, 500_000n, 250_000n], // 0.50 %
  [5_000_000_000n, 1_000_000n, 5_250_000n], // 1.00 %
  [null, 2_500_000n, 80_250_000n], // 2.50 %
];

export class ReferencePositions {
  readonly accounts = new Map<number, ReferenceAccount>();
  /** per order: Σ notional filled so far (Σ rate × notional with rateWeightedFees), for the cumulative fee rule */
  private readonly orderNotional = new Map<number, bigint>();
  feeAccount = 0n;
  insuranceFund = 0n;
  transfersNet = 0n;

  constructor(
    private readonly krwPerTickLot: bigint,
    /** leverage for the isolated margin of each user; users not listed are cross */
    private readonly isolatedLeverage: ReadonlyMap<number, bigint>,
    /**
     * false: floor(rate × Σ notional) with the fill's rate (one rate per order); true: the spot
     * rule the engine follows for orders filled at both rates, floor(Σ rate × notional)
     */
    private readonly rateWeightedFees = false,
  ) {}

  account(userId: number): ReferenceAccount {
    let account = this.accounts.get(userId);
    if (account === undefined) {
      account = { wallet: 0n, leg: undefined, isolatedMargin: 0n, realizedPnl: 0n, feesPaid: 0n };
      this.accounts.set(userId, account);
    }
    return account;
  }

  /** isolated margin added (> 0) or removed (< 0) by hand: it stays in the wallet, only its purpose changes */
  adjustIsolatedMargin(userId: number, amount: bigint): void {
    this.account(userId).isolatedMargin += amount;
  }

  transfer(userId: number, amount: bigint): void {
    this.account(userId).wallet += amount;
    this.transfersNet += amount;
  }

  fill(fill: ReferenceFill): void {
    const account = this.account(fill.userId);
    const value = fill.lots * fill.priceTicks * this.krwPerTickLot;

    // fee: what the order owes after this fill less what it owed before (floor each time)
    const before = this.orderNotional.get(fill.orderId) ?? 0n;
    let fee: bigint;
    if (this.rateWeightedFees) {
      // the spot rule (engine/arithmetic.ts feeOf's carry): fee due so far = floor(Σ rate × notional
      // / 10^6) over the order's fills, each at its own rate (an order that took, then rests, pays
      // each part at its rate); here orderNotional holds Σ rate × notional
      const after = before + value * fill.feePpm;
      this.orderNotional.set(fill.orderId, after);
      fee = after / 1_000_000n - before / 1_000_000n; // all ≥ 0: `/` is floor
    } else {
      const after = before + value;
      this.orderNotional.set(fill.orderId, after);
      fee = (after * fill.feePpm) / 1_000_000n - (before * fill.feePpm) / 1_000_000n; // all ≥ 0: `/` is floor
    }
    account.wallet -= fee;
    account.feesPaid += fee;
    this.feeAccount += fee;

    const fillSide: Side = fill.side === 'buy' ? 'long' : 'short';
    const leverage = this.isolatedLeverage.get(fill.userId);
    const leg = account.leg;
    if (leg === undefined || leg.side === fillSide) {
      this.open(account, fillSide, fill.lots, value, leverage);
      return;
    }
    const closing = fill.lots < leg.lots ? fill.lots : leg.lots;
    // removed cost: trunc(cost × closed / |size|); on magnitudes truncation is the floor
    const removed = (leg.costMagnitude * closing) / leg.lots;
    const closedValue = closing * fill.priceTicks * this.krwPerTickLot;
    // a long sells what it bought: proceeds − cost; a short buys back what it sold: cost − outlay
    const realized = leg.side === 'long' ? closedValue - removed : removed - closedValue;
    account.wallet += realized;
    account.realizedPnl += realized;
    if (leverage !== undefined) account.isolatedMargin -= (account.isolatedMargin * closing) / leg.lots;
    leg.lots -= closing;
    leg.costMagnitude -= removed;
    if (leg.lots === 0n) {
      if (leg.costMagnitude !== 0n || account.isolatedMargin !== 0n) throw new Error('reference: a closed leg kept cost or margin');
      account.leg = undefined;
    }
    const rest = fill.lots - closing;
    if (rest > 0n) this.open(account, fillSide, rest, rest * fill.priceTicks * this.krwPerTickLot, leverage);
  }

  /**
   * Funding at rate F (1e-8) and the mark: every position pays |size| × mark × F, longs to shorts
   * when F > 0; the payer's share rounded up, the receiver's down, the rest to the insurance fund.
   * An isolated position's payment moves its isolated margin too.
   */
  fund(markTicks: bigint, rate1e8: bigint): void {
    for (const [userId, account] of this.accounts) {
      const leg = account.leg;
      if (leg === undefined || rate1e8 === 0n) continue;
      const magnitude = leg.lots * markTicks * this.krwPerTickLot * (rate1e8 < 0n ? -rate1e8 : rate1e8);
      const longsPay = rate1e8 > 0n;
      const pays = (leg.side === 'long') === longsPay;
      const whole = magnitude / 100_000_000n;
      const exact = whole * 100_000_000n === magnitude;
      const change = pays ? -(exact ? whole : whole + 1n) : whole;
      account.wallet += change;
      this.insuranceFund -= change;
      if (this.isolatedLeverage.has(userId)) account.isolatedMargin += change;
    }
  }

  private open(account: ReferenceAccount, side: Side, lots: bigint, value: bigint, leverage: bigint | undefined): void {
    if (account.leg === undefined) account.leg = { side, lots: 0n, costMagnitude: 0n };
    account.leg.lots += lots;
    account.leg.costMagnitude += value;
    // isolated margin: this fill's notional / leverage, rounded up
    if (leverage !== undefined) account.isolatedMargin += (value + leverage - 1n) / leverage;
  }

  /** signed size in lots (long > 0) */
  size(userId: number): bigint {
    const leg = this.account(userId).leg;
    if (leg === undefined) return 0n;
    return leg.side === 'long' ? leg.lots : -leg.lots;
  }

  /** signed cost in KRW (long > 0) */
  cost(userId: number): bigint {
    const leg = this.account(userId).leg;
    if (leg === undefined) return 0n;
    return leg.side === 'long' ? leg.costMagnitude : -leg.costMagnitude;
  }

  /** long: value at mark − cost; short: cost − value at mark */
  unrealizedPnl(userId: number, markTicks: bigint): bigint {
    const leg = this.account(userId).leg;
    if (leg === undefined) return 0n;
    const value = leg.lots * markTicks * this.krwPerTickLot;
    return leg.side === 'long' ? value - leg.costMagnitude : leg.costMagnitude - value;
  }

  /** cost / size rounded to the nearest tick, halves up */
  entryPrice(userId: number): bigint | undefined {
    const leg = this.account(userId).leg;
    if (leg === undefined) return undefined;
    const perTick = leg.lots * this.krwPerTickLot;
    const whole = leg.costMagnitude / perTick;
    const remainder = leg.costMagnitude - whole * perTick;
    return remainder * 2n >= perTick ? whole + 1n : whole;
  }

  notional(userId: number, markTicks: bigint): bigint {
    const leg = this.account(userId).leg;
    return leg === undefined ? 0n : leg.lots * markTicks * this.krwPerTickLot;
  }

  /** MM = notional × MMR − cum, rounded up, at the tier whose bound the notional is within */
  maintenanceMargin(userId: number, markTicks: bigint): bigint {
    return referenceMaintenanceMargin(this.notional(userId, markTicks));
  }

  /** bankruptcy and liquidation prices: an isolated leg owns its isolated margin; a cross account's only leg owns the wallet */
  thresholds(userId: number): { bankruptcy: bigint; liquidation: bigint | undefined } | undefined {
    const account = this.account(userId);
    const leg = account.leg;
    if (leg === undefined) return undefined;
    const margin = this.isolatedLeverage.has(userId) ? account.isolatedMargin : account.wallet;
    return {
      bankruptcy: referenceBankruptcyPrice(leg.side, leg.lots, leg.costMagnitude, margin, this.krwPerTickLot),
      liquidation: referenceLiquidationPrice(leg.side, leg.lots, leg.costMagnitude, margin, this.krwPerTickLot),
    };
  }
}

/** The contract's MM of a BTC-KRW-PERP notional (KRW), its own tier walk. */
export function referenceMaintenanceMargin(notional: bigint): bigint {
  for (const [upTo, rate, cum] of CONTRACT_BTC_TIERS) {
    if (upTo !== null && notional > upTo) continue;
    const product = notional * rate;
    const roundedUp = product / 100_000_000n + (product % 100_000_000n === 0n ? 0n : 1n);
    const mm = roundedUp - cum;
    return mm > 0n ? mm : 0n;
  }
  throw new Error('unreachable: the last tier is open-ended');
}

/**
 * Bankruptcy price of a leg owning `margin` KRW besides its PnL: where margin + PnL = 0, in whole
 * ticks — a long's rounded up, a short's down (the fund never pays at it), never below 0.
 */
export function referenceBankruptcyPrice(side: Side, lots: bigint, costMagnitude: bigint, margin: bigint, krwPerTickLot: bigint): bigint {
  const perTick = lots * krwPerTickLot;
  if (side === 'long') {
    const owed = costMagnitude - margin; // the sale must bring this much back
    if (owed <= 0n) return 0n;
    return owed % perTick === 0n ? owed / perTick : owed / perTick + 1n;
  }
  const ceiling = margin + costMagnitude; // the buy-back may cost at most this much
  if (ceiling < 0n) return 0n;
  return ceiling / perTick;
}

/**
 * Liquidation price of a leg owning `margin`: the highest (long) / lowest (short) mark in ticks at
 * which margin + PnL ≤ MM. Solved in closed form per tier — notional N with margin + PnL(N) =
 * N × MMR − cum, e.g. a long's N = (cost − margin − cum) / (1 − MMR) (Binance's formula) — then
 * settled on whole ticks by looking at the few ticks around each tier's solution, since MM's
 * rounding moves the threshold by less than a tick or two. Undefined for a long no mark liquidates.
 */
export function referenceLiquidationPrice(
  side: Side,
  lots: bigint,
  costMagnitude: bigint,
  margin: bigint,
  krwPerTickLot: bigint,
): bigint | undefined {
  const perTick = lots * krwPerTickLot;
  const liquidatable = (ticks: bigint): boolean => {
    const value = perTick * ticks;
    const equity = side === 'long' ? margin + value - costMagnitude : margin + costMagnitude - value;
    return equity <= referenceMaintenanceMargin(value);
  };
  if (side === 'long' && !liquidatable(0n)) return undefined;
  if (side === 'short' && liquidatable(0n)) return 0n;
  const isEdge = (ticks: bigint): boolean =>
    ticks >= 0n &&
    (side === 'long'
      ? liquidatable(ticks) && !liquidatable(ticks + 1n)
      : liquidatable(ticks) && (ticks === 0n || !liquidatable(ticks - 1n)));
  for (const [, rate, cum] of CONTRACT_BTC_TIERS) {
    const notional =
      side === 'long'
        ? ((costMagnitude - margin - cum) * 100_000_000n) / (100_000_000n - rate)
        : ((margin + costMagnitude + cum) * 100_000_000n) / (100_000_000n + rate);
    const around = notional / perTick;
    for (let offset = -3n; offset <= 3n; offset++) if (isEdge(around + offset)) return around + offset;
  }
  throw new Error('reference: no tier solution lands on the threshold');
}
