/**
 * An independent reference model of xtrader's matching and ledger, written from the public
 * documentation only (ARCHITECTURE.md, README.md, engine/README.md and the served OpenAPI
 * document) — never from engine/ or api/ source. ops/outside-in.int.test.ts drives the real server
 * over HTTP and compares it with this model.
 *
 * Units (engine/docs/api.md "Units"): prices are integer ticks, quantities integer lots, amounts integer
 * minor units of their asset. Everything here is bigint: no floating point touches money.
 *
 * Where the documents are silent or ambiguous the choice made is marked "ASSUMPTION" below.
 */
import type { Market } from '../../web/src/types.ts';

export type Side = 'Buy' | 'Sell';
export type OrderType = 'Limit' | 'Market' | 'StopLimit' | 'StopMarket';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK';
export type StpMode = 'ExpireTaker' | 'ExpireMaker' | 'ExpireBoth';
export type OrderStatus = 'Pending' | 'PartiallyFilled' | 'Filled' | 'Cancelled' | 'Expired' | 'Rejected' | 'Untriggered';

export const ASSET_DECIMALS: Readonly<Record<string, number>> = { KRW: 0, BTC: 8, ETH: 8 };
export const FEE_ACCOUNT = '0';
const PPM = 1_000_000n;

export interface MarketSpec {
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  /** quote minor units per tick of price for one whole base unit */
  readonly tickMinor: bigint;
  /** base minor units per lot */
  readonly baseMinorPerLot: bigint;
  /** quote minor units of one tick × one lot (engine/README: notional = t × l × quotePerTickLot) */
  readonly quotePerTickLot: bigint;
  readonly minPriceTicks: bigint;
  readonly maxPriceTicks: bigint;
  readonly minLots: bigint;
  readonly maxLots: bigint;
  /** quote minor units */
  readonly minNotional: bigint;
  readonly makerPpm: bigint;
  readonly takerPpm: bigint;
}

/** The markets of the engine/README table, from the published /v1/markets shape (the trading page's, an outside client too). */
export type PublishedMarket = Market;

/** Exact decimal string → integer count of `10^-decimals` units; null when not representable. */
export function decimalToUnits(text: string, decimals: number): bigint | null {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return null;
  const whole = match[1] ?? '0';
  const frac = (match[2] ?? '').replace(/0+$/, '');
  if (frac.length > decimals) return null;
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt((frac + '0'.repeat(decimals)).slice(0, decimals) || '0');
}

