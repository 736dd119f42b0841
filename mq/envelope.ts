/**
 * Engine events → the wire envelopes of ARCHITECTURE.md "Messages" (Kafka values, RabbitMQ
 * bodies, Redis stream entries, WebSocket frames). Pure: engine units in, decimal strings out.
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
  type OrderStatus,
  type OrderView,
  type Side,
  type TradeEvent,
} from '../engine/index.ts';

export const ENVELOPE_VERSION = 1;

export type ExecType = 'New' | 'Trade' | 'Cancelled' | 'Expired' | 'Rejected' | 'Triggered' | 'Amended';

export interface ExecutionReport {
  readonly order_id: string;
  readonly client_order_id: string | null;
  readonly user_id: string;
  readonly symbol: string;
  readonly side: Side;
  readonly order_type: string;
  readonly exec_type: ExecType;
  /** a Trade report: the fill's price and quantity; otherwise null and "0" */
  readonly price: string | null;
  readonly quantity: string;
  readonly order_price: string | null;
  readonly order_quantity: string;
  readonly filled_quantity: string;
  readonly remaining_quantity: string;
  readonly avg_price: string | null;
  readonly fee: string;
  readonly fee_asset: string;
  readonly is_maker: boolean | null;
  readonly trade_id: string | null;
  readonly reject_reason: string | null;
  readonly expire_reason: string | null;
}

interface Base {
  readonly v: 1;
  readonly seq: number;
  /** seq of the previous envelope under the same routing key (Kafka: topic + key; Redis: the stream); 0 for the first. Set per broker by its publisher. */
  prev_seq: number;
  readonly timestamp: number;
}

export interface ExecutionEnvelope extends Base {
  readonly type: 'Execution';
  readonly order_status: OrderStatus;
  readonly execution_report: ExecutionReport;
}

export interface TradeEnvelope extends Base {
  readonly type: 'Trade';
  readonly symbol: string;
  readonly trade_id: string;
  readonly price: string;
  readonly quantity: string;
  readonly quote_quantity: string;
  readonly taker_side: Side;
}

export interface BookDeltaEnvelope extends Base {
  readonly type: 'BookDelta';
  readonly symbol: string;
  readonly symbol_seq: number;
  readonly side: Side;
  readonly price: string;
  /** the level's new total; "0" removes it */
  readonly quantity: string;
}

export interface TickerEnvelope extends Base {
  readonly type: 'Ticker';
  readonly symbol: string;
  readonly last_price: string | null;
  readonly best_bid: string | null;
  readonly best_ask: string | null;
  readonly open_24h: string | null;
  readonly high_24h: string | null;
  readonly low_24h: string | null;
  readonly volume_24h: string;
  readonly quote_volume_24h: string;
}

export interface BalanceChangedEnvelope extends Base {
  readonly type: 'BalanceChanged';
  readonly user_id: string;
  readonly asset: string;
  readonly available: string;
  readonly locked: string;
}

export type Envelope = ExecutionEnvelope | TradeEnvelope | BookDeltaEnvelope | TickerEnvelope | BalanceChangedEnvelope;
export type EnvelopeType = Envelope['type'];

/** The symbol an envelope belongs to (Kafka key, RabbitMQ routing key suffix); undefined for balances. */
export function envelopeSymbol(envelope: Envelope): string | undefined {
  switch (envelope.type) {
    case 'Execution':
      return envelope.execution_report.symbol;
    case 'BalanceChanged':
      return undefined;
    default:
      return envelope.symbol;
  }
}

/** Converts engine events to envelopes with the market specs of one engine configuration. */
export class EnvelopeEncoder {
  readonly #config: EngineConfig;
  readonly #markets = new Map<string, { market: MarketSpec; quote: AssetSpec }>();

  constructor(config: EngineConfig) {
    this.#config = config;
    for (const market of config.markets) {
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
    }
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
    });
    out.push(this.#fromFill(event, event.maker, market, quote, price, quantity, tradeId));
    out.push(this.#fromFill(event, event.taker, market, quote, price, quantity, tradeId));
  }

  #fromFill(event: TradeEvent, fill: FillReport, market: MarketSpec, quote: AssetSpec, price: string, quantity: string, tradeId: string): ExecutionEnvelope {
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
        exec_type: 'Trade',
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
      },
    };
  }
}

/** Where an envelope goes on each broker (ARCHITECTURE.md "Broker layout"). */
export interface Routes {
  /** stream `executions`: what PostgreSQL needs (execution reports, trades, balance changes) */
  readonly redis: boolean;
  /** Kafka topic, keyed by symbol */
  readonly kafkaTopic: 'market-data' | 'executions' | undefined;
  /** RabbitMQ routing key on `market-notifications` */
  readonly rabbitRoutingKey: string | undefined;
}

export const REDIS_STREAM = 'executions';
export const REDIS_GROUP = 'execution_processors';
export const KAFKA_TOPIC_MARKET_DATA = 'market-data';
export const KAFKA_TOPIC_EXECUTIONS = 'executions';
export const RABBIT_EXCHANGE = 'market-notifications';

export function routesOf(envelope: Envelope): Routes {
  switch (envelope.type) {
    case 'Execution':
      return { redis: true, kafkaTopic: KAFKA_TOPIC_EXECUTIONS, rabbitRoutingKey: `execution.${envelope.execution_report.symbol}` };
    case 'Trade':
      return { redis: true, kafkaTopic: KAFKA_TOPIC_MARKET_DATA, rabbitRoutingKey: `trade.${envelope.symbol}` };
    case 'BookDelta':
      return { redis: false, kafkaTopic: KAFKA_TOPIC_MARKET_DATA, rabbitRoutingKey: `orderbook.${envelope.symbol}` };
    case 'Ticker':
      return { redis: false, kafkaTopic: KAFKA_TOPIC_MARKET_DATA, rabbitRoutingKey: `ticker.${envelope.symbol}` };
    case 'BalanceChanged':
      return { redis: true, kafkaTopic: undefined, rabbitRoutingKey: undefined };
  }
}


/** The broker-side names under an optional namespace (tests share one broker; production uses none). */
export function brokerNames(namespace = ''): { stream: string; group: string; marketData: string; executions: string; exchange: string } {
  const name = (base: string) => (namespace === '' ? base : `${namespace}.${base}`);
  return {
    stream: name(REDIS_STREAM),
    group: REDIS_GROUP,
    marketData: name(KAFKA_TOPIC_MARKET_DATA),
    executions: name(KAFKA_TOPIC_EXECUTIONS),
    exchange: name(RABBIT_EXCHANGE),
  };
}
