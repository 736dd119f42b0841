/**
 * The matching engine: price-time priority per market, a settlement per market that holds funds
 * before matching and settles each fill, stop orders fired by the last trade price. Pure and
 * synchronous: the same commands always give the same events and the same state (no clock, no
 * randomness; time and ids arrive on each command).
 *
 * This file wires the parts and dispatches commands. Matching (books, orders, the fill loop,
 * stops) is in matching/, the spot markets' settlement and deposits in spot/, the read-only views
 * in queries.ts, snapshot and state hash in snapshot.ts and state-hash.ts.
 *
 * Within one command, book deltas (one per touched level, with its final total) and balance
 * changes (one per touched user and asset, with the final figures) are gathered and emitted
 * after the order events, in the order they were first touched; then a Ticker for each symbol whose
 * figures changed and whose last Ticker is at least TICKER_INTERVAL_MS old (market order).
 */
import { CommandEvents } from './command-events.ts';
import { Ledger } from './ledger.ts';
import { BookDeltas } from './matching/book-deltas.ts';
import { Book } from './matching/book.ts';
import { Matcher } from './matching/matcher.ts';
import { OrderCommands } from './matching/order-commands.ts';
import { OrderLifecycle } from './matching/order-lifecycle.ts';
import type { OrderIndex } from './matching/order-index.ts';
import type { RecentOrders } from './matching/recent-orders.ts';
import { TickerEmitter } from './matching/ticker-emitter.ts';
import { FuturesCommands } from './perp/futures-commands.ts';
import { FuturesEvents } from './perp/futures-events.ts';
import { FuturesLedger } from './perp/futures-ledger.ts';
import { FuturesState } from './perp/futures-state.ts';
import { FuturesViews } from './perp/futures-views.ts';
import { MarkTriggers } from './perp/mark-triggers.ts';
import { FundingSettlement } from './perp/funding-settlement.ts';
import { PriceTicks } from './perp/price-tick.ts';
import { Liquidation } from './perp/liquidation.ts';
import { ReduceOnlyCut } from './perp/reduce-only-cut.ts';
import { EngineViews } from './queries.ts';
import type { Settlement } from './settlement.ts';
import { restoreState, snapshotState, type EngineState } from './snapshot.ts';
import { SpotLedger } from './spot/spot-ledger.ts';
import { hashSnapshot } from './state-hash.ts';
import type {
  BalanceView,
  BookDepth,
  BookLevel,
  Command,
  EngineConfig,
  EngineEvent,
  EngineSnapshot,
  FuturesAccountView,
  LeverageSettingView,
  MarketSpec,
  MarkPriceView,
  PositionView,
  MatchingEngine,
  OrderView,
  TickerFigures,
} from './types.ts';
import { isNonNegativeSafe } from './validation.ts';

export class Engine implements MatchingEngine, EngineState {
  /** @internal the command's events and the event seq, shared by every part */
  readonly events = new CommandEvents();
  /** @internal books by symbol, in market-config order */
  readonly books = new Map<string, Book>();
  /** @internal accounts: spot balances, open-order lists, client order ids; asset supply */
  readonly ledger: Ledger;
  /** @internal the spot markets' settlement, deposits and withdrawals */
  readonly spot: SpotLedger;
  /** @internal order records, the id index, the remembered finished orders */
  readonly lifecycle: OrderLifecycle;
  /** @internal */
  readonly matcher: Matcher;
  /** @internal the futures domain: wallets, positions, settings, marks (perp/) */
  readonly futures: FuturesState;
  /** @internal the perpetual markets' settlement */
  readonly futuresLedger: FuturesLedger;
  private readonly futuresEvents: FuturesEvents;
  private readonly futuresCommands: FuturesCommands;
  private readonly futuresViews: FuturesViews;
  private readonly reduceOnlyCut: ReduceOnlyCut;
  private readonly priceTicks: PriceTicks;
  /** @internal liquidation checks and stages (perp/liquidation.ts); its index; metrics counts */
  readonly liquidation: Liquidation;
  private readonly deltas: BookDeltas;
  private readonly tickers: TickerEmitter;
  private readonly orderCommands: OrderCommands;
  private readonly views: EngineViews;