/** Integer units → canonical decimal string (no trailing zeros). */
export function unitsToDecimal(units: bigint, decimals: number): string {
  if (decimals === 0) return units.toString();
  const scale = 10n ** BigInt(decimals);
  const whole = units / scale;
  const frac = (units % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole.toString();
}

function mustUnits(text: string, decimals: number): bigint {
  const value = decimalToUnits(text, decimals);
  if (value === null) throw new Error(`not a ${decimals}-decimal value: ${text}`);
  return value;
}

export function marketSpec(m: PublishedMarket): MarketSpec {
  const qd = ASSET_DECIMALS[m.quote];
  const bd = ASSET_DECIMALS[m.base];
  if (qd === undefined || bd === undefined) throw new Error(`unknown asset in ${m.symbol}`);
  const tickMinor = mustUnits(m.tick_size, qd);
  const baseMinorPerLot = mustUnits(m.lot_size, bd);
  const product = tickMinor * baseMinorPerLot;
  const scale = 10n ** BigInt(bd);
  if (product % scale !== 0n) throw new Error(`${m.symbol}: tick × lot is not a whole quote minor unit`);
  return {
    symbol: m.symbol,
    base: m.base,
    quote: m.quote,
    tickMinor,
    baseMinorPerLot,
    quotePerTickLot: product / scale,
    minPriceTicks: mustUnits(m.min_price, qd) / tickMinor,
    maxPriceTicks: mustUnits(m.max_price, qd) / tickMinor,
    minLots: mustUnits(m.min_quantity, bd) / baseMinorPerLot,
    maxLots: mustUnits(m.max_quantity, bd) / baseMinorPerLot,
    minNotional: mustUnits(m.min_notional, qd),
    makerPpm: mustUnits(m.maker_fee_rate, 6),
    takerPpm: mustUnits(m.taker_fee_rate, 6),
  };
}

/** The fee on a notional on its own: notional × rate, rounded down. */
export function fee(notional: bigint, ppm: bigint): bigint {
  return (notional * ppm) / PPM;
}

/**
 * engine/docs/api.md "Fees: charged on the cumulative fill": an order owes floor(Σ notionalᵢ × rateᵢ)
 * over its fills, and each fill pays what it adds. `feeBase` is that sum in millionths of a minor
 * unit, `paid` what the order has paid: the fee of one more fill of `notional` at `ppm`.
 */
function fillFee(feeBase: bigint, paid: bigint, notional: bigint, ppm: bigint): bigint {
  return (feeBase + notional * ppm) / PPM - paid;
}

/** A place-order request as sent over HTTP (strings), the same shape as the PlaceOrder schema. */
export interface PlaceRequest {
  symbol: string;
  side: string;
  order_type: string;
  price?: string;
  quantity?: string;
  quote_amount?: string;
  stop_price?: string;
  time_in_force?: string;
  post_only?: boolean;
  self_trade_prevention?: string;
  /** docs/api.md "Idempotency"; not part of the model's matching (the test tracks it) */
  client_order_id?: string;
}

export interface ParsedOrder {
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly tif: TimeInForce;
  readonly priceTicks: bigint | null;
  readonly stopTicks: bigint | null;
  readonly lots: bigint | null;
  readonly quoteAmount: bigint | null;
  readonly postOnly: boolean;
  readonly stp: StpMode;
}

export interface OrderState {
  readonly id: string;
  readonly user: string;
  readonly req: ParsedOrder;
  /** the view's quantity in lots (a buy by amount alone shows the lots bought) */
  lots: bigint;
  filledLots: bigint;
  /** Σ notional of the fills, quote minor units */
  filledQuote: bigint;
  fees: bigint;
  /** Σ notional × rate of the fills (millionths of a quote minor unit): fees = feeBase / 10^6, rounded down */
  feeBase: bigint;
  status: OrderStatus;
  rejectReason: string | null;
  /** engine/README's expiry reason when status is Expired (GET /v1/order expire_reason) */
  expireReason: string | null;
  /** funds held for this order (quote for buys, base for sells), minor units */
  hold: bigint;
  /** market buy: what is left of the budget */
  budget: bigint;
  /** time priority on the book (arrival on the book) */
  priority: number;
  /** arrival in the stop book */
  arrival: number;
  /** another reject reason the documents allow just as well (their order of checks is not given) */
  altRejectReason: string | null;
  /** documented situations this order went through (see ops/outside-in.int.test.ts KNOWN_DISAGREEMENTS) */
  readonly flags: Set<string>;
}

export interface Trade {
  /**
   * ASSUMPTION (engine/docs/api.md "trade ids are gap-free"; one counter for the whole engine, not per
   * symbol, first id 1): the model numbers trades 1, 2, 3… in execution order across markets.
   */
  readonly id: bigint;
  /** journal seq of the command whose execution produced the trade (order ids are journal seqs) */
  readonly seq: bigint;
  readonly priceTicks: bigint;
  readonly lots: bigint;
  readonly quote: bigint;
  readonly takerSide: Side;
  readonly makerOrder: string;
  readonly takerOrder: string;
  /** what each side paid on this fill (quote minor units) */
  readonly makerFee: bigint;
  readonly takerFee: bigint;
}

interface Balance {
  available: bigint;
  locked: bigint;
}

export interface ModelOptions {
  /**
   * ASSUMPTION (engine/docs/api.md "buy stops fire when last ≥ stop, sell stops when last ≤ stop"):
   * 'final' compares each waiting stop with the last trade price once the running order has
   * finished; 'anyTrade' fires a stop that any trade of the running order reached.
   */
  readonly triggerCheck: 'final' | 'anyTrade';
  /**
   * ASSUMPTION ("nearest stop price first"): 'market' = nearest to the market the stops waited on
   * (buy stops lowest first, sell stops highest first); 'last' = nearest to the last trade price.
   */
  readonly nearest: 'market' | 'last';
  /** engine/docs/api.md "Open orders per user and market": the cap (default 1,000) */
  readonly maxOpenOrdersPerUserMarket?: number;
}

export const DEFAULT_MODEL_OPTIONS: ModelOptions = { triggerCheck: 'final', nearest: 'market' };

/** Stateless validation, engine/README reject codes 1xxx and the docs/api.md "Validation" classes. */
export function validate(markets: ReadonlyMap<string, MarketSpec>, r: PlaceRequest): { error: string } | { order: ParsedOrder } {
  const m = markets.get(r.symbol);
  if (!m) return { error: 'UNKNOWN_SYMBOL' };
  if (r.side !== 'Buy' && r.side !== 'Sell') return { error: 'INVALID_SIDE' };
  const side: Side = r.side;
  const type = r.order_type;
  if (type !== 'Limit' && type !== 'Market' && type !== 'StopLimit' && type !== 'StopMarket') return { error: 'INVALID_ORDER_TYPE' };
  const isMarket = type === 'Market' || type === 'StopMarket';
  const isStop = type === 'StopLimit' || type === 'StopMarket';
  const qd = ASSET_DECIMALS[m.quote] ?? 0;
  const bd = ASSET_DECIMALS[m.base] ?? 0;
  const price = (text: string): bigint | { error: string } => {
    if (!/^\d+(\.\d+)?$/.test(text)) return { error: 'NOT_A_DECIMAL' };
    const minor = decimalToUnits(text, qd);
    if (minor === null) return { error: 'TOO_MANY_DECIMALS' };
    if (minor % m.tickMinor !== 0n) return { error: 'OFF_TICK' };
    return minor / m.tickMinor;
  };
  let priceTicks: bigint | null = null;
  if (r.price !== undefined) {
    if (isMarket) return { error: 'PRICE_NOT_ALLOWED' };
    const p = price(r.price);
    if (typeof p !== 'bigint') return p;
    if (p < m.minPriceTicks) return { error: 'PRICE_BELOW_MIN' };
    if (p > m.maxPriceTicks) return { error: 'PRICE_ABOVE_MAX' };
    priceTicks = p;
  } else if (!isMarket) return { error: 'PRICE_REQUIRED' };
  let stopTicks: bigint | null = null;
  if (r.stop_price !== undefined) {
    if (!isStop) return { error: 'STOP_PRICE_NOT_ALLOWED' };
    const p = price(r.stop_price);
    if (typeof p !== 'bigint') return p;
    if (p < m.minPriceTicks || p > m.maxPriceTicks) return { error: 'INVALID_STOP_PRICE' };
    stopTicks = p;
  } else if (isStop) return { error: 'STOP_PRICE_REQUIRED' };
  let lots: bigint | null = null;
  if (r.quantity !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(r.quantity)) return { error: 'NOT_A_DECIMAL' };
    const minor = decimalToUnits(r.quantity, bd);
    if (minor === null) return { error: 'TOO_MANY_DECIMALS' };
    if (minor % m.baseMinorPerLot !== 0n) return { error: 'OFF_LOT' };
    lots = minor / m.baseMinorPerLot;
    if (lots < m.minLots) return { error: 'QUANTITY_BELOW_MIN' };
    if (lots > m.maxLots) return { error: 'QUANTITY_ABOVE_MAX' };
  }
  let quoteAmount: bigint | null = null;
  if (r.quote_amount !== undefined) {
    if (!(isMarket && side === 'Buy')) return { error: 'QUOTE_AMOUNT_NOT_ALLOWED' };
    const q = decimalToUnits(r.quote_amount, qd);
    if (q === null) return { error: 'TOO_MANY_DECIMALS' };
    // ASSUMPTION (docs/api.md "notional below minimum"): a quote amount below the minimum notional is refused.
    if (q > 0n && q < m.minNotional) return { error: 'NOTIONAL_BELOW_MIN' };
    quoteAmount = q;
  }
  if (lots === null && quoteAmount === null) return { error: 'QUANTITY_REQUIRED' };
  if (lots === null && !(isMarket && side === 'Buy')) return { error: 'QUANTITY_REQUIRED' };
  if (type === 'StopMarket' && side === 'Buy' && quoteAmount === null) return { error: 'QUOTE_AMOUNT_REQUIRED' };
  // README: "market orders take IOC or FOK"; engine/README: "FOK is refused for a buy by amount alone".
  const tifText = r.time_in_force ?? (isMarket ? 'IOC' : 'GTC');
  if (tifText !== 'GTC' && tifText !== 'IOC' && tifText !== 'FOK') return { error: 'INVALID_TIME_IN_FORCE' };
  const tif: TimeInForce = tifText;
  if (isMarket && tif === 'GTC') return { error: 'INVALID_TIME_IN_FORCE' };
  if (tif === 'FOK' && lots === null) return { error: 'INVALID_TIME_IN_FORCE' };
  const postOnly = r.post_only === true;
  if (postOnly && !(type === 'Limit' && tif === 'GTC')) return { error: 'POST_ONLY_NOT_ALLOWED' };
  const stpText = r.self_trade_prevention ?? 'ExpireTaker';
  if (stpText !== 'ExpireTaker' && stpText !== 'ExpireMaker' && stpText !== 'ExpireBoth') return { error: 'INVALID_STP_MODE' };
  if (priceTicks !== null && lots !== null && priceTicks * lots * m.quotePerTickLot < m.minNotional) return { error: 'NOTIONAL_BELOW_MIN' };
  // engine/README: a stop-market by quantity is valued at its stop price.
  if (type === 'StopMarket' && stopTicks !== null && lots !== null && stopTicks * lots * m.quotePerTickLot < m.minNotional)
    return { error: 'NOTIONAL_BELOW_MIN' };
  return { order: { symbol: m.symbol, side, type, tif, priceTicks, stopTicks, lots, quoteAmount, postOnly, stp: stpText } };
}

