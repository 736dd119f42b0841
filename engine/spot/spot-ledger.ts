/**
 * The spot ledger: the settlement of spot markets (../settlement.ts) and the deposits and
 * withdrawals that feed it. It owns every movement of spot balances — hold before matching,
 * settle each fill, release leftovers (STYLE.md §11) — and the BalanceChanged events: one per
 * touched user and asset, with the final figures, in the order they were first touched.
 *
 * Balances live on the ledger's accounts (../ledger.ts) as [available, locked] pairs by asset
 * index. A buy holds quote (notional plus its fee at the larger rate, or its budget), a sell holds
 * base; the fee account (EngineConfig.feeAccountId) receives both sides' fees in the quote asset.
 * Integer bounds: engine/README.md "Integer bounds".
 */
import { buyLockOf } from '../arithmetic.ts';
import type { CommandEvents } from '../command-events.ts';
import type { Account, Ledger } from '../ledger.ts';
import type { Book } from '../matching/book.ts';
import type { OrderNode } from '../matching/order.ts';
import type { RejectReason } from '../reject-codes.ts';
import type { Settlement } from '../settlement.ts';
import type { DepositCommand, EngineConfig, PlaceOrderCommand, WithdrawCommand } from '../types.ts';
import { isNonNegativeSafe } from '../validation.ts';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export class SpotLedger implements Settlement {
  private readonly feeAccount: Account;
  /** the balances the command touched (account, asset index), in first-touch order */
  private readonly dirtyAccounts: Account[] = [];
  private readonly dirtyAssets: number[] = [];
  private dirtyBalanceCount = 0;

  constructor(
    private readonly config: EngineConfig,
    private readonly ledger: Ledger,
    private readonly events: CommandEvents,
  ) {
    this.feeAccount = ledger.account(config.feeAccountId);
  }

  // ---------------------------------------------------------------------------------------------
  // Settlement

  hold(book: Book, account: Account, command: PlaceOrderCommand): number | RejectReason {
    const market = book.market;
    const isBuy = command.side === 'Buy';
    const balances = account.balances;
    const assetIndex = isBuy ? book.quoteIndex : book.baseIndex;
    const available = balances[assetIndex * 2]!;
    let hold: number;
    if (!isBuy) hold = command.quantity! * market.baseMinorPerLot;
    else if (command.price !== undefined) hold = buyLockOf(command.price, command.quantity!, market.quotePerTickLot, book.maxFeePpm);
    else if (command.quoteAmount !== undefined) hold = command.quoteAmount;
    else hold = available; // market buy by quantity alone: its budget is all that is available
    if (hold === 0 || hold > available) return 'INSUFFICIENT_FUNDS';
    balances[assetIndex * 2] = available - hold;
    balances[assetIndex * 2 + 1]! += hold;
    this.touchBalance(account, assetIndex);
    return hold;
  }

  /** A market buy (no price) spends at most its hold, fee included. */
  spendsHold(taker: OrderNode): boolean {
    return taker.isBuy && taker.price === 0;
  }

  /**
   * The buyer pays notional + its fee from its hold and receives the base; the seller pays the base
   * from its hold and receives notional − its fee; the fee account receives both fees. Every
   * asset's total is unchanged.
   */
  settleFill(book: Book, maker: OrderNode, taker: OrderNode, lots: number, notional: number, makerFee: number, takerFee: number): void {
    const baseAmount = lots * book.market.baseMinorPerLot;
    const buyer = taker.isBuy ? taker : maker;
    const seller = taker.isBuy ? maker : taker;
    const buyerFee = taker.isBuy ? takerFee : makerFee;
    const sellerFee = taker.isBuy ? makerFee : takerFee;
    const baseIndex = book.baseIndex;
    const quoteIndex = book.quoteIndex;
    const buyerBalances = buyer.account!.balances;
    const sellerBalances = seller.account!.balances;
    buyerBalances[quoteIndex * 2 + 1]! -= notional + buyerFee;
    buyer.locked -= notional + buyerFee;
    buyerBalances[baseIndex * 2]! += baseAmount;
    sellerBalances[baseIndex * 2 + 1]! -= baseAmount;
    seller.locked -= baseAmount;
    sellerBalances[quoteIndex * 2]! += notional - sellerFee;
    this.feeAccount.balances[quoteIndex * 2]! += makerFee + takerFee;
    this.touchBalance(buyer.account!, quoteIndex);
    this.touchBalance(buyer.account!, baseIndex);
    this.touchBalance(seller.account!, baseIndex);
    this.touchBalance(seller.account!, quoteIndex);
    this.touchBalance(this.feeAccount, quoteIndex);
    // A limit buy filled below its price frees the difference at once.
    if (buyer.price > 0) this.releaseBuyExcess(book, buyer);
  }

  releaseReduced(book: Book, order: OrderNode, reduction: number): void {
    if (!order.isBuy) this.release(order, book.baseIndex, reduction * book.market.baseMinorPerLot);
    else if (order.price > 0) this.releaseBuyExcess(book, order);
  }

  releaseRest(book: Book, order: OrderNode): void {
    if (order.locked > 0) this.release(order, order.isBuy ? book.quoteIndex : book.baseIndex, order.locked);
  }

  private release(order: OrderNode, assetIndex: number, amount: number): void {
    const account = order.account!;
    account.balances[assetIndex * 2 + 1]! -= amount;
    account.balances[assetIndex * 2]! += amount;
    order.locked -= amount;
    this.touchBalance(account, assetIndex);
  }

  /** Keeps a limit buy's hold at exactly what its remaining quantity can still cost. */
  private releaseBuyExcess(book: Book, order: OrderNode): void {
    const required = buyLockOf(order.price, order.quantity - order.filled, book.market.quotePerTickLot, book.maxFeePpm, order.feeCarry);
    const excess = order.locked - required;
    if (excess > 0) this.release(order, book.quoteIndex, excess);
  }

  // ---------------------------------------------------------------------------------------------
  // Deposits and withdrawals

  deposit(command: DepositCommand): void {
    const assetIndex = this.checkFundsCommand(command);
    if (assetIndex === undefined) return;
    const ledger = this.ledger;
    if (ledger.supply[assetIndex]! > MAX_SAFE - command.amount) return this.events.reject('ASSET_SUPPLY_LIMIT', command, undefined);
    ledger.supply[assetIndex]! += command.amount;
    const account = ledger.account(command.userId);
    account.balances[assetIndex * 2]! += command.amount;
    this.touchBalance(account, assetIndex);
  }

  withdraw(command: WithdrawCommand): void {
    const assetIndex = this.checkFundsCommand(command);
    if (assetIndex === undefined) return;
    const account = this.ledger.find(command.userId);
    if (account === undefined || account.balances[assetIndex * 2]! < command.amount) {
      return this.events.reject('INSUFFICIENT_AVAILABLE', command, undefined);
    }
    this.ledger.supply[assetIndex]! -= command.amount;
    account.balances[assetIndex * 2]! -= command.amount;
    this.touchBalance(account, assetIndex);
  }

  /**
   * A futures transfer's spot side (perp/futures-commands.ts): adds `amount` (signed) to the
   * available balance; the caller checked it stays ≥ 0. The asset's supply counts spot and futures
   * money together, so it does not move.
   */
  moveAvailable(account: Account, assetIndex: number, amount: number): void {
    account.balances[assetIndex * 2]! += amount;
    this.touchBalance(account, assetIndex);
  }

  private checkFundsCommand(command: DepositCommand | WithdrawCommand): number | undefined {
    const events = this.events;
    if (!isNonNegativeSafe(command.userId)) return events.reject('INVALID_USER_ID', command, undefined);
    if (!isNonNegativeSafe(command.timestamp)) return events.reject('INVALID_TIMESTAMP', command, undefined);
    const assetIndex = this.ledger.assetIndex.get(command.asset);
    if (assetIndex === undefined) return events.reject('UNKNOWN_ASSET', command, undefined);
    const amount = command.amount;
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0)
      return events.reject('INVALID_AMOUNT', command, undefined);
    return assetIndex;
  }

  // ---------------------------------------------------------------------------------------------
  // BalanceChanged events

  private touchBalance(account: Account, assetIndex: number): void {
    const epoch = this.events.epoch;
    if (account.dirtyMarks[assetIndex] === epoch) return;
    account.dirtyMarks[assetIndex] = epoch;
    const count = this.dirtyBalanceCount;
    this.dirtyAccounts[count] = account;
    this.dirtyAssets[count] = assetIndex;
    this.dirtyBalanceCount = count + 1;
  }

  /** At the end of a command: one BalanceChanged per touched balance, with its final figures. */
  flushBalanceChanges(): void {
    if (this.dirtyBalanceCount === 0) return;
    const events = this.events;
    const timestamp = events.timestamp;
    const assets = this.config.assets;
    for (let index = 0; index < this.dirtyBalanceCount; index++) {
      const account = this.dirtyAccounts[index]!;
      const assetIndex = this.dirtyAssets[index]!;
      events.emit({
        type: 'BalanceChanged',
        seq: ++events.seq,
        timestamp,
        userId: account.userId,
        asset: assets[assetIndex]!.code,
        available: account.balances[assetIndex * 2]!,
        locked: account.balances[assetIndex * 2 + 1]!,
      });
    }
    this.dirtyBalanceCount = 0;
  }
}
