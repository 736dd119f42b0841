/**
 * An account's open perpetual orders (FuturesAccount.orders): what each holds beside its book
 * record, by order id, plus what the hot paths would otherwise scan every open order of the user
 * for (issue 18's bench: a user rests ~100 orders after 300k commands, and the scans grew with it):
 *
 *  - Σ reserves per settlement asset (the available balance of every pre-trade check);
 *  - the orders of each position leg, reduce-only apart and the others by side (the reduce-only
 *    sum at placement, the end-of-command cut and reserve refresh, ReduceOnlyCut).
 *
 * Every way in and out of the map keeps both, and PerpOrder.reserveKrw's setter keeps the sums.
 * The leg lists are intrusive (links in the order record): no hashing, no allocation per order.
 */
import type { PositionSide } from '../types.ts';
import type { OrderNode } from '../matching/order.ts';
import type { PerpMarketSpec } from './perp-market.ts';

/** What an open perpetual order holds beside its book record (OrderNode.locked stays 0). */
export class PerpOrder {
  /** its book record, once it exists (hold runs before the record is made) */
  node: OrderNode | null = null;
  /** the orders map whose reserve sum counts this order (set while the order is in it) */
  owner: PerpOrders | null = null;
  #reserveKrw: bigint;
  /** what FuturesLedger.refreshReserve last computed the reserve from, and got: equal inputs skip the BigInt work */
  memoOpeningLots = -1;
  memoLeverage = 0;
  memoReserveKrw = -1n;
  /** command counter when FuturesLedger last listed it as recomputed before the command's end */
  refreshMark = -1;
  /** at least its remaining lots (its quantity when placed: amends only reduce); Infinity when not known */
  lotsBound = Infinity;
  /** its place in its leg list (LegOrders) */
  legList: LegOrders | null = null;
  previousOnLeg: PerpOrder | null = null;
  nextOnLeg: PerpOrder | null = null;

  constructor(
    readonly orderId: number,
    readonly market: PerpMarketSpec,
    /** the position leg it trades: BOTH in one-way mode */
    readonly leg: PositionSide,
    /** never opens or grows its leg: reduce-only, or a hedge-mode order against its leg (closing) */
    readonly reduceOnly: boolean,
    /** the price its reserve is taken at (README "Order reserve") */
    readonly reservePriceTicks: number,
    reserveKrw: bigint,
    /** its side when known (placement); a restored order learns it from its book record (PerpOrders.learnSide) */
    public isBuy: boolean | undefined = undefined,
  ) {
    this.#reserveKrw = reserveKrw;
  }

  /** initial margin + taker fee of the lots it can still open, at reservePriceTicks */
  get reserveKrw(): bigint {
    return this.#reserveKrw;
  }

  /** the reserve, kept in its orders map's Σ while the order is in one */
  set reserveKrw(value: bigint) {
    const owner = this.owner;
    if (owner !== null) owner.addReserve(this.market.settlementAsset, value, this.#reserveKrw);
    this.#reserveKrw = value;
  }
}

/** One leg's orders of one kind, oldest first. */
export class LegOrders {
  head: PerpOrder | null = null;
  tail: PerpOrder | null = null;
  size = 0;
  /** ≥ every listed order's remaining lots (the largest lotsBound listed since the list was last empty) */
  maxRemaining = 0;

  push(order: PerpOrder): void {
    if (order.lotsBound > this.maxRemaining) this.maxRemaining = order.lotsBound;
    order.legList = this;
    order.previousOnLeg = this.tail;
    order.nextOnLeg = null;
    if (this.tail === null) this.head = order;
    else this.tail.nextOnLeg = order;
    this.tail = order;
    this.size++;
  }