export class ReferenceExchange {
  readonly markets: ReadonlyMap<string, MarketSpec>;
  readonly orders = new Map<string, OrderState>();
  readonly trades = new Map<string, Trade[]>();
  private readonly balances = new Map<string, Map<string, Balance>>();
  private readonly bids = new Map<string, OrderState[]>();
  private readonly asks = new Map<string, OrderState[]>();
  private readonly stops = new Map<string, OrderState[]>();
  private readonly lastPrice = new Map<string, bigint>();
  private clock = 0;
  private tradeCount = 0n;
  /** journal seq of the command being applied (0 when the caller does not say) */
  private commandSeq = 0n;
  /**
   * Book deltas per symbol (GET /v1/orderbook symbol_seq). engine/docs/api.md "Events": each command emits
   * "one BookDelta per touched price level with its final total (per-symbol gap-free symbolSeq)".
   * ASSUMPTION: a level is touched when an order is added to it, filled on it or removed from it
   * (cancel, self-trade expiry, last fill); stops waiting in the stop book touch no level; the
   * first delta of a market is symbol_seq 1 (so an untouched market shows 0).
   */
  readonly symbolSeq = new Map<string, bigint>();
  private readonly touched = new Set<string>();
  /** how often each documented path was taken (coverage of a run) */
  readonly stats: Record<string, number> = {};
  /** prices reached by trades of the order now running (for triggerCheck 'anyTrade') */
  private reached: bigint[] = [];

