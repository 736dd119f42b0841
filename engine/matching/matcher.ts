/**
 * Price-time matching of one order against its book: the fill loop at the maker's price, time in
 * force (IOC, FOK, GTC rest), self-trade prevention, market orders that spend a budget, and stop
 * orders fired by the last trade price. What a fill does to money is the market's settlement's
 * (Book.settlement): matching fixes the lots, the price and each order's fee, and calls it once
 * per trade.
 */
import { affordableLots, carryAfter, feeOf } from '../arithmetic.ts';
import type { CommandEvents } from '../command-events.ts';
import type { ExpiryReason, FillReport, TradeEvent } from '../types.ts';
import type { Book, PriceLevel } from './book.ts';
import type { BookDeltas } from './book-deltas.ts';
import type { OrderLifecycle } from './order-lifecycle.ts';
import type { OrderNode } from './order.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class Matcher {
  /** id of the last trade (part of the state: snapshot.ts) */
  tradeSeq = 0;
  /** the taker side of the latest trade, until the command's events are returned (see execute) */
  private lastTakerReport: Mutable<FillReport> | null = null;

  constructor(
    private readonly events: CommandEvents,
    private readonly deltas: BookDeltas,
    private readonly lifecycle: OrderLifecycle,
  ) {}

  /** Runs an accepted (or just triggered) order against the book, then rests or finishes it. */
  execute(book: Book, taker: OrderNode): void {
    const lifecycle = this.lifecycle;
    const isBuy = taker.isBuy;
    const opposite = isBuy ? book.asks : book.bids;
    const limit = taker.price; // 0 for market orders
    // A taker that spends its hold (a spot market buy) takes only what that still pays for, fee included.
    const budgeted = book.settlement.spendsHold(taker);
    // A settlement that may refuse part of a fill (perpetual markets) is asked before each trade.
    const capped = book.capsFills;
    const market = book.market;
    if (taker.timeInForce === 'FOK' && !(capped ? this.canFillFullyCapped(book, taker) : this.canFillFully(book, taker, budgeted)))
      return lifecycle.expire(book, taker, 'FOK');

    let stopReason: ExpiryReason | undefined;
    matching: while (taker.quantity > taker.filled) {
      const level = opposite.best();
      if (level === undefined) break;
      if (limit > 0 && (isBuy ? level.price > limit : level.price < limit)) break;
      let maker = level.head;
      while (maker !== null) {
        const next = maker.next;
        if (maker.userId === taker.userId) {
          // Self-trade prevention; the taker's mode decides.
          if (taker.stp === 'ExpireTaker') {
            stopReason = 'SelfTradePrevention';
            break matching;
          }
          lifecycle.unrest(book, maker);
          lifecycle.expire(book, maker, 'SelfTradePrevention');
          if (taker.stp === 'ExpireBoth') {
            stopReason = 'SelfTradePrevention';
            break matching;
          }
          maker = next;
          continue;
        }
        let lots = taker.quantity - taker.filled;
        const makerRemaining = maker.quantity - maker.filled;
        if (makerRemaining < lots) lots = makerRemaining;
        if (budgeted) {
          lots = affordableLots(taker.locked, level.price * market.quotePerTickLot, market.takerFeePpm, lots, taker.feeCarry);
          if (lots === 0) {
            stopReason = 'QuoteAmountExhausted';
            break matching;
          }
        }
        const budgetLimited = budgeted && lots < makerRemaining && lots < taker.quantity - taker.filled;
        let makerCutBy: ExpiryReason | undefined;
        let takerCutBy: ExpiryReason | undefined;
        let makerLots = lots;
        if (capped) {
          const settlement = book.settlement;
          makerLots = settlement.fillableLots!(book, maker, true, lots, level.price);
          if (makerLots < lots) makerCutBy = settlement.capReason;
          if (makerLots === 0) {
            lifecycle.unrest(book, maker);
            lifecycle.expire(book, maker, makerCutBy!);
            maker = next;
            continue;
          }
          const takerLots = settlement.fillableLots!(book, taker, false, makerLots, level.price);
          if (takerLots < makerLots) takerCutBy = settlement.capReason;
          if (takerLots === 0) {
            stopReason = takerCutBy;
            break matching;
          }
          lots = takerLots;
        }
        this.fill(book, level, maker, taker, lots);
        if (makerCutBy !== undefined && lots === makerLots && maker.filled < maker.quantity) {
          // it may not fill further (a reduce-only maker whose position is closed)
          lifecycle.unrest(book, maker);
          lifecycle.expire(book, maker, makerCutBy);
        }
        if (taker.quantity === taker.filled) break matching;
        if (takerCutBy !== undefined) {
          stopReason = takerCutBy;
          break matching;
        }
        // Cut short by the budget: fees are charged on the cumulative fill, so n lots then one more
        // cost what n + 1 at once would — which the budget could not buy. Not one more lot, here or
        // at any worse price.
        if (budgetLimited) {
          stopReason = 'QuoteAmountExhausted';
          break matching;
        }
        maker = next;
      }
    }

    if (taker.quantity === taker.filled) return lifecycle.complete(book, taker);
    // The book ran out just as the budget did: what is left cannot buy one more lot even at the
    // price it last paid, so the budget, not the liquidity, is what ended it.
    if (budgeted && stopReason === undefined && taker.filled > 0) {
      if (affordableLots(taker.locked, book.lastPrice * market.quotePerTickLot, market.takerFeePpm, 1, taker.feeCarry) === 0)
        stopReason = 'QuoteAmountExhausted';
    }
    if (limit === 0) {
      if (taker.byQuote && stopReason === 'QuoteAmountExhausted' && taker.filled > 0) {
        // A buy by amount alone is done when its budget is: its last execution report, the taker
        // side of its last trade in this command, is the one that says so.
        this.lastTakerReport!.status = 'Filled';
        return lifecycle.complete(book, taker);
      }
      return lifecycle.expire(book, taker, stopReason ?? 'MarketNoLiquidity');
    }
    if (stopReason !== undefined) return lifecycle.expire(book, taker, stopReason);
    if (taker.timeInForce !== 'GTC') return lifecycle.expire(book, taker, taker.timeInForce);
    // Rest on the book.
    const side = isBuy ? book.bids : book.asks;
    side.append(taker);
    this.deltas.touch(book, isBuy, taker.level!);
    lifecycle.list(book, taker);
  }

  /** FOK pre-check: walks what matching would do, without changing anything. */
  private canFillFully(book: Book, taker: OrderNode, budgeted: boolean): boolean {
    const isBuy = taker.isBuy;
    const limit = taker.price;
    const market = book.market;
    const levels = (isBuy ? book.asks : book.bids).sorted;
    let need = taker.quantity - taker.filled;
    let budget = budgeted ? taker.locked : -1;
    let carry = taker.feeCarry;
    for (let index = levels.length - 1; index >= 0; index--) {
      const level = levels[index]!;
      if (limit > 0 && (isBuy ? level.price > limit : level.price < limit)) return false;
      for (let maker = level.head; maker !== null; maker = maker.next) {
        if (maker.userId === taker.userId) {
          if (taker.stp === 'ExpireMaker') continue;
          return false;
        }
        const want = Math.min(need, maker.quantity - maker.filled);
        if (budget >= 0) {
          // As matching does: a fill the budget cuts short ends the order (see execute).
          const unit = level.price * market.quotePerTickLot;
          if (affordableLots(budget, unit, market.takerFeePpm, want, carry) < want) return false;
          const notional = want * unit;
          budget -= notional + feeOf(notional, market.takerFeePpm, carry);
          carry = carryAfter(notional, market.takerFeePpm, carry);
        }
        need -= want;
        if (need === 0) return true;
      }
    }
    return false;
  }

  /**
   * FOK pre-check of a book whose settlement caps fills (perpetual markets): walks the trades
   * matching would make, asking the settlement's fillableLots before each as matching does and
   * applying each with previewFill, so that a cap matching would meet (a reduce-only order past its
   * leg, a taker's margin) is met here first; everything is undone before it answers. A capped maker
   * gives what it may and the walk goes on, as in matching; a capped taker means not all.
   */
  private canFillFullyCapped(book: Book, taker: OrderNode): boolean {
    const settlement = book.settlement;
    const market = book.market;
    const isBuy = taker.isBuy;
    const limit = taker.price;
    const levels = (isBuy ? book.asks : book.bids).sorted;
    // fill figures the walk moves, restored at the end (the settlement restores its own state)
    const restore: [OrderNode, number, number][] = [[taker, taker.filled, taker.feeCarry]];
    try {
      for (let index = levels.length - 1; index >= 0; index--) {
        const level = levels[index]!;
        if (limit > 0 && (isBuy ? level.price > limit : level.price < limit)) return false;
        for (let maker = level.head; maker !== null; maker = maker.next) {
          if (maker.userId === taker.userId) {
            if (taker.stp !== 'ExpireMaker') return false;
            settlement.previewExpire!(book, maker);
            continue;
          }
          const lots = Math.min(taker.quantity - taker.filled, maker.quantity - maker.filled);
          const makerLots = settlement.fillableLots!(book, maker, true, lots, level.price);
          if (makerLots === 0) continue;
          if (settlement.fillableLots!(book, taker, false, makerLots, level.price) < makerLots) return false;
          const notional = level.price * makerLots * market.quotePerTickLot;
          const makerFee = feeOf(notional, market.makerFeePpm, maker.feeCarry);
          const takerFee = feeOf(notional, market.takerFeePpm, taker.feeCarry);
          restore.push([maker, maker.filled, maker.feeCarry]);
          maker.feeCarry = carryAfter(notional, market.makerFeePpm, maker.feeCarry);
          taker.feeCarry = carryAfter(notional, market.takerFeePpm, taker.feeCarry);
          maker.filled += makerLots;
          taker.filled += makerLots;
          settlement.previewFill!(book, maker, taker, makerLots, notional, makerFee, takerFee);
          if (taker.filled === taker.quantity) return true;
        }
      }
      return false;
    } finally {
      settlement.endPreview!();
      for (let index = restore.length - 1; index >= 0; index--) {
        const [order, filled, feeCarry] = restore[index]!;
        order.filled = filled;
        order.feeCarry = feeCarry;
      }
    }
  }

  /**
   * One trade of `lots` at the maker's price: both orders' fill figures and fees, the level's total,
   * the market's settlement, the last price and 24 h window, the Trade event with both reports.
   */
  private fill(book: Book, level: PriceLevel, maker: OrderNode, taker: OrderNode, lots: number): void {
    const events = this.events;
    const market = book.market;
    const price = level.price;
    const notional = price * lots * market.quotePerTickLot; // ≤ maxNotional, see arithmetic.ts
    // Each order pays what this fill adds to the fee due on its cumulative fill (arithmetic.ts).
    const makerFee = feeOf(notional, market.makerFeePpm, maker.feeCarry);
    // A liquidation order pays no taker fee (ARCHITECTURE.md "Liquidation"); its maker pays as usual.
    const liquidation = taker.liquidation;
    const takerFee = liquidation ? 0 : feeOf(notional, market.takerFeePpm, taker.feeCarry);
    maker.feeCarry = carryAfter(notional, market.makerFeePpm, maker.feeCarry);
    if (!liquidation) taker.feeCarry = carryAfter(notional, market.takerFeePpm, taker.feeCarry);
    const timestamp = events.timestamp;

    maker.filled += lots;
    maker.filledQuote += notional;
    maker.feesPaid += makerFee;
    maker.status = maker.filled === maker.quantity ? 'Filled' : 'PartiallyFilled';
    maker.updatedAt = timestamp;
    taker.filled += lots;
    taker.filledQuote += notional;
    taker.feesPaid += takerFee;
    taker.status = taker.filled === taker.quantity ? 'Filled' : 'PartiallyFilled';
    taker.updatedAt = timestamp;
    level.total -= lots;
    this.deltas.touch(book, maker.isBuy, level);

    book.settlement.settleFill(book, maker, taker, lots, notional, makerFee, takerFee);
    book.lastPrice = price;
    const ticker = book.ticker;
    ticker.record(timestamp, price, lots, notional);
    ticker.tradedEpoch = events.epoch;

    // Three seqs: the trade's, the maker's report's, the taker's report's.
    const seq = events.seq + 1;
    events.seq = seq + 2;
    const trade: TradeEvent = {
      type: 'Trade',
      seq,
      timestamp,
      symbol: market.symbol,
      tradeId: ++this.tradeSeq,
      price,
      quantity: lots,
      quoteQuantity: notional,
      takerSide: taker.side,
      maker: fillReport(maker, true, makerFee, seq + 1),
      taker: (this.lastTakerReport = fillReport(taker, false, takerFee, seq + 2)),
    };
    events.emit(liquidation ? { ...trade, liquidation: true } : trade);
    if (maker.filled === maker.quantity) {
      this.lifecycle.unrest(book, maker);
      this.lifecycle.retire(book, maker);
    }
  }

  /**
   * Fires every stop the last price reaches, then runs them one by one in trigger order; the fills
   * they make may fire more, which queue behind. `markFired` — the mark-price orders a mark move
   * (or a placement) just took off the stop book (stop-book.ts) — are triggered first, in their order.
   */
  fireStops(book: Book, markFired: readonly OrderNode[] = []): void {
    const queue: OrderNode[] = [];
    for (const order of markFired) this.trigger(book, order, queue);
    let next = 0;
    for (;;) {
      if (book.stops.size > 0 && book.lastPrice > 0) {
        for (const order of book.stops.takeTriggered(book.lastPrice)) this.trigger(book, order, queue);
      }
      if (next === queue.length) return;
      const order = queue[next++]!;
      // a close-position order takes its leg as it is when it runs (earlier ones may have moved it)
      if (order.closePosition) {
        order.quantity = book.settlement.closeLots!(book, order);
        if (order.quantity === 0) {
          this.lifecycle.expire(book, order, 'ReduceOnly');
          continue;
        }
      }
      this.execute(book, order);
    }
  }

  private trigger(book: Book, order: OrderNode, queue: OrderNode[]): void {
    const events = this.events;
    this.lifecycle.unlist(book, order);
    order.status = 'Pending';
    order.updatedAt = events.timestamp;
    events.emit({ type: 'OrderTriggered', seq: ++events.seq, timestamp: events.timestamp, order: order.view() });
    queue.push(order);
  }
}

function fillReport(order: OrderNode, isMaker: boolean, fee: number, seq: number): Mutable<FillReport> {
  return {
    seq,
    orderId: order.orderId,
    userId: order.userId,
    clientOrderId: order.clientOrderId,
    side: order.side,
    isMaker,
    filledQuantity: order.filled,
    remainingQuantity: order.byQuote ? 0 : order.quantity - order.filled,
    fee,
    status: order.status,
    orderType: order.orderType,
    orderPrice: order.price > 0 ? order.price : undefined,
    orderQuantity: order.byQuote ? order.filled : order.quantity,
    filledQuote: order.filledQuote,
  };
}
