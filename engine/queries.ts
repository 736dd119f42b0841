/**
 * The engine's read-only views (EngineQueries in types.ts): orders, open-order pages, depth, best
 * prices, balances, last price, markets, ticker figures. Each builds fresh copies from the
 * modules' state and changes nothing; Engine answers its queries through one of these.
 */
import type { Ledger } from './ledger.ts';
import type { Book, BookSide } from './matching/book.ts';
import type { OrderLifecycle } from './matching/order-lifecycle.ts';
import type { OrderNode } from './matching/order.ts';
import type { BalanceView, BookDepth, BookLevel, EngineConfig, EngineQueries, MarketSpec, OrderView, TickerFigures } from './types.ts';

/** The futures queries are answered by the futures ledger's views (perp/futures-views.ts). */
export type SpotQueries = Omit<EngineQueries, 'futuresAccount' | 'futuresPositions' | 'leverageSettings' | 'markPrice' | 'insuranceFund'>;

export class EngineViews implements SpotQueries {
  constructor(
    private readonly config: EngineConfig,
    private readonly books: ReadonlyMap<string, Book>,
    private readonly ledger: Ledger,
    private readonly lifecycle: OrderLifecycle,
  ) {}

  ticker(symbol: string, now: number): TickerFigures | undefined {
    const book = this.books.get(symbol);
    if (book === undefined) return undefined;
    return book.ticker.figures(book.market.symbol, now, book.lastPrice, book.bids.best()?.price ?? 0, book.asks.best()?.price ?? 0);
  }

  getOrder(orderId: number): OrderView | undefined {
    const entry = typeof orderId === 'number' && orderId > 0 ? this.lifecycle.orders.get(orderId) : undefined;
    if (entry === undefined) return undefined;
    return typeof entry === 'number' ? this.lifecycle.recent.view(entry) : entry.view();
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
    for (const order of account.open)
      if (order !== null && order.orderId > afterOrderId && (symbol === undefined || order.symbol === symbol)) matching.push(order);
    matching.sort((a, b) => a.orderId - b.orderId);
    const count = Math.min(limit, matching.length);
    const orders: OrderView[] = new Array<OrderView>(count);
    for (let index = 0; index < count; index++) orders[index] = matching[index]!.view();
    return { orders, more: matching.length > count };
  }

  /** Finished orders still answerable by getOrder, oldest first. */
  *finishedOrders(): Generator<OrderView> {
    const recent = this.lifecycle.recent;
    for (const slot of recent.slots()) yield recent.view(slot);
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

  /** Spot balances of every asset (zeros for a user the engine has not seen). */
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

  /** spot markets, then the perpetual ones (type 'perpetual') */
  markets(): readonly MarketSpec[] {
    return this.allMarkets;
  }

  private get allMarkets(): readonly MarketSpec[] {
    const perpetual = this.config.perpetualMarkets;
    if (perpetual === undefined || perpetual.length === 0) return this.config.markets;
    return (this.marketList ??= [...this.config.markets, ...perpetual]);
  }

  private marketList: readonly MarketSpec[] | undefined = undefined;
}