  constructor(
    markets: readonly MarketSpec[],
    private readonly options: ModelOptions = DEFAULT_MODEL_OPTIONS,
  ) {
    this.markets = new Map(markets.map((m) => [m.symbol, m]));
    for (const m of markets) {
      this.bids.set(m.symbol, []);
      this.asks.set(m.symbol, []);
      this.stops.set(m.symbol, []);
      this.trades.set(m.symbol, []);
    }
  }

  // ---------------------------------------------------------------- ledger

  balance(user: string, asset: string): Balance {
    let perUser = this.balances.get(user);
    if (!perUser) this.balances.set(user, (perUser = new Map()));
    let b = perUser.get(asset);
    if (!b) perUser.set(asset, (b = { available: 0n, locked: 0n }));
    return b;
  }

  balancesOf(user: string): ReadonlyMap<string, Balance> {
    return this.balances.get(user) ?? new Map();
  }

  deposit(user: string, asset: string, amount: bigint): void {
    this.balance(user, asset).available += amount;
  }

  /** docs/api.md: withdrawals debit the available balance (INSUFFICIENT_AVAILABLE otherwise). */
  withdraw(user: string, asset: string, amount: bigint): 'Applied' | 'INSUFFICIENT_AVAILABLE' {
    const b = this.balance(user, asset);
    if (b.available < amount) return 'INSUFFICIENT_AVAILABLE';
    b.available -= amount;
    return 'Applied';
  }

  private count(path: string): void {
    this.stats[path] = (this.stats[path] ?? 0) + 1;
  }

  private lock(user: string, asset: string, amount: bigint): void {
    const b = this.balance(user, asset);
    if (b.available < amount) throw new Error('model: lock beyond available');
    b.available -= amount;
    b.locked += amount;
  }

  private unlock(user: string, asset: string, amount: bigint): void {
    const b = this.balance(user, asset);
    if (b.locked < amount) throw new Error('model: unlock beyond locked');
    b.locked -= amount;
    b.available += amount;
  }

  /**
   * engine/README: a limit / stop-limit buy holds what its remaining lots can still cost at its price:
   * their notional plus what they can add to the fee due at the larger of the two rates —
   * notional + fee(notional, max(maker, taker)) for a fresh order.
   */
  limitBuyHold(m: MarketSpec, priceTicks: bigint, lots: bigint, o?: OrderState): bigint {
    const notional = priceTicks * lots * m.quotePerTickLot;
    return notional + fillFee(o?.feeBase ?? 0n, o?.fees ?? 0n, notional, m.makerPpm > m.takerPpm ? m.makerPpm : m.takerPpm);
  }

  private holdAsset(o: OrderState): string {
    const m = this.market(o.req.symbol);
    return o.req.side === 'Buy' ? m.quote : m.base;
  }

  private releaseHold(o: OrderState): void {
    if (o.hold > 0n) this.unlock(o.user, this.holdAsset(o), o.hold);
    o.hold = 0n;
    o.budget = 0n;
  }

  private market(symbol: string): MarketSpec {
    const m = this.markets.get(symbol);
    if (!m) throw new Error(`model: unknown market ${symbol}`);
    return m;
  }

  // ---------------------------------------------------------------- commands

  /** Applies a PlaceOrder that was sequenced as journal seq `id` (the order id). */
  place(user: string, id: string, req: ParsedOrder): OrderState {
    this.begin(BigInt(id));
    try {
      return this.placeInner(user, id, req);
    } finally {
      this.end(req.symbol);
    }
  }

  private begin(seq: bigint): void {
    this.commandSeq = seq;
    this.touched.clear();
  }

  private end(symbol: string): void {
    this.symbolSeq.set(symbol, (this.symbolSeq.get(symbol) ?? 0n) + BigInt(this.touched.size));
    this.touched.clear();
  }

  private touch(o: OrderState): void {
    this.touched.add(`${o.req.side}:${o.req.priceTicks ?? 0n}`);
  }

