import {
  averagePrice,
  findAsset,
  formatAmount,
  lotsToQuantity,
  ticksToPrice,
  type BalanceView,
  type BookDepth,
  type EngineConfig,
  type MarketSpec,
  type OrderView,
  type TickerFigures,
} from '../engine/index.ts';
import type { RecentTrade, RejectionRecord } from './event-feed.ts';
import { FuturesViews } from './futures-views.ts';
import { findTradedMarket, tradedMarkets } from '../contract/markets.ts';

/** Wire shapes: ids and decimals as strings, times as integer ms since the epoch. */
export class Views {
  readonly #config: EngineConfig;
  readonly #futures: FuturesViews;

  constructor(config: EngineConfig) {
    this.#config = config;
    this.#futures = new FuturesViews(config);
  }

  market(symbol: string): MarketSpec | undefined {
    return findTradedMarket(this.#config, symbol);
  }

  #quoteDecimals(market: MarketSpec): number {
    return findAsset(this.#config, market.quote)?.decimals ?? 0;
  }

  order(view: OrderView, rejection?: RejectionRecord): Record<string, unknown> {
    const market = this.market(view.symbol);
    if (!market) throw new Error(`order ${view.orderId} on unknown market ${view.symbol}`);
    const quote = { code: market.quote, decimals: this.#quoteDecimals(market) };
    return {
      order_id: String(view.orderId),
      client_order_id: view.clientOrderId ?? null,
      symbol: view.symbol,
      side: view.side,
      order_type: view.orderType,
      time_in_force: view.timeInForce,
      post_only: view.postOnly,
      price: view.price !== undefined ? ticksToPrice(market, view.price) : null,
      stop_price: view.stopPrice !== undefined ? ticksToPrice(market, view.stopPrice) : null,
      quantity: lotsToQuantity(market, view.quantity),
      quote_amount: view.quoteAmount !== undefined ? formatAmount(quote, view.quoteAmount) : null,
      filled_quantity: lotsToQuantity(market, view.filledQuantity),
      remaining_quantity: lotsToQuantity(market, view.remainingQuantity),
      filled_quote: formatAmount(quote, view.filledQuote),
      avg_price: averagePrice(market, view.filledQuote, view.filledQuantity) ?? null,
      fees: formatAmount(quote, view.feesPaid),
      fee_asset: market.quote,
      status: view.status,
      // The engine keeps the reason with the order (it survives restarts); the event feed's record
      // only covers rejections replayed since the latest snapshot.
      reject_reason: view.status === 'Rejected' ? (view.rejectReason ?? rejection?.reason ?? null) : null,
      expire_reason: view.expireReason ?? null,
      created_at: view.createdAt,
      updated_at: view.updatedAt,
      // perpetual markets only (spot views keep their fields): TP/SL
      ...(market.type === 'perpetual' && { working_type: view.workingType ?? null, close_position: view.closePosition === true }),
    };
  }

  /** A rejected order the engine no longer (or never) kept: what its reject event tells. */
  rejectedOrder(orderId: number, rejection: RejectionRecord): Record<string, unknown> {
    return {
      order_id: String(orderId),
      client_order_id: rejection.clientOrderId ?? null,
      symbol: rejection.symbol ?? null,
      status: 'Rejected',
      reject_reason: rejection.reason,
      filled_quantity: '0',
      created_at: rejection.timestamp,
      updated_at: rejection.timestamp,
    };
  }

  depth(book: BookDepth): Record<string, unknown> {
    const market = this.market(book.symbol);
    if (!market) throw new Error(`unknown market ${book.symbol}`);
    return {
      symbol: book.symbol,
      symbol_seq: book.symbolSeq,
      bids: book.bids.map((level) => [ticksToPrice(market, level.price), lotsToQuantity(market, level.quantity)]),
      asks: book.asks.map((level) => [ticksToPrice(market, level.price), lotsToQuantity(market, level.quantity)]),
    };
  }

  trade(market: MarketSpec, trade: RecentTrade): Record<string, unknown> {
    return {
      trade_id: String(trade.tradeId),
      price: ticksToPrice(market, trade.price),
      quantity: lotsToQuantity(market, trade.quantity),
      quote_quantity: formatAmount({ code: market.quote, decimals: this.#quoteDecimals(market) }, trade.quoteQuantity),
      taker_side: trade.takerSide,
      timestamp: trade.timestamp,
      ...(trade.liquidation === true ? { liquidation: true } : {}),
    };
  }

  /** `figures`: the engine's ticker (engine.ticker(symbol, now)); `best`: its best levels, for their quantities. */
  ticker(
    market: MarketSpec,
    figures: TickerFigures,
    best: { bid?: { price: number; quantity: number }; ask?: { price: number; quantity: number } },
    now: number,
  ): Record<string, unknown> {
    const price = (ticks: number | undefined) => (ticks !== undefined ? ticksToPrice(market, ticks) : null);
    return {
      symbol: market.symbol,
      last_price: price(figures.lastPrice),
      open_24h: price(figures.open24h),
      high_24h: price(figures.high24h),
      low_24h: price(figures.low24h),
      volume_24h: lotsToQuantity(market, figures.volume24h),
      quote_volume_24h: formatAmount({ code: market.quote, decimals: this.#quoteDecimals(market) }, figures.quoteVolume24h),
      best_bid: price(best.bid?.price),
      best_bid_quantity: best.bid ? lotsToQuantity(market, best.bid.quantity) : null,
      best_ask: price(best.ask?.price),
      best_ask_quantity: best.ask ? lotsToQuantity(market, best.ask.quantity) : null,
      timestamp: now,
    };
  }

  balances(balances: readonly BalanceView[]): Array<Record<string, string>> {
    return balances.map((balance) => {
      const asset = findAsset(this.#config, balance.asset) ?? { code: balance.asset, decimals: 0 };
      return {
        asset: balance.asset,
        available: formatAmount(asset, balance.available),
        locked: formatAmount(asset, balance.locked),
        total: formatAmount(asset, balance.available + balance.locked),
      };
    });
  }

  markets(): Array<Record<string, unknown>> {
    return tradedMarkets(this.#config).map((market) => {
      const quote = { code: market.quote, decimals: this.#quoteDecimals(market) };
      return {
        symbol: market.symbol,
        base: market.base,
        quote: market.quote,
        tick_size: market.tickSize,
        lot_size: market.lotSize,
        min_price: ticksToPrice(market, market.minPrice),
        max_price: ticksToPrice(market, market.maxPrice),
        min_quantity: lotsToQuantity(market, market.minQuantity),
        max_quantity: lotsToQuantity(market, market.maxQuantity),
        min_notional: formatAmount(quote, market.minNotional),
        maker_fee_rate: formatAmount({ code: 'ppm', decimals: 6 }, market.makerFeePpm),
        taker_fee_rate: formatAmount({ code: 'ppm', decimals: 6 }, market.takerFeePpm),
        fee_asset: market.quote,
        // type "spot" | "perpetual"; a perpetual's settlement asset, funding interval and risk tiers
        ...this.#futures.marketFields(market),
      };
    });
  }
}
