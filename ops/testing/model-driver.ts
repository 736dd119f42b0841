/**
 * Drives the documentation-only reference model (reference-exchange.ts) with the engine's own
 * command shapes (engine/types.ts: integer ticks, lots and minor units), so that the model can be
 * run side by side with an in-process Engine (ops/model-engine.differential.test.ts) without HTTP.
 *
 * The adapter converts integer commands into the model's decimal PlaceRequest (the model keeps its
 * own validation and arithmetic) and answers, per command, the reject word the documents lead one
 * to expect. Only the engine's config (the market table) is read from engine/; nothing about how
 * the engine decides.
 */
import type { SpotCommand as Command, EngineConfig, MarketSpec as EngineMarketSpec, PlaceOrderCommand } from '../../engine/index.ts';
import { lotsToQuantity, ticksToPrice } from '../../engine/index.ts';
import {
  ASSET_DECIMALS,
  DEFAULT_MODEL_OPTIONS,
  ReferenceExchange,
  marketSpec,
  unitsToDecimal,
  validate,
  type MarketSpec,
  type ModelOptions,
  type ParsedOrder,
  type PlaceRequest,
  type PublishedMarket,
} from './reference-exchange.ts';

/** The engine's market config in the published /v1/markets shape the model reads. */
export function publishedMarket(m: EngineMarketSpec): PublishedMarket {
  const qd = ASSET_DECIMALS[m.quote];
  if (qd === undefined) throw new Error(`model knows no asset ${m.quote}`);
  return {
    symbol: m.symbol,
    base: m.base,
    quote: m.quote,
    tick_size: m.tickSize,
    lot_size: m.lotSize,
    min_price: ticksToPrice(m, m.minPrice),
    max_price: ticksToPrice(m, m.maxPrice),
    min_quantity: lotsToQuantity(m, m.minQuantity),
    max_quantity: lotsToQuantity(m, m.maxQuantity),
    min_notional: unitsToDecimal(BigInt(m.minNotional), qd),
    maker_fee_rate: unitsToDecimal(BigInt(m.makerFeePpm), 6),
    taker_fee_rate: unitsToDecimal(BigInt(m.takerFeePpm), 6),
  };
}

/** What the documents say a command should come to: accepted (reject null) or refused with a word. */
export interface Expectation {
  /** engine/README reject word the model expects, or null when the command is not refused */
  readonly reject: string | null;
  /** a second word the documents allow just as well (their order of checks leaves room), or null */
  readonly alt: string | null;
  /** set when the expectation was bent to a tolerated known disagreement (KNOWN_DISAGREEMENTS key) */
  readonly known?: KnownDisagreement;
}

/**
 * Engine behaviours that disagree with the documents, found by ops/model-engine.differential.test.ts
 * (minimal reproductions there). A driver told to tolerate one follows the engine on that point
 * only, so that a long stream stays comparable after it; everything else is still the documents'.
 */
export const KNOWN_DISAGREEMENTS: Readonly<Record<string, string>> = {
  // none open. The first long runs found three, all fixed in the engine (reproductions in
  // ops/model-engine.differential.test.ts): a market buy stopped at a maker where its budget cut the
  // fill short though the rest still bought a lot of its own; cancelling another user's finished
  // order said ORDER_NOT_FOUND, not NOT_ORDER_OWNER; a FOK buy by amount alone, refused, was not
  // kept answerable.
};
export type KnownDisagreement = string;

/** A PlaceOrder refused by the stateless checks: the engine keeps it answerable as Rejected (engine/README "Events"). */
export interface ShapeRejected {
  readonly user: string;
  readonly reason: string;
}

export class ModelDriver {
  readonly model: ReferenceExchange;
  readonly markets: ReadonlyMap<string, MarketSpec>;
  /** order id → refused by validation (never reached the model's matching) */
  readonly shapeRejected = new Map<string, ShapeRejected>();

  constructor(
    config: EngineConfig,
    options: ModelOptions = DEFAULT_MODEL_OPTIONS,
    private readonly tolerate: ReadonlySet<KnownDisagreement> = new Set(),
  ) {
    const specs = config.markets.map((m) => marketSpec(publishedMarket(m)));
    this.model = new ReferenceExchange(specs, { maxOpenOrdersPerUserMarket: config.maxOpenOrdersPerUserMarket, ...options });
    this.markets = this.model.markets;
  }