  private placeInner(user: string, id: string, req: ParsedOrder): OrderState {
    const m = this.market(req.symbol);
    const o: OrderState = {
      id,
      user,
      req,
      lots: req.lots ?? 0n,
      filledLots: 0n,
      filledQuote: 0n,
      fees: 0n,
      feeBase: 0n,
      status: 'Pending',
      rejectReason: null,
      expireReason: null,
      hold: 0n,
      budget: 0n,
      priority: 0,
      arrival: ++this.clock,
      altRejectReason: null,
      flags: new Set(),
    };
    this.orders.set(id, o);
    // Hold before matching; nothing changes if it cannot be taken (INSUFFICIENT_FUNDS).
    let need: bigint;
    let asset: string;
    if (req.side === 'Sell') {
      asset = m.base;
      need = (req.lots ?? 0n) * m.baseMinorPerLot;
    } else {
      asset = m.quote;
      if (req.type === 'Limit' || req.type === 'StopLimit') need = this.limitBuyHold(m, req.priceTicks ?? 0n, req.lots ?? 0n);
      else if (req.quoteAmount !== null) need = req.quoteAmount;
      // Plain market buy by quantity: the whole available quote, for this command only.
      else need = this.balance(user, asset).available;
    }
    // ASSUMPTION (not in the documents; settled by a probe): a plain market buy with an empty quote
    // balance is INSUFFICIENT_FUNDS ("available balance does not cover the order"); with some
    // balance that cannot buy one lot it is accepted and expires.
    const emptyBudget = req.side === 'Buy' && req.type === 'Market' && req.quoteAmount === null && need === 0n;
    const short = this.balance(user, asset).available < need || emptyBudget;
    // engine/docs/api.md "Order of checks": "… duplicate client order id, the open-order cap
    // (TOO_MANY_OPEN_ORDERS, for an order that could rest: a GTC limit or a stop), post-only …".
    if ((req.type === 'Limit' && req.tif === 'GTC') || req.type === 'StopLimit' || req.type === 'StopMarket') {
      const open = [this.bids, this.asks, this.stops].reduce(
        (sum, lists) => sum + (lists.get(req.symbol) ?? []).filter((r) => r.user === user).length,
        0,
      );
      if (open >= (this.options.maxOpenOrdersPerUserMarket ?? 1_000)) {
        o.status = 'Rejected';
        o.rejectReason = 'TOO_MANY_OPEN_ORDERS';
        this.count('rejected TOO_MANY_OPEN_ORDERS');
        return o;
      }
    }
    // engine/README: a market order by quantity must reach the minimum notional at the best price.
    if (req.type === 'Market' && req.lots !== null) {
      const best = this.bestOpposite(o);
      if (best && (best.req.priceTicks ?? 0n) * req.lots * m.quotePerTickLot < m.minNotional) {
        o.status = 'Rejected';
        o.rejectReason = 'NOTIONAL_BELOW_MIN';
        this.count('rejected market NOTIONAL_BELOW_MIN');
        return o;
      }
    }
    // engine/docs/api.md "Order of checks": "… duplicate id, post-only would take (POST_ONLY_WOULD_TAKE),
    // then funds (INSUFFICIENT_FUNDS) — so a post-only order that would cross and lacks funds is
    // refused as POST_ONLY_WOULD_TAKE". (The older reading, funds first, stays the alternative.)
    if (req.postOnly) {
      const best = this.bestOpposite(o);
      if (best && this.crosses(o, best.req.priceTicks ?? 0n)) {
        o.status = 'Rejected';
        o.rejectReason = 'POST_ONLY_WOULD_TAKE';
        if (short) o.altRejectReason = 'INSUFFICIENT_FUNDS';
        this.count('rejected POST_ONLY_WOULD_TAKE');
        return o;
      }
    }
    if (short) {
      o.status = 'Rejected';
      o.rejectReason = 'INSUFFICIENT_FUNDS';
      this.count('rejected INSUFFICIENT_FUNDS');
      return o;
    }
    this.lock(user, asset, need);
    o.hold = need;
    if (req.side === 'Buy' && (req.type === 'Market' || req.type === 'StopMarket')) o.budget = need;

    if (req.type === 'StopLimit' || req.type === 'StopMarket') {
      o.status = 'Untriggered';
      this.stops.get(req.symbol)?.push(o);
      // "A stop already through the last price fires at once."
      this.runStops(req.symbol);
      return o;
    }
    this.reached = [];
    this.execute(o);
    this.runStops(req.symbol);
    return o;
  }

  cancel(user: string, id: string): 'Cancelled' | 'ORDER_NOT_FOUND' | 'ORDER_NOT_OPEN' {
    const o = this.orders.get(id);
    if (!o || o.user !== user) return 'ORDER_NOT_FOUND';
    if (o.status !== 'Pending' && o.status !== 'PartiallyFilled' && o.status !== 'Untriggered') return 'ORDER_NOT_OPEN';
    this.touched.clear();
    this.removeFromBooks(o);
    this.end(o.req.symbol);
    this.releaseHold(o);
    o.status = 'Cancelled';
    return 'Cancelled';
  }

  // ---------------------------------------------------------------- matching

  private removeFromBooks(o: OrderState): void {
    for (const list of [this.bids.get(o.req.symbol), this.asks.get(o.req.symbol), this.stops.get(o.req.symbol)]) {
      if (!list) continue;
      const i = list.indexOf(o);
      if (i >= 0) {
        list.splice(i, 1);
        if (list !== this.stops.get(o.req.symbol)) this.touch(o);
      }
    }
  }

  /** Opposite side, best first, then time priority. */
  private bestOpposite(o: OrderState): OrderState | undefined {
    const list = o.req.side === 'Buy' ? this.asks.get(o.req.symbol) : this.bids.get(o.req.symbol);
    let best: OrderState | undefined;
    for (const r of list ?? []) {
      if (!best) best = r;
      else {
        const rp = r.req.priceTicks ?? 0n;
        const bp = best.req.priceTicks ?? 0n;
        const better = o.req.side === 'Buy' ? rp < bp : rp > bp;
        if (better || (rp === bp && r.priority < best.priority)) best = r;
      }
    }
    return best;
  }

  private sortedOpposite(o: OrderState): OrderState[] {
    const list = [...((o.req.side === 'Buy' ? this.asks.get(o.req.symbol) : this.bids.get(o.req.symbol)) ?? [])];
    list.sort((a, b) => {
      const ap = a.req.priceTicks ?? 0n;
      const bp = b.req.priceTicks ?? 0n;
      if (ap !== bp) return (o.req.side === 'Buy' ? ap < bp : ap > bp) ? -1 : 1;
      return a.priority - b.priority;
    });
    return list;
  }

