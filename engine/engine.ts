/**
 * The matching engine: price-time priority per market, a ledger that holds funds before matching
 * and settles each fill, stop orders fired by the last trade price. Pure and synchronous: the
 * same commands always give the same events and the same state (no clock, no randomness; time
 * and ids arrive on each command).
 *
 * Within one command, book deltas (one per touched level, with its final total) and balance
 * changes (one per touched user and asset, with the final figures) are gathered and emitted
 * after the order events, in the order they were first touched; then a Ticker for each symbol whose
 * figures changed and whose last Ticker is at least TICKER_INTERVAL_MS old (market order).
 */
import { affordableLots, buyLockOf, carryAfter, feeOf } from './arithmetic.ts';
import { Book, type BookSide, type PriceLevel } from './matching/book.ts';
import { Account, Ledger } from './ledger.ts';
import { OrderIndex } from './matching/order-index.ts';
import { OrderNode } from './matching/order.ts';
import { EXPIRY_REASONS, RecentOrders } from './matching/recent-orders.ts';
import { REJECT_CODES, type RejectReason } from './reject-codes.ts';
import { restoreState, snapshotState } from './snapshot.ts';
import { hashSnapshot } from './state-hash.ts';
import { primeEventShapes, TAGGED } from './shapes.ts';
import { TICKER_INTERVAL_MS } from './types.ts';
import type {
  AmendOrderCommand,
  BalanceView,
  BookDepth,
  BookLevel,
  CancelOrderCommand,
  Command,
  DepositCommand,
  EngineConfig,
  EngineEvent,
  EngineSnapshot,
  ExpiryReason,
  FillReport,
  MarketSpec,
  MatchingEngine,
  OrderView,
  PlaceOrderCommand,
  TickerFigures,
  WithdrawCommand,
} from './types.ts';
import { isNonNegativeSafe, validatePlaceOrder } from './validation.ts';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Rejections where the command is too malformed to keep a Rejected order record of it. */
const UNRECORDABLE = new Set<RejectReason>([
  'INVALID_ORDER_ID',
  'INVALID_USER_ID',
  'INVALID_TIMESTAMP',
  'INVALID_SIDE',
  'INVALID_ORDER_TYPE',
  'INVALID_TIME_IN_FORCE',
  'INVALID_STP_MODE',
  'INVALID_COMMAND',
  'INVALID_CLIENT_ORDER_ID',
  'DUPLICATE_ORDER_ID',
  'DUPLICATE_CLIENT_ORDER_ID',
]);

export class Engine implements MatchingEngine {
  /** @internal state shared with snapshot.ts */
  readonly books = new Map<string, Book>();
  /** @internal */
  readonly ledger: Ledger;
  /** @internal every order still known by id: open ones and the recently finished */
  readonly orders = new OrderIndex((slot, orderId) => this.recent.orderIdAt(slot) === orderId);
  /** @internal */
  readonly recent: RecentOrders;
  /** @internal */
  seq = 0;
  /** @internal */
  tradeSeq = 0;

  private readonly feeAccount: Account;
  /** the taker side of the latest trade, until the command's events are returned (see execute) */
  private lastTakerReport: Mutable<FillReport> | null = null;
  private readonly nodePool: OrderNode[] = [];
  /**
   * The command's events, gathered in a reused array and copied out at the end: the copy is
   * exactly as long as the list (3 events for most commands), where a fresh array grown by
   * push would allocate room for 17.
   */
  private readonly events: EngineEvent[] = [];
  private eventCount = 0;
  /** the command's timestamp; a tagged field so that events share its heap number (shapes.ts) */
  private timestamp: number = TAGGED;
  /** counts applied commands; marks levels and balances already listed for this command */
  private epoch = 0;
  private readonly dirtyBooks: Book[] = [];
  private readonly dirtyIsBid: boolean[] = [];
  private readonly dirtyPrices: number[] = [];
  private dirtyLevelCount = 0;
  private readonly dirtyAccounts: Account[] = [];
  private readonly dirtyAssets: number[] = [];
  private dirtyBalanceCount = 0;
  /** books in market-config order (Ticker events go out in this order) */
  private readonly bookList: Book[] = [];
  /** books whose levels the command touched: their Ticker figures may have changed */
  private readonly tickerChecks: Book[] = [];
  private tickerCheckCount = 0;
  /** symbols whose changed figures wait for their Ticker (derived from the books' ticker state) */
  private pendingTickerCount = 0;
  /** the earliest command timestamp at which a waiting Ticker is due (Infinity when none waits) */
  private nextTickerDueAt = Infinity;

