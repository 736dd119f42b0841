/**
 * Engine events → the wire envelopes of envelopes.ts. Pure: engine units in, decimal strings out.
 *
 * One envelope per seq: a Trade event (seq S) becomes the public Trade (S), the maker's Execution
 * (S + 1) and the taker's (S + 2); every other event becomes at most one envelope with its own seq.
 * A refused command that is not a PlaceOrder (a cancel of an order already filled, a withdrawal
 * beyond the balance) has no execution report: FIX answers those with a cancel reject, not an
 * ExecutionReport, and the REST call that sent it already said so.
 */
import {
  averagePrice,
  findAsset,
  formatAmount,
  lotsToQuantity,
  ticksToPrice,
  type AssetSpec,
  type EngineConfig,
  type EngineEvent,
  type FillReport,
  type MarketSpec,
  type OrderView,
  type PositionChangedEvent,
  type TradeEvent,
} from '../engine/index.ts';
import { rate1e8Text, signedUnitsText } from './decimal-text.ts';
import { tradedMarkets } from './markets.ts';
import type { Envelope, ExecType, ExecutionEnvelope } from './envelopes.ts';

/** Converts engine events to envelopes with the market specs of one engine configuration. */
export class EnvelopeEncoder {
  readonly #config: EngineConfig;
  readonly #markets = new Map<string, { market: MarketSpec; quote: AssetSpec }>();

  constructor(config: EngineConfig) {
    this.#config = config;
    for (const market of tradedMarkets(config)) {
      const quote = findAsset(config, market.quote);
      if (!quote) throw new Error(`market ${market.symbol}: unknown quote asset ${market.quote}`);
      this.#markets.set(market.symbol, { market, quote });
    }
  }