  private crosses(o: OrderState, makerPrice: bigint): boolean {
    if (o.req.type === 'Market' || o.req.type === 'StopMarket') return true;
    const p = o.req.priceTicks ?? 0n;
    return o.req.side === 'Buy' ? makerPrice <= p : makerPrice >= p;
  }

  private isMarketBuy(o: OrderState): boolean {
    return o.req.side === 'Buy' && (o.req.type === 'Market' || o.req.type === 'StopMarket');
  }

  /**
   * Largest n with n·unit + (what n lots add to the fee due) ≤ budget, for an order whose fills so
   * far come to `feeBase` and which paid `paid` (engine/README, market buys).
   */
  private affordableLots(budget: bigint, unit: bigint, ppm: bigint, feeBase: bigint, paid: bigint): bigint {
    if (unit <= 0n) return 0n;
    let n = (budget * PPM) / (unit * (PPM + ppm));
    const cost = (k: bigint) => k * unit + fillFee(feeBase, paid, k * unit, ppm);
    while (cost(n + 1n) <= budget) n += 1n;
    while (n > 0n && cost(n) > budget) n -= 1n;
    return n;
  }

  private remaining(o: OrderState): bigint | null {
    return o.req.lots === null ? null : o.req.lots - o.filledLots;
  }

  /** FOK: walk the book exactly as matching would (self-trade prevention and budget included). */
  private fokCanFill(o: OrderState, m: MarketSpec): boolean {
    let need = this.remaining(o) ?? 0n;
    let budget = o.budget;
    let feeBase = o.feeBase;
    let paid = o.fees;
    for (const maker of this.sortedOpposite(o)) {
      if (need === 0n) break;
      const price = maker.req.priceTicks ?? 0n;
      if (!this.crosses(o, price)) break;
      if (maker.user === o.user) {
        if (o.req.stp === 'ExpireMaker') continue;
        return false;
      }
      const n = need < maker.lots - maker.filledLots ? need : maker.lots - maker.filledLots;
      if (this.isMarketBuy(o)) {
        // As execute(): the budget must buy all n lots of this maker (what it cannot buy here it
        // cannot buy anywhere worse).
        const unit = price * m.quotePerTickLot;
        if (this.affordableLots(budget, unit, m.takerPpm, feeBase, paid) < n) return false;
        const charged = fillFee(feeBase, paid, n * unit, m.takerPpm);
        budget -= n * unit + charged;
        feeBase += n * unit * m.takerPpm;
        paid += charged;
      }
      need -= n;
    }
    return need === 0n;
  }

  private expireMaker(maker: OrderState): void {
    this.removeFromBooks(maker);
    this.releaseHold(maker);
    maker.status = 'Expired';
    maker.expireReason = 'SelfTradePrevention';
  }