  remove(order: PerpOrder): void {
    const previous = order.previousOnLeg;
    const next = order.nextOnLeg;
    if (previous === null) this.head = next;
    else previous.nextOnLeg = next;
    if (next === null) this.tail = previous;
    else next.previousOnLeg = previous;
    order.legList = null;
    order.previousOnLeg = null;
    order.nextOnLeg = null;
    if (--this.size === 0) this.maxRemaining = 0;
  }
}

/** Which list of a leg an order is in. */
export const LegKind = {
  ReduceOnly: 0,
  Buy: 1,
  Sell: 2,
  /** a restored order whose side is not known yet */
  SideUnknown: 3,
} as const;
export type LegKind = (typeof LegKind)[keyof typeof LegKind];

const KINDS = 4;
const LEG_INDEX: Readonly<Record<PositionSide, number>> = { BOTH: 0, LONG: 1, SHORT: 2 };
const EMPTY = new LegOrders();

export class PerpOrders {
  readonly #byId = new Map<number, PerpOrder>();
  /** Σ reserves per settlement asset: a few assets, so parallel arrays scanned rather than a Map */
  readonly #reserveAssets: string[] = [];
  readonly #reserveSums: bigint[] = [];
  /** per market met (parallel arrays, a few markets): 3 legs (BOTH, LONG, SHORT) × LegKind lists */
  readonly #legMarkets: PerpMarketSpec[] = [];
  readonly #legLists: LegOrders[][] = [];

  get size(): number {
    return this.#byId.size;
  }

  get(orderId: number): PerpOrder | undefined {
    return this.#byId.get(orderId);
  }

  has(orderId: number): boolean {
    return this.#byId.has(orderId);
  }

  /** in insertion order */
  values(): IterableIterator<PerpOrder> {
    return this.#byId.values();
  }

  set(orderId: number, order: PerpOrder): void {
    const previous = this.#byId.get(orderId);
    if (previous !== undefined) this.#unlink(previous);
    this.#byId.set(orderId, order);
    this.#link(order);
  }

  delete(orderId: number): boolean {
    const order = this.#byId.get(orderId);
    if (order === undefined) return false;
    this.#unlink(order);
    return this.#byId.delete(orderId);
  }

  /** Σ reserves of the orders settled in `asset` */
  reservesKrw(asset: string): bigint {
    const at = this.#reserveAssets.indexOf(asset);
    return at < 0 ? 0n : this.#reserveSums[at]!;
  }

  /** one leg's open orders of one kind, oldest first (iterate head → nextOnLeg; do not change the map meanwhile) */
  onLeg(market: PerpMarketSpec, side: PositionSide, kind: LegKind): LegOrders {
    const at = this.#legMarkets.indexOf(market);
    return at < 0 ? EMPTY : this.#legLists[at]![LEG_INDEX[side] * KINDS + kind]!;
  }

  /** a restored order's side, once its book record is known: it moves to its side's list */
  learnSide(order: PerpOrder, isBuy: boolean, remainingLots: number): void {
    order.isBuy = isBuy;
    order.lotsBound = remainingLots;
    if (order.legList === null || order.reduceOnly) return;
    order.legList.remove(order);
    this.#listOf(order).push(order);
  }

  /** @internal PerpOrder.reserveKrw's setter and the map's own moves: one reserve from `before` to `after` */
  addReserve(asset: string, after: bigint, before: bigint): void {
    if (after === before) return;
    let at = this.#reserveAssets.indexOf(asset);
    if (at < 0) at = this.#reserveAssets.push(asset) - 1;
    const sum = this.#reserveSums[at] ?? 0n;
    // one BigInt operation when an order joins or leaves (one side 0n), two when its reserve moves
    this.#reserveSums[at] = before === 0n ? sum + after : after === 0n ? sum - before : sum + after - before;
  }

  #listOf(order: PerpOrder): LegOrders {
    let at = this.#legMarkets.indexOf(order.market);
    if (at < 0) {
      at = this.#legMarkets.push(order.market) - 1;
      this.#legLists.push(Array.from({ length: 3 * KINDS }, () => new LegOrders()));
    }
    const legs = this.#legLists[at]!;
    const kind = order.reduceOnly
      ? LegKind.ReduceOnly
      : order.isBuy === undefined
        ? LegKind.SideUnknown
        : order.isBuy
          ? LegKind.Buy
          : LegKind.Sell;
    return legs[LEG_INDEX[order.leg] * KINDS + kind]!;
  }

  #link(order: PerpOrder): void {
    if (order.owner !== null && order.owner !== this) order.owner.delete(order.orderId);
    order.owner = this;
    this.addReserve(order.market.settlementAsset, order.reserveKrw, 0n);
    this.#listOf(order).push(order);
  }

  #unlink(order: PerpOrder): void {
    this.addReserve(order.market.settlementAsset, 0n, order.reserveKrw);
    order.owner = null;
    order.legList?.remove(order);
  }
}
