/**
 * The futures ledger's events of one command: one WalletChanged per touched (user, asset) and one
 * PositionChanged per touched (user, symbol, position side), each with the figures after the whole
 * command, in first-touch order; flushed after the spot BalanceChanged events (wallets first, then
 * positions). A wallet's reason is the first cause the command gave it.
 */
import type { CommandEvents } from '../command-events.ts';
import type { WalletChangeReason } from '../types.ts';
import { entryPriceTicks } from './position-rules.ts';
import type { FuturesAccount, PerpPosition } from './futures-state.ts';

export class FuturesEvents {
  private readonly wallets: { account: FuturesAccount; asset: string; reason: WalletChangeReason }[] = [];
  private readonly positions: PerpPosition[] = [];

  constructor(private readonly events: CommandEvents) {}

  /** the command counter (CommandEvents.epoch): marks on records that are valid for this command only */
  get epoch(): number {
    return this.events.epoch;
  }

  /** whether this command touched anything futures (the end-of-command work runs only then) */
  get touched(): boolean {
    return this.wallets.length > 0 || this.positions.length > 0;
  }

  /** the positions touched so far in this command, in first-touch order */
  touchedPositions(): readonly PerpPosition[] {
    return this.positions;
  }

  /** the wallets touched so far in this command, in first-touch order */
  touchedWallets(): readonly { readonly account: FuturesAccount; readonly asset: string }[] {
    return this.wallets;
  }

  touchWallet(account: FuturesAccount, asset: string, reason: WalletChangeReason): void {
    const epoch = this.events.epoch;
    if (account.walletMarkAsset === asset || account.walletMarkAsset === undefined) {
      if (account.walletMark === epoch) return;
      account.walletMarkAsset = asset;
      account.walletMark = epoch;
    } else {
      if (account.walletMarks.get(asset) === epoch) return;
      account.walletMarks.set(asset, epoch);
    }
    this.wallets.push({ account, asset, reason });
  }

  touchPosition(position: PerpPosition): void {
    const epoch = this.events.epoch;
    if (position.dirtyMark === epoch) return;
    position.dirtyMark = epoch;
    this.positions.push(position);
  }

  /** leverage and margin type of a position's market, for its event (FuturesAccount.settingsOf) */
  flush(accountOf: (userId: number) => FuturesAccount): void {
    const events = this.events;
    const timestamp = events.timestamp;
    for (const { account, asset, reason } of this.wallets) {
      events.emit({
        type: 'WalletChanged',
        seq: ++events.seq,
        timestamp,
        userId: account.userId,
        asset,
        walletBalanceKrw: account.wallet(asset),
        reason,
      });
    }
    for (const position of this.positions) {
      const settings = accountOf(position.userId).settingsOf(position.market.symbol);
      events.emit({
        type: 'PositionChanged',
        seq: ++events.seq,
        timestamp,
        userId: position.userId,
        symbol: position.market.symbol,
        positionSide: position.side,
        size: position.sizeLots,
        costKrw: position.costKrw,
        entryPrice: entryPriceTicks({ sizeLots: position.sizeLots, costKrw: position.costKrw }, position.market),
        realizedPnlKrw: position.realizedPnlKrw,
        marginType: settings.marginType,
        isolatedMarginKrw: position.isolatedMarginKrw,
        leverage: settings.leverage,
      });
    }
    this.wallets.length = 0;
    this.positions.length = 0;
  }
}