  constructor(readonly config: EngineConfig) {
    primeEventShapes();
    this.timestamp = 0;
    this.ledger = new Ledger(config.assets, config.markets.length);
    for (const market of config.markets) {
      const baseIndex = this.ledger.assetIndex.get(market.base);
      const quoteIndex = this.ledger.assetIndex.get(market.quote);
      if (baseIndex === undefined || quoteIndex === undefined) throw new Error(`market ${market.symbol}: unknown asset`);
      const book = new Book(market, baseIndex, quoteIndex, this.bookList.length);
      this.books.set(market.symbol, book);
      this.bookList.push(book);
    }
    this.recent = new RecentOrders(config.recentFinishedLimit);
    this.feeAccount = this.ledger.account(config.feeAccountId);
  }

  static restore(config: EngineConfig, snapshot: EngineSnapshot): Engine {
    const engine = new Engine(config);
    restoreState(engine, snapshot);
    engine.recountTickers();
    return engine;
  }

  // ---------------------------------------------------------------------------------------------
  // Commands

  apply(command: Command): EngineEvent[] {
    this.eventCount = 0;
    this.epoch++;
    const timestamp = command?.timestamp;
    this.timestamp = isNonNegativeSafe(timestamp) ? timestamp : 0;
    switch (command?.type) {
      case 'PlaceOrder':
        this.placeOrder(command);
        break;
      case 'CancelOrder':
        this.cancelOrder(command);
        break;
      case 'AmendOrder':
        this.amendOrder(command);
        break;
      case 'Deposit':
        this.deposit(command);
        break;
      case 'Withdraw':
        this.withdraw(command);
        break;
      case 'Tick':
        break; // only lets time pass: the end-of-command Ticker flush below
      default:
        this.reject('INVALID_COMMAND', command, undefined);
    }
    if (this.dirtyLevelCount > 0) this.flushBookDeltas();
    if (this.dirtyBalanceCount > 0) this.flushBalances();
    if (this.tickerCheckCount > 0) this.checkTickers();
    if (this.pendingTickerCount > 0 && this.timestamp >= this.nextTickerDueAt) this.flushTickers();
    return this.events.slice(0, this.eventCount);
  }

  private emit(event: EngineEvent): void {
    this.events[this.eventCount++] = event;
  }

  private placeOrder(command: PlaceOrderCommand): void {
    const book = this.books.get(command.symbol);
    const reason = validatePlaceOrder(book?.market, command);
    if (reason !== undefined) return this.rejectOrder(reason, command);
    if (this.orders.get(command.orderId) !== undefined) return this.rejectOrder('DUPLICATE_ORDER_ID', command);
    const clientOrderId = command.clientOrderId;
    if (clientOrderId !== undefined) {
      // One order per (user, client order id) among open and remembered orders: the retry is told
      // which order has it, and leaves no record of its own (it must not shadow the original).
      const original = this.ledger.find(command.userId)?.clientOrderIds?.get(clientOrderId);
      if (original !== undefined) return this.reject('DUPLICATE_CLIENT_ORDER_ID', command, command.orderId, undefined, original);
    }
    // Bounded per user: an order that could rest (a GTC limit, a stop) needs room under the cap.
    if (command.stopPrice !== undefined || (command.orderType === 'Limit' && command.timeInForce === 'GTC')) {
      const open = this.ledger.find(command.userId)?.openByMarket[book!.index] ?? 0;
      if (open >= this.config.maxOpenOrdersPerUserMarket) return this.rejectOrder('TOO_MANY_OPEN_ORDERS', command);
    }
    const market = (book as Book).market;
    const isBuy = command.side === 'Buy';
    if (command.postOnly) {
      const best = (isBuy ? book!.asks : book!.bids).best();
      if (best !== undefined && (isBuy ? command.price! >= best.price : command.price! <= best.price)) {
        return this.rejectOrder('POST_ONLY_WOULD_TAKE', command);
      }
    }
    // A market order by quantity has a value only against the book: at the best price now it must
    // reach the minimum notional, as a limit order must at its price. (Below it, a whole order's fee
    // rounds down to little or nothing — ops/security.test.ts.)
    if (command.orderType === 'Market' && command.quantity !== undefined) {
      const best = (isBuy ? book!.asks : book!.bids).best();
      if (best !== undefined && best.price * command.quantity * market.quotePerTickLot < market.minNotional) {
        return this.rejectOrder('NOTIONAL_BELOW_MIN', command);
      }
    }

    // Pre-trade hold: what the order can cost at most.
    const account = this.ledger.account(command.userId);
    const balances = account.balances;
    const assetIndex = isBuy ? book!.quoteIndex : book!.baseIndex;
    const available = balances[assetIndex * 2]!;
    let hold: number;
    if (!isBuy) hold = command.quantity! * market.baseMinorPerLot;
    else if (command.price !== undefined) hold = buyLockOf(command.price, command.quantity!, market.quotePerTickLot, book!.maxFeePpm);
    else if (command.quoteAmount !== undefined) hold = command.quoteAmount;
    else hold = available; // market buy by quantity alone: its budget is all that is available
    if (hold === 0 || hold > available) return this.rejectOrder('INSUFFICIENT_FUNDS', command);
    balances[assetIndex * 2] = available - hold;
    balances[assetIndex * 2 + 1]! += hold;
    this.touchBalance(account, assetIndex);

    const order = this.newOrder(command, market, account, isBuy);
    order.locked = hold;
    this.orders.set(order.orderId, order);
    if (clientOrderId !== undefined) this.claimClientOrderId(account, clientOrderId, order.orderId);
    if (command.stopPrice !== undefined) {
      order.status = 'Untriggered';
      this.list(book!, order);
      book!.stops.add(order);
      this.emit({ type: 'OrderAccepted', seq: ++this.seq, timestamp: this.timestamp, order: order.view() });
    } else {
      this.emit({ type: 'OrderAccepted', seq: ++this.seq, timestamp: this.timestamp, order: order.view() });
      this.execute(book!, order);
    }
    if (book!.stops.size > 0 && book!.lastPrice > 0) this.fireStops(book!);
  }