  /** Appends the envelopes of one engine event to `out` (prev_seq 0, to be chained by the publisher). */
  encode(event: EngineEvent, out: Envelope[]): void {
    switch (event.type) {
      case 'OrderAccepted':
        out.push(this.#fromView(event.seq, event.timestamp, 'New', event.order, null));
        return;
      case 'OrderCancelled':
        out.push(this.#fromView(event.seq, event.timestamp, 'Cancelled', event.order, null));
        return;
      case 'OrderExpired':
        out.push(this.#fromView(event.seq, event.timestamp, 'Expired', event.order, null));
        return;
      case 'OrderTriggered':
        out.push(this.#fromView(event.seq, event.timestamp, 'Triggered', event.order, null));
        return;
      case 'OrderAmended':
        out.push(this.#fromView(event.seq, event.timestamp, 'Amended', event.order, null));
        return;
      case 'OrderRejected':
        if (event.commandType === 'PlaceOrder' && event.order && this.#markets.has(event.order.symbol)) {
          out.push(this.#fromView(event.seq, event.timestamp, 'Rejected', event.order, event.reason));
        }
        return;
      case 'Trade':
        this.#trade(event, out);
        return;
      case 'BookDelta': {
        const { market } = this.#spec(event.symbol);
        out.push({
          v: 1,
          type: 'BookDelta',
          seq: event.seq,
          prev_seq: 0,
          timestamp: event.timestamp,
          symbol: event.symbol,
          symbol_seq: event.symbolSeq,
          side: event.side,
          price: ticksToPrice(market, event.price),
          quantity: lotsToQuantity(market, event.quantity),
        });
        return;
      }
      case 'Ticker': {
        const { market, quote } = this.#spec(event.symbol);
        const price = (ticks: number | undefined) => (ticks === undefined ? null : ticksToPrice(market, ticks));
        out.push({
          v: 1,
          type: 'Ticker',
          seq: event.seq,
          prev_seq: 0,
          timestamp: event.timestamp,
          symbol: event.symbol,
          last_price: price(event.lastPrice),
          best_bid: price(event.bestBid),
          best_ask: price(event.bestAsk),
          open_24h: price(event.open24h),
          high_24h: price(event.high24h),
          low_24h: price(event.low24h),
          volume_24h: lotsToQuantity(market, event.volume24h),
          quote_volume_24h: formatAmount(quote, event.quoteVolume24h),
        });
        return;
      }
      case 'BalanceChanged': {
        const asset = findAsset(this.#config, event.asset) ?? { code: event.asset, decimals: 0 };
        out.push({
          v: 1,
          type: 'BalanceChanged',
          seq: event.seq,
          prev_seq: 0,
          timestamp: event.timestamp,
          user_id: String(event.userId),
          asset: event.asset,
          available: formatAmount(asset, event.available),
          locked: formatAmount(asset, event.locked),
        });
        return;
      }
      case 'PositionChanged':
        out.push(this.#position(event));
        return;
      case 'Liquidation': {
        const { market } = this.#spec(event.symbol);
        out.push({
          v: 1,
          type: 'Liquidation',
          seq: event.seq,
          prev_seq: 0,
          timestamp: event.timestamp,
          symbol: event.symbol,
          side: event.side,
          price: ticksToPrice(market, event.price),
          quantity: lotsToQuantity(market, event.quantity),
          stage: event.stage,
        });
        return;
      }
      case 'WalletChanged': {
        const asset = findAsset(this.#config, event.asset) ?? { code: event.asset, decimals: 0 };
        out.push({
          v: 1,
          type: 'WalletChanged',
          seq: event.seq,
          prev_seq: 0,
          timestamp: event.timestamp,
          user_id: String(event.userId),
          asset: event.asset,
          wallet_balance: signedUnitsText(event.walletBalanceKrw, asset.decimals),
          reason: event.reason,
        });
        return;
      }
      case 'FundingPaid': {
        const { market, quote } = this.#spec(event.symbol);
        const size = lotsToQuantity(market, Math.abs(event.size));
        out.push({
          v: 1,
          type: 'FundingPaid',
          seq: event.seq,
          prev_seq: 0,
          timestamp: event.timestamp,
          user_id: String(event.userId),
          symbol: event.symbol,
          position_side: event.positionSide,
          size: event.size < 0 ? `-${size}` : size,
          mark_price: ticksToPrice(market, event.markPrice),
          rate: rate1e8Text(event.rate1e8),
          amount: signedUnitsText(event.amountKrw, quote.decimals),
        });
        return;
      }
      case 'MarkPrice': {
        const { market } = this.#spec(event.symbol);
        out.push({
          v: 1,
          type: 'MarkPrice',
          seq: event.seq,
          prev_seq: 0,
          timestamp: event.timestamp,
          symbol: event.symbol,
          mark_price: ticksToPrice(market, event.markPrice),
          index_price: ticksToPrice(market, event.indexPrice),
          estimated_funding_rate: rate1e8Text(event.estimatedFundingRate1e8),
          next_funding_time: event.nextFundingTime,
        });
        return;
      }
    }
  }

  #position(event: PositionChangedEvent): Envelope {
    const { market, quote } = this.#spec(event.symbol);
    const size = lotsToQuantity(market, Math.abs(event.size));
    return {
      v: 1,
      type: 'PositionChanged',
      seq: event.seq,
      prev_seq: 0,
      timestamp: event.timestamp,
      user_id: String(event.userId),
      symbol: event.symbol,
      position_side: event.positionSide,
      size: event.size < 0 ? `-${size}` : size,
      entry_price: event.entryPrice === undefined || event.size === 0 ? null : ticksToPrice(market, event.entryPrice),
      // a linear perpetual settles in its quote asset: its money has the quote's decimals
      realized_pnl: signedUnitsText(event.realizedPnlKrw, quote.decimals),
      margin_type: event.marginType,
      isolated_margin: signedUnitsText(event.isolatedMarginKrw, quote.decimals),
      leverage: event.leverage,
    };
  }

  encodeAll(events: readonly EngineEvent[]): Envelope[] {
    const out: Envelope[] = [];
    for (const event of events) this.encode(event, out);
    return out;
  }

  #spec(symbol: string): { market: MarketSpec; quote: AssetSpec } {
    const spec = this.#markets.get(symbol);
    if (!spec) throw new Error(`event for unknown market ${symbol}`);
    return spec;
  }

  #trade(event: TradeEvent, out: Envelope[]): void {
    const { market, quote } = this.#spec(event.symbol);
    const price = ticksToPrice(market, event.price);
    const quantity = lotsToQuantity(market, event.quantity);
    const tradeId = String(event.tradeId);
    out.push({
      v: 1,
      type: 'Trade',
      seq: event.seq,
      prev_seq: 0,
      timestamp: event.timestamp,
      symbol: event.symbol,
      trade_id: tradeId,
      price,
      quantity,
      quote_quantity: formatAmount(quote, event.quoteQuantity),
      taker_side: event.takerSide,
      ...(event.liquidation === true ? { liquidation: true as const } : {}),
    });
    out.push(this.#fromFill(event, event.maker, market, quote, price, quantity, tradeId));
    out.push(this.#fromFill(event, event.taker, market, quote, price, quantity, tradeId));
  }

  #fromFill(
    event: TradeEvent,
    fill: FillReport,
    market: MarketSpec,
    quote: AssetSpec,
    price: string,
    quantity: string,
    tradeId: string,
  ): ExecutionEnvelope {
    return {
      v: 1,
      type: 'Execution',
      seq: fill.seq,
      prev_seq: 0,
      timestamp: event.timestamp,
      order_status: fill.status,
      execution_report: {
        order_id: String(fill.orderId),
        client_order_id: fill.clientOrderId ?? null,
        user_id: String(fill.userId),
        symbol: event.symbol,
        side: fill.side,
        order_type: fill.orderType,
        exec_type: fill.execType ?? 'Trade',
        price,
        quantity,
        order_price: fill.orderPrice !== undefined ? ticksToPrice(market, fill.orderPrice) : null,
        order_quantity: lotsToQuantity(market, fill.orderQuantity),
        filled_quantity: lotsToQuantity(market, fill.filledQuantity),
        remaining_quantity: lotsToQuantity(market, fill.remainingQuantity),
        avg_price: averagePrice(market, fill.filledQuote, fill.filledQuantity) ?? null,
        fee: formatAmount(quote, fill.fee),
        fee_asset: market.quote,
        is_maker: fill.isMaker,
        trade_id: tradeId,
        reject_reason: null,
        expire_reason: null,
      },
    };
  }

  #fromView(seq: number, timestamp: number, execType: ExecType, view: OrderView, rejectReason: string | null): ExecutionEnvelope {
    const { market } = this.#spec(view.symbol);
    return {
      v: 1,
      type: 'Execution',
      seq,
      prev_seq: 0,
      timestamp,
      order_status: view.status,
      execution_report: {
        order_id: String(view.orderId),
        client_order_id: view.clientOrderId ?? null,
        user_id: String(view.userId),
        symbol: view.symbol,
        side: view.side,
        order_type: view.orderType,
        exec_type: execType,
        price: null,
        quantity: '0',
        order_price: view.price !== undefined && view.price > 0 ? ticksToPrice(market, view.price) : null,
        order_quantity: lotsToQuantity(market, view.quantity),
        filled_quantity: lotsToQuantity(market, view.filledQuantity),
        remaining_quantity: lotsToQuantity(market, view.remainingQuantity),
        avg_price: averagePrice(market, view.filledQuote, view.filledQuantity) ?? null,
        fee: '0',
        fee_asset: market.quote,
        is_maker: null,
        trade_id: null,
        reject_reason: execType === 'Rejected' ? (rejectReason ?? view.rejectReason ?? null) : null,
        expire_reason: execType === 'Expired' ? (view.expireReason ?? null) : null,
        ...(view.workingType !== undefined && { working_type: view.workingType, close_position: view.closePosition === true }),
      },
    };
  }
}