  /** The model's reading of an engine PlaceOrder, as the API would have sent it (decimal strings). */
  request(cmd: PlaceOrderCommand): PlaceRequest {
    const m = this.markets.get(cmd.symbol);
    const qd = m ? (ASSET_DECIMALS[m.quote] ?? 0) : 0;
    const bd = m ? (ASSET_DECIMALS[m.base] ?? 0) : 0;
    const tick = m?.tickMinor ?? 1n;
    const lot = m?.baseMinorPerLot ?? 1n;
    const req: PlaceRequest = {
      symbol: cmd.symbol,
      side: cmd.side,
      order_type: cmd.orderType,
      time_in_force: cmd.timeInForce,
      post_only: cmd.postOnly,
      self_trade_prevention: cmd.stp,
    };
    if (cmd.price !== undefined) req.price = unitsToDecimal(BigInt(cmd.price) * tick, qd);
    if (cmd.stopPrice !== undefined) req.stop_price = unitsToDecimal(BigInt(cmd.stopPrice) * tick, qd);
    if (cmd.quantity !== undefined) req.quantity = unitsToDecimal(BigInt(cmd.quantity) * lot, bd);
    if (cmd.quoteAmount !== undefined) req.quote_amount = unitsToDecimal(BigInt(cmd.quoteAmount), qd);
    return req;
  }

  /**
   * Stateless checks. engine/README: "Market: any TIF is accepted; GTC behaves as IOC (a market
   * order never rests). The HTTP API is stricter" — the model's validate() is the HTTP one, so a
   * market GTC is checked as IOC and keeps GTC (the model expires any market remainder).
   */
  parse(cmd: PlaceOrderCommand): { error: string } | { order: ParsedOrder } {
    const isMarket = cmd.orderType === 'Market' || cmd.orderType === 'StopMarket';
    const req = this.request(cmd);
    if (isMarket && cmd.timeInForce === 'GTC') {
      const verdict = validate(this.markets, { ...req, time_in_force: 'IOC' });
      return 'error' in verdict ? verdict : { order: { ...verdict.order, tif: 'GTC' } };
    }
    return validate(this.markets, req);
  }

  /** An order id the engine knows (open or remembered, rejected ones included). */
  known(orderId: number): boolean {
    const id = String(orderId);
    return this.model.orders.has(id) || this.shapeRejected.has(id);
  }

  apply(cmd: Command): Expectation {
    // engine/README "Events": a Tick only lets time pass (Tickers); it is never refused.
    if (cmd.type === 'Tick') return { reject: null, alt: null };
    const model = this.model;
    const user = String(cmd.userId);
    switch (cmd.type) {
      case 'PlaceOrder': {
        const id = String(cmd.orderId);
        // "Order of checks on a new order: shape and market rules (stateless), duplicate id, post-only
        // would take, then funds."
        const verdict = this.parse(cmd);
        if ('error' in verdict) {
          // "A rejected command never shadows a known id's record."
          if (!this.known(cmd.orderId)) this.shapeRejected.set(id, { user, reason: verdict.error });
          return { reject: verdict.error, alt: null };
        }
        if (this.known(cmd.orderId)) return { reject: 'DUPLICATE_ORDER_ID', alt: null };
        const o = model.place(user, id, verdict.order);
        return o.status === 'Rejected' ? { reject: o.rejectReason, alt: o.altRejectReason } : { reject: null, alt: null };
      }
      case 'CancelOrder': {
        const id = String(cmd.orderId);
        const shape = this.shapeRejected.get(id);
        const o = model.orders.get(id);
        const owner = shape?.user ?? o?.user;
        // engine/README 3003 NOT_ORDER_OWNER "the order belongs to another user", open or finished
        // (HTTP folds it into 404).
        if (owner !== undefined && owner !== user) return { reject: 'NOT_ORDER_OWNER', alt: null };
        if (shape) return { reject: 'ORDER_NOT_OPEN', alt: null };
        const outcome = model.cancel(user, id);
        return { reject: outcome === 'Cancelled' ? null : outcome, alt: null };
      }
      case 'Deposit':
        model.deposit(user, cmd.asset, BigInt(cmd.amount));
        return { reject: null, alt: null };
      case 'Withdraw': {
        const outcome = model.withdraw(user, cmd.asset, BigInt(cmd.amount));
        return { reject: outcome === 'Applied' ? null : outcome, alt: null };
      }
      case 'AmendOrder':
        throw new Error('the model has no amend');
    }
  }
}