  private cancelOrder(command: CancelOrderCommand): void {
    const order = this.findOwnOrder(command);
    if (order === undefined) return;
    const book = this.books.get(order.symbol)!;
    if (order.status === 'Untriggered') book.stops.remove(order);
    else this.unrest(book, order);
    order.status = 'Cancelled';
    order.updatedAt = this.timestamp;
    this.emit({ type: 'OrderCancelled', seq: ++this.seq, timestamp: this.timestamp, order: order.view() });
    this.retire(book, order);
  }

  private amendOrder(command: AmendOrderCommand): void {
    const order = this.findOwnOrder(command);
    if (order === undefined) return;
    const newQuantity = command.newQuantity;
    if (order.byQuote) return this.reject('AMEND_NOT_ALLOWED', command, order.orderId);
    if (typeof newQuantity !== 'number' || !Number.isSafeInteger(newQuantity) || newQuantity <= 0) {
      return this.reject('INVALID_QUANTITY', command, order.orderId);
    }
    if (newQuantity >= order.quantity) return this.reject('AMEND_NOT_REDUCING', command, order.orderId);
    if (newQuantity <= order.filled) return this.reject('AMEND_BELOW_FILLED', command, order.orderId);
    const book = this.books.get(order.symbol)!;
    const market = book.market;
    const reduction = order.quantity - newQuantity;
    const level = order.level;
    if (level !== null) {
      level.total -= reduction;
      this.touchLevel(book, order.isBuy, level);
    }
    order.quantity = newQuantity;
    order.updatedAt = this.timestamp;
    if (!order.isBuy) this.release(order, book.baseIndex, reduction * market.baseMinorPerLot);
    else if (order.price > 0) this.releaseBuyExcess(book, order);
    this.emit({ type: 'OrderAmended', seq: ++this.seq, timestamp: this.timestamp, order: order.view() });
  }

  private deposit(command: DepositCommand): void {
    const assetIndex = this.checkFundsCommand(command);
    if (assetIndex === undefined) return;
    if (this.ledger.supply[assetIndex]! > MAX_SAFE - command.amount) return this.reject('ASSET_SUPPLY_LIMIT', command, undefined);
    this.ledger.supply[assetIndex]! += command.amount;
    const account = this.ledger.account(command.userId);
    account.balances[assetIndex * 2]! += command.amount;
    this.touchBalance(account, assetIndex);
  }

  private withdraw(command: WithdrawCommand): void {
    const assetIndex = this.checkFundsCommand(command);
    if (assetIndex === undefined) return;
    const account = this.ledger.find(command.userId);
    if (account === undefined || account.balances[assetIndex * 2]! < command.amount) {
      return this.reject('INSUFFICIENT_AVAILABLE', command, undefined);
    }
    this.ledger.supply[assetIndex]! -= command.amount;
    account.balances[assetIndex * 2]! -= command.amount;
    this.touchBalance(account, assetIndex);
  }

