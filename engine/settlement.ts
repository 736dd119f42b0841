/**
 * The settlement port: how a market's orders and fills move money (STYLE.md §11, §25). Matching
 * decides who trades how many lots at which price and what fee each order owes; a settlement
 * holds funds for an order before it matches, moves them on each fill (both sides and the fees),
 * and releases what is left once the order no longer needs it.
 *
 * Each book carries its market's settlement (Book.settlement), chosen once when the engine is
 * built: matching calls through it and never asks what kind of market it runs. Spot markets
 * settle in spot balances (spot/spot-ledger.ts); a perpetual market's settlement would move a
 * position and a futures wallet instead, beside it.
 *
 * Units: lots, ticks and minor units as everywhere in the engine; an order's `locked` is what it
 * still holds, in the units its settlement chose.
 */
import type { Account } from './ledger.ts';
import type { Book } from './matching/book.ts';
import type { OrderNode } from './matching/order.ts';
import type { RejectReason } from './reject-codes.ts';
import type { ExpiryReason, PlaceOrderCommand } from './types.ts';

export interface Settlement {
  /**
   * Takes from `account` what the new order can cost at most, before it matches: the amount held
   * (> 0, the order's `locked`), or why it cannot be taken — then nothing has changed.
   */
  hold(book: Book, account: Account, command: PlaceOrderCommand): number | RejectReason;

  /**
   * Whether the taker's fills are bounded by what it holds, fees at the taker rate included (a
   * spot market buy spends its hold): matching then takes only the lots its `locked` still pays for.
   */
  spendsHold(taker: OrderNode): boolean;

  /**
   * Moves the money of one trade of `lots` worth `notional` quote minor units between maker and
   * taker, each paying its fee (already added to the order's feesPaid) to the fee account.
   * Called after both orders' fill figures are updated.
   */
  settleFill(book: Book, maker: OrderNode, taker: OrderNode, lots: number, notional: number, makerFee: number, takerFee: number): void;

  /** An open order's quantity was cut by `reduction` lots (amend): releases what it no longer needs. */
  releaseReduced(book: Book, order: OrderNode, reduction: number): void;

  /** A finished order (filled, cancelled, expired) gives back everything it still holds. */
  releaseRest(book: Book, order: OrderNode): void;

  /**
   * Only settlements whose fills can be refused implement it (perpetual markets: a reduce-only
   * order never opens, a taker's opening fill is re-checked against its margin); a book with one
   * has Book.capsFills and matching asks before each trade. How many of `lots` at `priceTicks` the
   * order may take (0 … lots). Fewer than asked: the order ends after that fill, expired with
   * `capReason`.
   */
  fillableLots?(book: Book, order: OrderNode, isMaker: boolean, lots: number, priceTicks: number): number;
  /** why the last fillableLots answer was short */
  readonly capReason?: ExpiryReason;

  /**
   * The FOK pre-check of a settlement with fillableLots (all or nothing under its caps): matching
   * walks the trades the order would make, asks fillableLots before each as it would when matching,
   * and applies each planned trade with previewFill (a maker its self-trade prevention expires with
   * previewExpire), so the next answer is the one it would get then; endPreview undoes them all.
   * Arguments as settleFill's and releaseRest's; the orders' fill figures are matching's to restore.
   */
  previewFill?(book: Book, maker: OrderNode, taker: OrderNode, lots: number, notional: number, makerFee: number, takerFee: number): void;
  previewExpire?(book: Book, order: OrderNode): void;
  endPreview?(): void;

  /**
   * Perpetual close-position orders (stop-book.ts): the lots a fired one takes — everything its
   * leg can reduce from its side now (0: nothing to close, it expires). Asked just before it runs.
   */
  closeLots?(book: Book, order: OrderNode): number;
}
