/**
 * A funding settlement (ARCHITECTURE.md "Funding"): at a funding time every open position of the
 * market pays or receives |size| × mark × F (funding-rules.ts fundingPaymentKrw: payers rounded up,
 * receivers down); what rounding leaves goes to the market's insurance fund, so money is conserved
 * exactly. An isolated position's payment moves its isolated margin too. Only the market's open
 * positions are visited (open-positions.ts), in user id then leg order.
 */
import type { CommandEvents } from '../command-events.ts';
import type { FuturesEvents } from './futures-events.ts';
import type { FuturesState } from './futures-state.ts';
import { fundingPaymentKrw } from './funding-rules.ts';
import type { PerpMarketSpec } from './perp-market.ts';

export class FundingSettlement {
  constructor(
    private readonly state: FuturesState,
    private readonly changes: FuturesEvents,
    private readonly events: CommandEvents,
  ) {}

  /**
   * Pays F at `markTicks` to and from every open position of the market: one FundingPaid each (also
   * for an amount of 0, so a user's funding history shows every settlement it was in); the wallet
   * (WalletChanged 'Funding') and an isolated position (PositionChanged) are listed only when money
   * moved. Returns the rounding dust the insurance fund took.
   */
  settle(market: PerpMarketSpec, markTicks: number, rate1e8: bigint): bigint {
    const events = this.events;
    const state = this.state;
    const asset = market.settlementAsset;
    const symbol = market.symbol;
    let net = 0n;
    for (const position of state.openPositions.sorted(symbol)) {
      const amount = fundingPaymentKrw(position.sizeLots, markTicks, rate1e8, market);
      events.emit({
        type: 'FundingPaid',
        seq: ++events.seq,
        timestamp: events.timestamp,
        userId: position.userId,
        symbol,
        positionSide: position.side,
        size: position.sizeLots,
        markPrice: markTicks,
        rate1e8,
        amountKrw: amount,
      });
      if (amount === 0n) continue;
      net += amount;
      const account = state.account(position.userId);
      account.wallets.set(asset, account.wallet(asset) + amount);
      this.changes.touchWallet(account, asset, 'Funding');
      if (account.settings.get(symbol)?.marginType === 'ISOLATED') {
        // moved in full, even below 0: the liquidation checks that follow funding take it from there
        position.isolatedMarginKrw += amount;
        this.changes.touchPosition(position);
      }
    }
    // Σ sizes = 0 per market, so receivers (down) never get more than payers (up) gave
    const dust = -net;
    if (dust < 0n) throw new Error(`funding of ${symbol} paid out ${-dust} KRW more than it took: Σ sizes ≠ 0`);
    state.insuranceFunds.set(asset, state.insuranceFundKrw(asset) + dust);
    return dust;
  }
}