  private checkFundsCommand(command: DepositCommand | WithdrawCommand): number | undefined {
    if (!isNonNegativeSafe(command.userId)) return this.reject('INVALID_USER_ID', command, undefined);
    if (!isNonNegativeSafe(command.timestamp)) return this.reject('INVALID_TIMESTAMP', command, undefined);
    const assetIndex = this.ledger.assetIndex.get(command.asset);
    if (assetIndex === undefined) return this.reject('UNKNOWN_ASSET', command, undefined);
    const amount = command.amount;
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) return this.reject('INVALID_AMOUNT', command, undefined);
    return assetIndex;
  }

  private findOwnOrder(command: CancelOrderCommand | AmendOrderCommand): OrderNode | undefined {
    if (!isNonNegativeSafe(command.userId)) return this.reject('INVALID_USER_ID', command, undefined);
    if (!isNonNegativeSafe(command.timestamp)) return this.reject('INVALID_TIMESTAMP', command, undefined);
    const orderId = command.orderId;
    const order = typeof orderId === 'number' && orderId > 0 ? this.orders.get(orderId) : undefined;
    if (typeof order !== 'object') {
      // A number is a remembered finished order's slot: the owner hears it is not open, anyone else
      // that it is not theirs (as for an open order).
      const reason = order === undefined ? 'ORDER_NOT_FOUND' : this.recent.userIdAt(order) === command.userId ? 'ORDER_NOT_OPEN' : 'NOT_ORDER_OWNER';
      return this.reject(reason, command, isNonNegativeSafe(orderId) ? orderId : undefined);
    }
    if (order.userId !== command.userId) return this.reject('NOT_ORDER_OWNER', command, orderId);
    return order;
  }

  // ---------------------------------------------------------------------------------------------
  // Matching

  /** Runs an accepted (or just triggered) order against the book, then rests or finishes it. */
  private execute(book: Book, taker: OrderNode): void {
    const isBuy = taker.isBuy;
    const opposite = isBuy ? book.asks : book.bids;
    const limit = taker.price; // 0 for market orders
    const budgeted = isBuy && limit === 0; // market buys spend at most their hold, fee included
    const market = book.market;
    if (taker.timeInForce === 'FOK' && !this.canFillFully(book, taker)) return this.expire(book, taker, 'FOK');

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
          this.unrest(book, maker);
          this.expire(book, maker, 'SelfTradePrevention');
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
        this.fill(book, level, maker, taker, lots);
        if (taker.quantity === taker.filled) break matching;
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

    if (taker.quantity === taker.filled) return this.complete(book, taker);
    // The book ran out just as the budget did: what is left cannot buy one more lot even at the
    // price it last paid, so the budget, not the liquidity, is what ended it.
    if (budgeted && stopReason === undefined && taker.filled > 0) {
      if (affordableLots(taker.locked, book.lastPrice * market.quotePerTickLot, market.takerFeePpm, 1, taker.feeCarry) === 0) stopReason = 'QuoteAmountExhausted';
    }
    if (limit === 0) {
      if (taker.byQuote && stopReason === 'QuoteAmountExhausted' && taker.filled > 0) {
        // A buy by amount alone is done when its budget is: its last execution report, the taker
        // side of its last trade in this command, is the one that says so.
        this.lastTakerReport!.status = 'Filled';
        return this.complete(book, taker);
      }
      return this.expire(book, taker, stopReason ?? 'MarketNoLiquidity');
    }
    if (stopReason !== undefined) return this.expire(book, taker, stopReason);
    if (taker.timeInForce !== 'GTC') return this.expire(book, taker, taker.timeInForce);
    // Rest on the book.
    const side = isBuy ? book.bids : book.asks;
    side.append(taker);
    this.touchLevel(book, isBuy, taker.level!);
    this.list(book, taker);
  }

  /** FOK pre-check: walks what matching would do, without changing anything. */
  private canFillFully(book: Book, taker: OrderNode): boolean {
    const isBuy = taker.isBuy;
    const limit = taker.price;
    const market = book.market;
    const levels = (isBuy ? book.asks : book.bids).sorted;
    let need = taker.quantity - taker.filled;
    let budget = isBuy && limit === 0 ? taker.locked : -1;
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
   * One trade of `lots` at the maker's price. Settlement (buyer pays notional + its fee from
   * its hold and receives the base; seller pays base from its hold and receives notional − its
   * fee; the fee account receives both fees) keeps every asset's total unchanged.
   */
  private fill(book: Book, level: PriceLevel, maker: OrderNode, taker: OrderNode, lots: number): void {
    const market = book.market;
    const price = level.price;
    const notional = price * lots * market.quotePerTickLot; // ≤ maxNotional, see arithmetic.ts
    // Each order pays what this fill adds to the fee due on its cumulative fill (arithmetic.ts).
    const makerFee = feeOf(notional, market.makerFeePpm, maker.feeCarry);
    const takerFee = feeOf(notional, market.takerFeePpm, taker.feeCarry);
    maker.feeCarry = carryAfter(notional, market.makerFeePpm, maker.feeCarry);
    taker.feeCarry = carryAfter(notional, market.takerFeePpm, taker.feeCarry);
    const baseAmount = lots * market.baseMinorPerLot;
    const timestamp = this.timestamp;

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
    this.touchLevel(book, maker.isBuy, level);

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
    book.lastPrice = price;
    const ticker = book.ticker;
    ticker.record(timestamp, price, lots, notional);
    ticker.tradedEpoch = this.epoch;

    // Three seqs: the trade's, the maker's report's, the taker's report's.
    const seq = this.seq + 1;
    this.seq = seq + 2;
    this.emit({
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
    });
    if (maker.filled === maker.quantity) {
      this.unrest(book, maker);
      this.retire(book, maker);
    }
  }

  /** Fires every stop the last price reaches, then runs them one by one in trigger order. */
  private fireStops(book: Book): void {
    const queue: OrderNode[] = [];
    let next = 0;
    for (;;) {
      if (book.stops.size > 0) {
        for (const order of book.stops.takeTriggered(book.lastPrice)) {
          this.unlist(book, order);
          order.status = 'Pending';
          order.updatedAt = this.timestamp;
          this.emit({ type: 'OrderTriggered', seq: ++this.seq, timestamp: this.timestamp, order: order.view() });
          queue.push(order);
        }
      }
      if (next === queue.length) return;
      this.execute(book, queue[next++]!);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Order lifecycle and funds

  private newOrder(command: PlaceOrderCommand, market: MarketSpec | undefined, account: Account | null, isBuy: boolean): OrderNode {
    const order = this.nodePool.pop() ?? new OrderNode();
    order.orderId = command.orderId;
    order.userId = command.userId;
    order.account = account;
    order.clientOrderId = command.clientOrderId;
    // The market's own string: one copy for all orders, not the string parsed with each command.
    order.symbol = market !== undefined ? market.symbol : command.symbol;
    order.side = command.side;
    order.isBuy = isBuy;
    order.orderType = command.orderType;
    order.timeInForce = command.timeInForce;
    order.postOnly = command.postOnly;
    order.stp = command.stp;
    order.price = command.price ?? 0;
    order.stopPrice = command.stopPrice ?? 0;
    order.byQuote = command.quantity === undefined;
    order.quantity = command.quantity ?? market?.maxQuantity ?? 0;
    order.quoteAmount = command.quoteAmount ?? 0;
    order.filled = 0;
    order.filledQuote = 0;
    order.feesPaid = 0;
    order.feeCarry = 0;
    order.locked = 0;
    order.status = 'Pending';
    order.rejectCode = 0;
    order.expireReason = 0;
    order.createdAt = this.timestamp;
    order.updatedAt = this.timestamp;
    order.level = null;
    order.prev = null;
    order.next = null;
    order.openSlot = -1;
    order.listed = false;
    return order;
  }

  /** Records an open order under its owner. */
  private list(book: Book, order: OrderNode): void {
    order.account!.addOpen(order, book.index);
    order.listed = true;
  }

  private unlist(book: Book, order: OrderNode): void {
    if (!order.listed) return;
    order.account!.removeOpen(order, book.index);
    order.listed = false;
  }

  /** Takes a resting order off its level, listing the level for a book delta. */
  private unrest(book: Book, order: OrderNode): void {
    const level = order.level;
    if (level === null) return;
    this.touchLevel(book, order.isBuy, level);
    (order.isBuy ? book.bids : book.asks).unlink(order);
  }

  private complete(book: Book, order: OrderNode): void {
    order.status = 'Filled';
    order.updatedAt = this.timestamp;
    this.retire(book, order);
  }

  private expire(book: Book, order: OrderNode, reason: ExpiryReason): void {
    order.status = 'Expired';
    order.expireReason = EXPIRY_REASONS.indexOf(reason) + 1;
    order.updatedAt = this.timestamp;
    this.emit({ type: 'OrderExpired', seq: ++this.seq, timestamp: this.timestamp, reason, order: order.view() });
    this.retire(book, order);
  }

  /** A finished order: releases what it still holds and moves it to the recent-orders FIFO. */
  private retire(book: Book, order: OrderNode): void {
    if (order.locked > 0) this.release(order, order.isBuy ? book.quoteIndex : book.baseIndex, order.locked);
    this.unlist(book, order);
    this.remember(order);
  }

  /**
   * Keeps a finished order answerable (copied into RecentOrders, the index pointing at its slot),
   * forgets the oldest one beyond the limit, and recycles the record.
   */
  private remember(order: OrderNode): void {
    const recent = this.recent;
    const slot = recent.push(order);
    const evictedId = recent.lastEvictedId;
    // While an order is remembered its id cannot be placed or recorded again (duplicate), so the
    // index entry of the evicted id is still its slot: count it out without touching it.
    if (evictedId >= 0) {
      this.orders.forget(evictedId);
      if (recent.lastEvictedClientOrderId !== undefined) this.releaseClientOrderId(recent.lastEvictedUserId, recent.lastEvictedClientOrderId, evictedId);
    }
    if (slot >= 0) this.orders.set(order.orderId, slot);
    else {
      this.orders.delete(order.orderId);
      if (order.clientOrderId !== undefined) this.releaseClientOrderId(order.userId, order.clientOrderId, order.orderId);
    }
    order.account = null;
    order.clientOrderId = undefined;
    order.level = null;
    this.nodePool.push(order);
  }

  /** The user's client order id now names `orderId` (an accepted order or a kept Rejected record). */
  private claimClientOrderId(account: Account, clientOrderId: string, orderId: number): void {
    (account.clientOrderIds ??= new Map()).set(clientOrderId, orderId);
  }

  /** A forgotten order gives its client order id back (unless a newer order holds it: old snapshots). */
  private releaseClientOrderId(userId: number, clientOrderId: string, orderId: number): void {
    const clientOrderIds = this.ledger.find(userId)?.clientOrderIds;
    if (clientOrderIds?.get(clientOrderId) === orderId) clientOrderIds.delete(clientOrderId);
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
  // Rejections and per-command event gathering

  private reject(reason: RejectReason, command: Command, orderId: number | undefined, order?: OrderView, duplicateOfOrderId?: number): undefined {
    const place = command?.type === 'PlaceOrder' ? command : undefined;
    const userId = (command as { userId?: unknown } | undefined)?.userId; // a Tick has none (and never is rejected)
    this.emit({
      type: 'OrderRejected',
      seq: ++this.seq,
      timestamp: this.timestamp,
      code: REJECT_CODES[reason],
      reason,
      commandType: (command?.type ?? 'PlaceOrder') as Command['type'],
      userId: isNonNegativeSafe(userId) ? userId : -1,
      orderId,
      clientOrderId: typeof place?.clientOrderId === 'string' ? place.clientOrderId : undefined,
      symbol: typeof place?.symbol === 'string' ? place.symbol : undefined,
      order,
      duplicateOfOrderId,
    });
    return undefined;
  }

  private rejectOrder(reason: RejectReason, command: PlaceOrderCommand): void {
    const validId = isNonNegativeSafe(command.orderId) && command.orderId > 0;
    const order = this.recordRejected(reason, command);
    // The event carries the record's view; the record joins the remembered orders after it.
    this.reject(reason, command, validId ? command.orderId : undefined, order?.view());
    if (order === undefined) return;
    // A kept record holds its client order id like any order: a retry is answered with it.
    if (typeof order.clientOrderId === 'string') this.claimClientOrderId(this.ledger.account(order.userId), order.clientOrderId, order.orderId);
    this.remember(order);
  }

  /** The Rejected record of a refused PlaceOrder, or undefined when none is kept (not yet remembered). */
  private recordRejected(reason: RejectReason, command: PlaceOrderCommand): OrderNode | undefined {
    // INVALID_TIME_IN_FORCE with a valid value is the combination rule (FOK on a buy by amount
    // alone), checked after every field is known good: such an order is recorded like the others.
    const tif = command.timeInForce;
    const combination = reason === 'INVALID_TIME_IN_FORCE' && (tif === 'GTC' || tif === 'IOC' || tif === 'FOK');
    if ((UNRECORDABLE.has(reason) && !combination) || typeof command.symbol !== 'string') return undefined;
    // An id already known keeps its own record (a rejected command does not shadow it); so does a
    // client order id (a shape refusal comes before the duplicate check).
    if (this.orders.get(command.orderId) !== undefined) return undefined;
    const clientOrderId = command.clientOrderId;
    if (clientOrderId !== undefined && this.ledger.find(command.userId)?.clientOrderIds?.has(clientOrderId) === true) return undefined;
    // Keep the rejected order answerable by id (status Rejected with its reason).
    const order = this.newOrder(command, this.books.get(command.symbol)?.market, null, command.side === 'Buy');
    if (!isNonNegativeSafe(order.price)) order.price = 0;
    if (!isNonNegativeSafe(order.stopPrice)) order.stopPrice = 0;
    // a buy by amount alone bought nothing: its quantity (lots bought) is 0, not the market's cap
    if (!isNonNegativeSafe(order.quantity) || command.quantity === undefined) order.quantity = 0;
    if (!isNonNegativeSafe(order.quoteAmount)) order.quoteAmount = 0;
    order.byQuote = false;
    order.status = 'Rejected';
    order.rejectCode = REJECT_CODES[reason];
    return order;
  }

  private touchLevel(book: Book, isBid: boolean, level: PriceLevel): void {
    if (level.dirtyMark === this.epoch) return;
    level.dirtyMark = this.epoch;
    const count = this.dirtyLevelCount;
    // A level removed and re-created within the command may already be listed by price.
    for (let index = 0; index < count; index++) {
      if (this.dirtyPrices[index] === level.price && this.dirtyBooks[index] === book && this.dirtyIsBid[index] === isBid) return;
    }
    this.dirtyBooks[count] = book;
    this.dirtyIsBid[count] = isBid;
    this.dirtyPrices[count] = level.price;
    this.dirtyLevelCount = count + 1;
  }

  private touchBalance(account: Account, assetIndex: number): void {
    if (account.dirtyMarks[assetIndex] === this.epoch) return;
    account.dirtyMarks[assetIndex] = this.epoch;
    const count = this.dirtyBalanceCount;
    this.dirtyAccounts[count] = account;
    this.dirtyAssets[count] = assetIndex;
    this.dirtyBalanceCount = count + 1;
  }

  private flushBookDeltas(): void {
    const timestamp = this.timestamp;
    const epoch = this.epoch;
    let listed: Book | null = null;
    for (let index = 0; index < this.dirtyLevelCount; index++) {
      const book = this.dirtyBooks[index]!;
      // Every trade and every change of a best price touches a level: these are the books whose
      // Ticker figures may have changed (checked once the command is done).
      if (book !== listed) {
        listed = book;
        if (book.ticker.checkMark !== epoch) {
          book.ticker.checkMark = epoch;
          this.tickerChecks[this.tickerCheckCount++] = book;
        }
      }
      const isBid = this.dirtyIsBid[index]!;
      const price = this.dirtyPrices[index]!;
      const level = (isBid ? book.bids : book.asks).byPrice.get(price);
      this.emit({
        type: 'BookDelta',
        seq: ++this.seq,
        timestamp,
        symbol: book.market.symbol,
        symbolSeq: ++book.symbolSeq,
        side: isBid ? 'Buy' : 'Sell',
        price,
        quantity: level === undefined ? 0 : level.total,
      });
    }
    this.dirtyLevelCount = 0;
  }

  private flushBalances(): void {
    const timestamp = this.timestamp;
    const assets = this.config.assets;
    for (let index = 0; index < this.dirtyBalanceCount; index++) {
      const account = this.dirtyAccounts[index]!;
      const assetIndex = this.dirtyAssets[index]!;
      this.emit({
        type: 'BalanceChanged',
        seq: ++this.seq,
        timestamp,
        userId: account.userId,
        asset: assets[assetIndex]!.code,
        available: account.balances[assetIndex * 2]!,
        locked: account.balances[assetIndex * 2 + 1]!,
      });
    }
    this.dirtyBalanceCount = 0;
  }

  /**
   * At the end of a command: a book whose symbol traded in it, or whose best bid or ask price is no
   * longer the one its last Ticker carried, has changed figures (dirty until its next Ticker).
   */
  private checkTickers(): void {
    const epoch = this.epoch;
    for (let index = 0; index < this.tickerCheckCount; index++) {
      const book = this.tickerChecks[index]!;
      const ticker = book.ticker;
      if (ticker.dirty) continue;
      if (ticker.tradedEpoch === epoch || (book.bids.best()?.price ?? 0) !== ticker.bid || (book.asks.best()?.price ?? 0) !== ticker.ask) {
        ticker.dirty = true;
        this.pendingTickerCount++;
        const due = ticker.lastAt < 0 ? -Infinity : ticker.lastAt + TICKER_INTERVAL_MS;
        if (due < this.nextTickerDueAt) this.nextTickerDueAt = due;
      }
    }
    this.tickerCheckCount = 0;
  }

  /** Emits the Ticker of every dirty symbol whose last one is TICKER_INTERVAL_MS old (or that has none), in market order. */
  private flushTickers(): void {
    const timestamp = this.timestamp;
    let nextDue = Infinity;
    for (const book of this.bookList) {
      const ticker = book.ticker;
      if (!ticker.dirty) continue;
      if (ticker.lastAt >= 0 && timestamp - ticker.lastAt < TICKER_INTERVAL_MS) {
        if (ticker.lastAt + TICKER_INTERVAL_MS < nextDue) nextDue = ticker.lastAt + TICKER_INTERVAL_MS;
        continue;
      }
      const bid = book.bids.best()?.price ?? 0;
      const ask = book.asks.best()?.price ?? 0;
      const figures = ticker.figures(book.market.symbol, timestamp, book.lastPrice, bid, ask);
      this.emit({
        type: 'Ticker',
        seq: ++this.seq,
        timestamp,
        symbol: figures.symbol,
        lastPrice: figures.lastPrice,
        bestBid: figures.bestBid,
        bestAsk: figures.bestAsk,
        open24h: figures.open24h,
        high24h: figures.high24h,
        low24h: figures.low24h,
        volume24h: figures.volume24h,
        quoteVolume24h: figures.quoteVolume24h,
      });
      ticker.dirty = false;
      ticker.lastAt = timestamp;
      ticker.bid = bid;
      ticker.ask = ask;
      this.pendingTickerCount--;
    }
    this.nextTickerDueAt = nextDue;
  }

  /** @internal after a restore: the pending count and next due time from the books' ticker state */
  recountTickers(): void {
    this.pendingTickerCount = 0;
    this.nextTickerDueAt = Infinity;
    for (const book of this.bookList) {
      const ticker = book.ticker;
      if (!ticker.dirty) continue;
      this.pendingTickerCount++;
      const due = ticker.lastAt < 0 ? -Infinity : ticker.lastAt + TICKER_INTERVAL_MS;
      if (due < this.nextTickerDueAt) this.nextTickerDueAt = due;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  snapshot(): EngineSnapshot {
    return snapshotState(this);
  }

  stateHash(): string {
    return hashSnapshot(this.snapshot());
  }

  lastEventSeq(): number {
    return this.seq;
  }

  pendingTickers(): number {
    return this.pendingTickerCount;
  }

  ticker(symbol: string, now: number): TickerFigures | undefined {
    const book = this.books.get(symbol);
    if (book === undefined) return undefined;
    return book.ticker.figures(book.market.symbol, now, book.lastPrice, book.bids.best()?.price ?? 0, book.asks.best()?.price ?? 0);
  }

  getOrder(orderId: number): OrderView | undefined {
    const entry = typeof orderId === 'number' && orderId > 0 ? this.orders.get(orderId) : undefined;
    if (entry === undefined) return undefined;
    return typeof entry === 'number' ? this.recent.view(entry) : entry.view();
  }

  orderForClientOrderId(userId: number, clientOrderId: string): number | undefined {
    return this.ledger.accounts.get(userId)?.clientOrderIds?.get(clientOrderId);
  }

  openOrders(userId: number, symbol?: string): OrderView[] {
    const account = this.ledger.accounts.get(userId);
    const views: OrderView[] = [];
    if (account === undefined) return views;
    for (const order of account.open) if (order !== null && (symbol === undefined || order.symbol === symbol)) views.push(order.view());
    return views.sort((a, b) => a.orderId - b.orderId);
  }

  openOrdersPage(userId: number, symbol: string | undefined, afterOrderId: number, limit: number): { orders: OrderView[]; more: boolean } {
    const account = this.ledger.accounts.get(userId);
    if (account === undefined || limit <= 0) return { orders: [], more: false };
    // The records are sorted, not views built for them: at most maxOpenOrdersPerUserMarket per market.
    const matching: OrderNode[] = [];
    for (const order of account.open) if (order !== null && order.orderId > afterOrderId && (symbol === undefined || order.symbol === symbol)) matching.push(order);
    matching.sort((a, b) => a.orderId - b.orderId);
    const count = Math.min(limit, matching.length);
    const orders: OrderView[] = new Array<OrderView>(count);
    for (let index = 0; index < count; index++) orders[index] = matching[index]!.view();
    return { orders, more: matching.length > count };
  }

  *finishedOrders(): Generator<OrderView> {
    for (const slot of this.recent.slots()) yield this.recent.view(slot);
  }

  depth(symbol: string, levels: number): BookDepth {
    const book = this.books.get(symbol);
    if (book === undefined) return { symbol, symbolSeq: 0, bids: [], asks: [] };
    const take = (side: BookSide): BookLevel[] => {
      const out: BookLevel[] = [];
      for (const level of side.bestFirst(Math.max(0, levels))) out.push({ price: level.price, quantity: level.total });
      return out;
    };
    return { symbol, symbolSeq: book.symbolSeq, bids: take(book.bids), asks: take(book.asks) };
  }

  bestBidAsk(symbol: string): { bid?: BookLevel; ask?: BookLevel } {
    const book = this.books.get(symbol);
    const bid = book?.bids.best();
    const ask = book?.asks.best();
    return {
      ...(bid !== undefined && { bid: { price: bid.price, quantity: bid.total } }),
      ...(ask !== undefined && { ask: { price: ask.price, quantity: ask.total } }),
    };
  }

  balances(userId: number): BalanceView[] {
    const account = this.ledger.accounts.get(userId);
    return this.config.assets.map((asset, index) => ({
      asset: asset.code,
      available: account?.balances[index * 2] ?? 0,
      locked: account?.balances[index * 2 + 1] ?? 0,
    }));
  }

  lastTradePrice(symbol: string): number | undefined {
    const price = this.books.get(symbol)?.lastPrice;
    return price === undefined || price === 0 ? undefined : price;
  }

  markets(): readonly MarketSpec[] {
    return this.config.markets;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

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