  /** Runs a taker (new limit/market order, or a fired stop) to completion. */
  private execute(o: OrderState): void {
    const m = this.market(o.req.symbol);
    const marketBuy = this.isMarketBuy(o);
    const isMarket = o.req.type === 'Market' || o.req.type === 'StopMarket';
    o.status = 'Pending';
    if (o.req.postOnly) {
      const best = this.bestOpposite(o);
      if (best && this.crosses(o, best.req.priceTicks ?? 0n)) {
        this.releaseHold(o);
        o.status = 'Rejected';
        o.rejectReason = 'POST_ONLY_WOULD_TAKE';
        this.count('rejected POST_ONLY_WOULD_TAKE');
        return;
      }
    }
    if (o.req.tif === 'FOK' && !this.fokCanFill(o, m)) {
      this.count('FOK expired untouched');
      this.releaseHold(o);
      o.status = 'Expired';
      o.expireReason = 'FOK';
      return;
    }
    let takerExpired = false;
    let budgetExhausted = false;
    let lastFillPrice: bigint | undefined;
    for (;;) {
      const rem = this.remaining(o);
      if (rem !== null && rem === 0n) break;
      const maker = this.bestOpposite(o);
      if (!maker) break;
      const price = maker.req.priceTicks ?? 0n;
      if (!this.crosses(o, price)) break;
      if (maker.user === o.user) {
        const mode = o.req.stp;
        this.count(`self-trade ${mode}`);
        if (mode === 'ExpireMaker' || mode === 'ExpireBoth') this.expireMaker(maker);
        if (mode === 'ExpireTaker' || mode === 'ExpireBoth') {
          takerExpired = true;
          break;
        }
        continue;
      }
      const makerRem = maker.lots - maker.filledLots;
      let n = rem === null || makerRem < rem ? makerRem : rem;
      if (marketBuy) {
        const can = this.affordableLots(o.budget, price * m.quotePerTickLot, m.takerPpm, o.feeBase, o.fees);
        if (can === 0n) {
          this.count(o.req.lots === null ? 'market buy: budget spent (amount only)' : 'market buy: budget spent, quantity open');
          budgetExhausted = true;
          break;
        }
        if (can < n) n = can;
      }
      this.fill(m, o, maker, n, price);
      lastFillPrice = price;
    }
    // engine/README, market buys: a buy whose book ran out as its budget did (what is left cannot
    // buy one more lot even at the price it last paid) was ended by the budget, not the liquidity.
    if (
      marketBuy &&
      !budgetExhausted &&
      !takerExpired &&
      lastFillPrice !== undefined &&
      this.affordableLots(o.budget, lastFillPrice * m.quotePerTickLot, m.takerPpm, o.feeBase, o.fees) === 0n
    ) {
      budgetExhausted = true;
    }
    const rem = this.remaining(o);
    const open = rem === null ? false : rem > 0n;
    if (!open && !takerExpired) {
      if (o.req.lots === null) {
        // A buy by amount alone (engine/README, market buys): Filled when the budget ran out having
        // bought something, Expired (QuoteAmountExhausted, quantity 0) when it could not afford one
        // lot, Expired when liquidity ran out.
        o.lots = o.filledLots;
        o.status = budgetExhausted && o.filledLots > 0n ? 'Filled' : 'Expired';
        if (o.status === 'Expired') o.expireReason = budgetExhausted ? 'QuoteAmountExhausted' : 'MarketNoLiquidity';
        if (budgetExhausted && o.filledLots === 0n) this.count('market buy: amount buys not one lot');
      } else o.status = 'Filled';
      this.releaseHold(o);
      return;
    }
    if (o.req.lots === null) o.lots = o.filledLots;
    if (takerExpired || isMarket || o.req.tif !== 'GTC') {
      this.releaseHold(o);
      o.status = 'Expired';
      // engine/README: SelfTradePrevention for the taker's STP; a market order out of budget or of
      // book; otherwise the limit's time in force (IOC; a FOK that passed its check fills fully).
      o.expireReason = takerExpired
        ? 'SelfTradePrevention'
        : isMarket
          ? budgetExhausted
            ? 'QuoteAmountExhausted'
            : 'MarketNoLiquidity'
          : o.req.tif;
      return;
    }
    // GTC limit rests with the remainder (hold already at exactly what the remainder can cost).
    o.status = o.filledLots > 0n ? 'PartiallyFilled' : 'Pending';
    o.priority = ++this.clock;
    (o.req.side === 'Buy' ? this.bids : this.asks).get(o.req.symbol)?.push(o);
    this.touch(o);
  }

  private fill(m: MarketSpec, taker: OrderState, maker: OrderState, lots: bigint, priceTicks: bigint): void {
    const notional = priceTicks * lots * m.quotePerTickLot;
    const base = lots * m.baseMinorPerLot;
    const buyer = taker.req.side === 'Buy' ? taker : maker;
    const seller = taker.req.side === 'Buy' ? maker : taker;
    const buyerPpm = buyer === taker ? m.takerPpm : m.makerPpm;
    const sellerPpm = seller === taker ? m.takerPpm : m.makerPpm;
    const buyerFee = fillFee(buyer.feeBase, buyer.fees, notional, buyerPpm);
    const sellerFee = fillFee(seller.feeBase, seller.fees, notional, sellerPpm);

    // Buyer pays notional + fee out of its hold and receives the base.
    const paid = notional + buyerFee;
    const bq = this.balance(buyer.user, m.quote);
    if (bq.locked < paid || buyer.hold < paid) throw new Error('model: buyer hold short');
    bq.locked -= paid;
    buyer.hold -= paid;
    this.addFill(buyer, lots, notional, buyerFee, buyerPpm);
    if (this.isMarketBuy(buyer)) buyer.budget -= paid;
    else {
      // "A limit buy's hold is kept at exactly what its remainder can still cost."
      const keep = this.limitBuyHold(m, buyer.req.priceTicks ?? 0n, (buyer.req.lots ?? 0n) - buyer.filledLots, buyer);
      const free = buyer.hold - keep;
      if (free < 0n) throw new Error('model: limit buy hold below its remainder');
      this.unlock(buyer.user, m.quote, free);
      buyer.hold = keep;
    }
    this.balance(buyer.user, m.base).available += base;

    // Seller pays the base out of its hold and receives notional − fee.
    const sb = this.balance(seller.user, m.base);
    sb.locked -= base;
    seller.hold -= base;
    this.addFill(seller, lots, notional, sellerFee, sellerPpm);
    this.balance(seller.user, m.quote).available += notional - sellerFee;

    this.balance(FEE_ACCOUNT, m.quote).available += buyerFee + sellerFee;

    this.touch(maker);
    if (maker.filledLots === maker.lots) {
      this.removeFromBooks(maker);
      this.releaseHold(maker);
      maker.status = 'Filled';
    } else maker.status = 'PartiallyFilled';

    this.trades.get(m.symbol)?.push({
      id: ++this.tradeCount,
      seq: this.commandSeq,
      priceTicks,
      lots,
      quote: notional,
      takerSide: taker.req.side,
      makerOrder: maker.id,
      takerOrder: taker.id,
      makerFee: maker === buyer ? buyerFee : sellerFee,
      takerFee: taker === buyer ? buyerFee : sellerFee,
    });
    this.lastPrice.set(m.symbol, priceTicks);
    this.reached.push(priceTicks);
  }