  constructor(readonly config: EngineConfig) {
    const events = this.events;
    const perpetualMarkets = config.perpetualMarkets ?? [];
    this.ledger = new Ledger(config.assets, config.markets.length + perpetualMarkets.length);
    this.spot = new SpotLedger(config, this.ledger, events);
    this.futures = new FuturesState(perpetualMarkets, config.feeAccountId, (orderId) => {
      const order = this.lifecycle.orders.get(orderId);
      return typeof order === 'object' ? order : null;
    });
    this.futuresEvents = new FuturesEvents(events);
    this.futuresLedger = new FuturesLedger(this.futures, this.futuresEvents);
    /** books in market-config order, spot then perpetual (Ticker events go out in this order) */
    const bookList: Book[] = [];
    for (const market of [...config.markets, ...perpetualMarkets]) {
      const baseIndex = this.ledger.assetIndex.get(market.base);
      const quoteIndex = this.ledger.assetIndex.get(market.quote);
      if (baseIndex === undefined || quoteIndex === undefined) throw new Error(`market ${market.symbol}: unknown asset`);
      const book = new Book(market, baseIndex, quoteIndex, bookList.length, this.settlementOf(market));
      this.books.set(market.symbol, book);
      bookList.push(book);
    }
    this.tickers = new TickerEmitter(events, bookList);
    this.deltas = new BookDeltas(events, this.tickers);
    this.lifecycle = new OrderLifecycle(config.recentFinishedLimit, this.ledger, events, this.deltas);
    this.matcher = new Matcher(events, this.deltas, this.lifecycle);
    this.orderCommands = new OrderCommands(config, this.books, this.ledger, events, this.deltas, this.lifecycle, this.matcher);
    this.views = new EngineViews(config, this.books, this.ledger, this.lifecycle);
    this.futuresCommands = new FuturesCommands(this.futures, this.ledger, this.spot, this.futuresLedger, this.futuresEvents, events);
    this.futuresCommands.spotSymbols = new Set(config.markets.map((market) => market.symbol));
    this.liquidation = new Liquidation(
      this.futures,
      this.futuresLedger,
      this.futuresEvents,
      events,
      this.books,
      this.ledger,
      this.lifecycle,
      this.matcher,
    );
    // first of the hooks that follow a mark: liquidation, then mark-price TP/SL
    this.futuresCommands.markListeners.push((symbols) => this.liquidation.marksMoved(symbols));
    this.futuresViews = new FuturesViews(this.futures);
    this.reduceOnlyCut = new ReduceOnlyCut(
      this.futures,
      this.futuresLedger,
      this.futuresEvents,
      this.books,
      this.lifecycle,
      this.deltas,
      events,
    );
    const funding = new FundingSettlement(this.futures, this.futuresEvents, events);
    this.priceTicks = new PriceTicks(this.futures, this.books, this.futuresCommands, funding, events);
    // mark-price TP/SL: after the liquidation check on the marks-moved hook (perp/README decision 52)
    const markTriggers = new MarkTriggers(this.futures, this.books, this.matcher);
    markTriggers.wireBooks();
    this.futuresCommands.markListeners.push((symbols) => markTriggers.marksMoved(symbols));
  }

  /**
   * The one place a market's kind chooses how its orders hold funds and its fills settle: spot
   * balances for spot markets, futures wallets and positions for perpetual ones.
   */
  settlementOf(market: MarketSpec): Settlement {
    return market.type === 'perpetual' ? this.futuresLedger : this.spot;
  }

  static restore(config: EngineConfig, snapshot: EngineSnapshot): Engine {
    const engine = new Engine(config);
    restoreState(engine, snapshot);
    engine.liquidation.index.rebuild();
    engine.tickers.recount();
    return engine;
  }

  // ---------------------------------------------------------------------------------------------
  // Commands