  /** One side's running totals after a fill: lots, quote notional, fee and the fee base (notional × rate) it was charged on. */
  private addFill(o: OrderState, lots: bigint, notional: bigint, fee: bigint, ppm: bigint): void {
    o.filledLots += lots;
    o.filledQuote += notional;
    o.fees += fee;
    o.feeBase += notional * ppm;
  }

  // ---------------------------------------------------------------- stops

  private fires(o: OrderState, last: bigint): boolean {
    const stop = o.req.stopTicks ?? 0n;
    return o.req.side === 'Buy' ? last >= stop : last <= stop;
  }

  /**
   * Fired stops enter in trigger order — nearest stop price first (ASSUMPTION: nearest to the
   * market they were waiting on, i.e. buy stops lowest first, sell stops highest first), equal
   * stops by arrival, buys before sells — each running to completion before the next.
   * ASSUMPTION: stops fired by a fired stop queue behind the ones already fired.
   */
  private runStops(symbol: string): void {
    const queue: OrderState[] = [];
    const collect = (): number => {
      const last = this.lastPrice.get(symbol);
      const waiting = this.stops.get(symbol) ?? [];
      const prices = this.options.triggerCheck === 'anyTrade' && this.reached.length > 0 ? this.reached : last === undefined ? [] : [last];
      const fired = waiting.filter((s) => prices.some((p) => this.fires(s, p)));
      fired.sort((a, b) => {
        if (a.req.side !== b.req.side) return a.req.side === 'Buy' ? -1 : 1;
        const ap = a.req.stopTicks ?? 0n;
        const bp = b.req.stopTicks ?? 0n;
        const ascending = (a.req.side === 'Buy') === (this.options.nearest === 'market');
        if (ap !== bp) return ascending === ap < bp ? -1 : 1;
        return a.arrival - b.arrival;
      });
      for (const s of fired) {
        waiting.splice(waiting.indexOf(s), 1);
        queue.push(s);
      }
      return fired.length;
    };
    collect();
    while (queue.length > 0) {
      const s = queue.shift();
      if (!s) break;
      this.count(`stop fired: ${s.req.type} ${s.req.side}`);
      if (queue.length > 0) this.count('stop fired while others wait');
      this.reached = [];
      this.execute(s);
      if (collect() > 0) this.count('stop fired by a fired stop');
    }
    this.reached = [];
  }

  // ---------------------------------------------------------------- views

  book(symbol: string, depth: number): { bids: [bigint, bigint][]; asks: [bigint, bigint][] } {
    const levels = (list: OrderState[], desc: boolean): [bigint, bigint][] => {
      const byPrice = new Map<bigint, bigint>();
      for (const o of list) byPrice.set(o.req.priceTicks ?? 0n, (byPrice.get(o.req.priceTicks ?? 0n) ?? 0n) + o.lots - o.filledLots);
      return [...byPrice.entries()].sort((a, b) => (a[0] === b[0] ? 0 : a[0] < b[0] !== desc ? -1 : 1)).slice(0, depth);
    };
    return { bids: levels(this.bids.get(symbol) ?? [], true), asks: levels(this.asks.get(symbol) ?? [], false) };
  }

  openOrders(user: string): OrderState[] {
    return [...this.orders.values()].filter(
      (o) => o.user === user && (o.status === 'Pending' || o.status === 'PartiallyFilled' || o.status === 'Untriggered'),
    );
  }

  last(symbol: string): bigint | undefined {
    return this.lastPrice.get(symbol);
  }

  /**
   * What the trades projection holds (docs/api.md "Projections": trades come from the sequencer's event
   * sink, bounded: 1,000 trades per symbol; after a restart they hold what was replayed since the
   * latest snapshot): the trades produced by commands with seq > `afterSeq` (the latest restart's
   * snapshot seq; 0 before any restart). The ticker's 24 h figures are engine state (engine/README
   * "Events": Ticker) and survive restarts: read them with `afterSeq` 0. Its last/open/high/low/
   * volumes are read over the same trades (ASSUMPTION: the whole run lies inside one 24 h window;
   * volume_24h in base, quote_volume_24h in quote).
   */
  projection(
    symbol: string,
    afterSeq: bigint,
  ): { trades: Trade[]; last?: bigint; open?: bigint; high?: bigint; low?: bigint; volumeLots: bigint; quoteVolume: bigint } {
    const trades = (this.trades.get(symbol) ?? []).filter((t) => t.seq > afterSeq);
    let high: bigint | undefined;
    let low: bigint | undefined;
    let volumeLots = 0n;
    let quoteVolume = 0n;
    for (const t of trades) {
      if (high === undefined || t.priceTicks > high) high = t.priceTicks;
      if (low === undefined || t.priceTicks < low) low = t.priceTicks;
      volumeLots += t.lots;
      quoteVolume += t.quote;
    }
    const first = trades[0];
    const lastTrade = trades[trades.length - 1];
    return {
      trades,
      volumeLots,
      quoteVolume,
      ...(lastTrade ? { last: lastTrade.priceTicks } : {}),
      ...(first ? { open: first.priceTicks } : {}),
      ...(high !== undefined ? { high } : {}),
      ...(low !== undefined ? { low } : {}),
    };
  }

  users(): string[] {
    return [...this.balances.keys()];
  }
}