  apply(command: Command): EngineEvent[] {
    const timestamp = command?.timestamp;
    this.events.begin(isNonNegativeSafe(timestamp) ? timestamp : 0);
    switch (command?.type) {
      case 'PlaceOrder':
        this.orderCommands.placeOrder(command);
        break;
      case 'CancelOrder':
        this.orderCommands.cancelOrder(command);
        break;
      case 'AmendOrder':
        this.orderCommands.amendOrder(command);
        break;
      case 'Deposit':
        this.spot.deposit(command);
        break;
      case 'Withdraw':
        this.spot.withdraw(command);
        break;
      case 'Tick':
        break; // only lets time pass: the end-of-command Ticker flush below
      case 'FuturesTransfer':
        this.futuresCommands.transfer(command);
        break;
      case 'SetPositionMode':
        this.futuresCommands.setPositionMode(command);
        break;
      case 'SetLeverage':
        this.futuresCommands.setLeverage(command);
        break;
      case 'SetMarginType':
        this.futuresCommands.setMarginType(command);
        break;
      case 'AdjustIsolatedMargin':
        this.futuresCommands.adjustIsolatedMargin(command);
        break;
      case 'SetIndexPrices':
        this.futuresCommands.setIndexPrices(command);
        break;
      case 'PriceTick':
        this.priceTicks.tick(command);
        break;
      default:
        this.events.reject('INVALID_COMMAND', command, undefined);
    }
    const futuresTouched = this.futuresEvents.touched;
    if (futuresTouched) {
      // liquidation first (its orders and ADL move legs), then the reduce-only cut over every leg
      // that moved, then the open-position index funding reads (perp/README decisions 33, 49)
      this.liquidation.afterCommand();
      this.reduceOnlyCut.run();
      this.futures.openPositions.update(this.futuresEvents.touchedPositions());
    }
    this.deltas.flush();
    this.spot.flushBalanceChanges();
    if (futuresTouched) this.futuresEvents.flush((userId) => this.futures.account(userId));
    this.tickers.endCommand();
    return this.events.take();
  }

  // ---------------------------------------------------------------------------------------------
  // State

  snapshot(): EngineSnapshot {
    return snapshotState(this);
  }

  stateHash(): string {
    return hashSnapshot(this.snapshot());
  }

  lastEventSeq(): number {
    return this.events.seq;
  }

  pendingTickers(): number {
    return this.tickers.pending;
  }

  /** @internal every order still known by id (tests, benchmarks) */
  get orders(): OrderIndex {
    return this.lifecycle.orders;
  }

  /** @internal the remembered finished orders (tests) */
  get recent(): RecentOrders {
    return this.lifecycle.recent;
  }

  /** @internal the last trade id (benchmarks) */
  get tradeSeq(): number {
    return this.matcher.tradeSeq;
  }

  // ---------------------------------------------------------------------------------------------
  // Queries (EngineQueries, answered by queries.ts)

  ticker(symbol: string, now: number): TickerFigures | undefined {
    return this.views.ticker(symbol, now);
  }

  getOrder(orderId: number): OrderView | undefined {
    return this.views.getOrder(orderId);
  }

  orderForClientOrderId(userId: number, clientOrderId: string): number | undefined {
    return this.views.orderForClientOrderId(userId, clientOrderId);
  }

  openOrders(userId: number, symbol?: string): OrderView[] {
    return this.views.openOrders(userId, symbol);
  }

  openOrdersPage(userId: number, symbol: string | undefined, afterOrderId: number, limit: number): { orders: OrderView[]; more: boolean } {
    return this.views.openOrdersPage(userId, symbol, afterOrderId, limit);
  }

  finishedOrders(): Generator<OrderView> {
    return this.views.finishedOrders();
  }

  depth(symbol: string, levels: number): BookDepth {
    return this.views.depth(symbol, levels);
  }

  bestBidAsk(symbol: string): { bid?: BookLevel; ask?: BookLevel } {
    return this.views.bestBidAsk(symbol);
  }

  balances(userId: number): BalanceView[] {
    return this.views.balances(userId);
  }

  lastTradePrice(symbol: string): number | undefined {
    return this.views.lastTradePrice(symbol);
  }

  markets(): readonly MarketSpec[] {
    return this.views.markets();
  }

  // Futures queries (answered by perp/futures-views.ts)

  futuresAccount(userId: number, asset = 'KRW'): FuturesAccountView | undefined {
    return this.futuresViews.futuresAccount(userId, asset);
  }

  futuresPositions(userId: number, symbol?: string): PositionView[] {
    return this.futuresViews.futuresPositions(userId, symbol);
  }

  leverageSettings(userId: number, symbol: string): LeverageSettingView {
    return this.futuresViews.leverageSettings(userId, symbol);
  }

  markPrice(symbol: string): MarkPriceView | undefined {
    return this.futuresViews.markPrice(symbol);
  }

  insuranceFund(asset: string): bigint | undefined {
    return this.futures.insuranceFunds.get(asset);
  }
}
