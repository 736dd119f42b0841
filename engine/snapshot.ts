/**
 * Snapshot and restore: the engine's whole state as plain JSON-safe data, in a canonical order
 * (books level by level worst → best and FIFO within a level, stops in trigger order, accounts
 * by user id, finished orders oldest first), so that equal states give equal snapshots and
 * restoring then applying the remaining commands repeats the uninterrupted run event for event.
 */
import type { CommandEvents } from './command-events.ts';
import type { Ledger } from './ledger.ts';
import type { Book, BookSide } from './matching/book.ts';
import type { Matcher } from './matching/matcher.ts';
import type { OrderLifecycle } from './matching/order-lifecycle.ts';
import { OrderNode } from './matching/order.ts';
import {
  RECORD_ORDER_TYPES,
  SIDES,
  STATUSES,
  STP_MODES,
  TIMES_IN_FORCE,
  conditionalBits,
  setConditionalBits,
} from './matching/recent-orders.ts';
import { type FuturesRecord, restoreFutures, snapshotFutures } from './perp/futures-snapshot.ts';
import type { FuturesState } from './perp/futures-state.ts';
import type { EngineSnapshot } from './types.ts';

/** Where the snapshot's parts live: the modules Engine wires together (engine.ts). */
export interface EngineState {
  /** the event seq */
  readonly events: CommandEvents;
  /** the trade id counter */
  readonly matcher: Matcher;
  /** accounts (spot balances, open-order lists, client order ids) and each asset's supply */
  readonly ledger: Ledger;
  /** books by symbol, in market-config order */
  readonly books: ReadonlyMap<string, Book>;
  /** the order index and the remembered finished orders */
  readonly lifecycle: OrderLifecycle;
  /** futures wallets, positions, settings, order reserves, marks */
  readonly futures: FuturesState;
}

/**
 * 2: flat order lists; 3: the status field also carries the expiry reason (bits 3–5); 4: ticker
 * state per book; 5: the client order ids taken per user; 6: the fee carry of open orders; 7: the
 * futures state (perpetual books are listed with the spot ones)
 */
export const SNAPSHOT_VERSION = 7;
/**
 * versions restoreState reads: a version 2 snapshot is a version 3 one without expiry reasons, a
 * version 3 one is a version 4 one without ticker state (restored empty: no Ticker emitted yet, no
 * trades in the 24 h window), a version 4 one is a version 5 one without client order ids (rebuilt
 * from the orders it holds), a version 5 one is a version 6 one whose open orders carry no fee fraction
 * (they were charged per fill until then), a version 6 one is a version 7 one without futures state
 */
const READABLE_VERSIONS: readonly number[] = [2, 3, 4, 5, 6, 7];

/**
 * Orders are stored as one flat list per book side (and for stops and remembered orders):
 * RECORD_FIELDS values per order, one after another. Far fewer objects than an array per order,
 * which keeps JSON.stringify / JSON.parse and the garbage collector quick on ~10^5 orders.
 * Field order is part of the snapshot version and matches RecentOrders.record().
 */
type OrderList = (number | string | null)[];
export const RECORD_FIELDS = 22;

interface BookRecord {
  symbol: string;
  symbolSeq: number;
  lastPrice: number;
  bids: OrderList;
  asks: OrderList;
  buyStops: OrderList;
  sellStops: OrderList;
  /** version 4 on */
  ticker?: TickerRecord;
}

/** A book's TickerWindow (ticker.ts): what its last Ticker said, and the used minute buckets. */
interface TickerRecord {
  /** timestamp of the last Ticker, -1 = none yet */
  lastAt: number;
  /** best bid / ask price the last Ticker carried, 0 = none */
  bid: number;
  ask: number;
  /** 1 when changed figures wait for their Ticker */
  dirty: number;
  /** BUCKET_FIELDS numbers per used bucket (minute, open, high, low, volume, quote volume), in slot order */
  buckets: number[];
}

interface SnapshotV1 {
  version: typeof SNAPSHOT_VERSION;
  seq: number;
  tradeSeq: number;
  supply: number[];
  /** [userId, available₀, locked₀, available₁, locked₁, …], accounts with anything in them */
  accounts: number[][];
  books: BookRecord[];
  recent: OrderList;
  /**
   * version 5 on: [userId, clientOrderId, orderId, …] for every client order id taken (by an open
   * order or a remembered finished one), by user id, then order id
   */
  clientOrderIds?: (number | string)[];
  /** version 6 on: [orderId, feeCarry, …] for the open orders whose carry is not 0, by order id */
  feeCarries?: number[];
  /** version 7 on: the futures domain (perp/futures-snapshot.ts) */
  futures?: FuturesRecord;
}

function encode(order: OrderNode, list: OrderList): void {
  list.push(
    order.orderId,
    order.userId,
    order.clientOrderId ?? null,
    order.symbol,
    SIDES.indexOf(order.side),
    RECORD_ORDER_TYPES.indexOf(order.orderType),
    TIMES_IN_FORCE.indexOf(order.timeInForce),
    order.postOnly ? 1 : 0,
    STP_MODES.indexOf(order.stp),
    order.price,
    order.stopPrice,
    order.quantity,
    order.byQuote ? 1 : 0,
    order.quoteAmount,
    order.filled,
    order.filledQuote,
    order.feesPaid,
    order.locked,
    // status (bits 0–2), expiry reason (3–7), TP/SL working type and close position (8–10: recent-orders.ts)
    STATUSES.indexOf(order.status) | (order.expireReason << 3) | (conditionalBits(order) << 8),
    order.rejectCode,
    order.createdAt,
    order.updatedAt,
  );
}

/** Reads the order at `offset` of a flat list into `order` (a fresh or reused record). */
function decode(list: OrderList, offset: number, order: OrderNode): OrderNode {
  const at = (index: number): number => list[offset + index] as number;
  order.orderId = at(0);
  order.userId = at(1);
  order.clientOrderId = (list[offset + 2] as string | null) ?? undefined;
  order.symbol = list[offset + 3] as string;
  order.side = SIDES[at(4)]!;
  order.isBuy = order.side === 'Buy';
  order.orderType = RECORD_ORDER_TYPES[at(5)]!;
  order.timeInForce = TIMES_IN_FORCE[at(6)]!;
  order.postOnly = at(7) === 1;
  order.stp = STP_MODES[at(8)]!;
  order.price = at(9);
  order.stopPrice = at(10);
  order.quantity = at(11);
  order.byQuote = at(12) === 1;
  order.quoteAmount = at(13);
  order.filled = at(14);
  order.filledQuote = at(15);
  order.feesPaid = at(16);
  order.locked = at(17);
  order.status = STATUSES[at(18) & 7]!;
  order.expireReason = (at(18) >> 3) & 31;
  setConditionalBits(order, at(18) >> 8);
  order.rejectCode = at(19);
  order.createdAt = at(20);
  order.updatedAt = at(21);
  return order;
}

function encodeSide(side: BookSide): OrderList {
  const list: OrderList = [];
  for (const level of side.sorted) {
    for (let order = level.head; order !== null; order = order.next) encode(order, list);
  }
  return list;
}

function encodeAll(orders: readonly OrderNode[]): OrderList {
  const list: OrderList = [];
  for (const order of orders) encode(order, list);
  return list;
}

export function snapshotState(state: EngineState): EngineSnapshot {
  const accounts: number[][] = [];
  const userIds = [...state.ledger.accounts.keys()].sort((a, b) => a - b);
  for (const userId of userIds) {
    const account = state.ledger.accounts.get(userId)!;
    if (!account.isEmpty()) accounts.push([userId, ...account.balances]);
  }
  const books: BookRecord[] = [];
  for (const book of state.books.values()) {
    books.push({
      symbol: book.market.symbol,
      symbolSeq: book.symbolSeq,
      lastPrice: book.lastPrice,
      bids: encodeSide(book.bids),
      asks: encodeSide(book.asks),
      // the stops that fire on a rise (buy stops, sell take-profits), last-price ones then mark-price
      // ones, each list in trigger order; restore sorts them back by their working type (stop-book.ts)
      buyStops: encodeAll([...book.stops.rising, ...book.stops.markRising]),
      sellStops: encodeAll([...book.stops.falling, ...book.stops.markFalling]),
      ticker: {
        lastAt: book.ticker.lastAt,
        bid: book.ticker.bid,
        ask: book.ticker.ask,
        dirty: book.ticker.dirty ? 1 : 0,
        buckets: book.ticker.encodeBuckets(),
      },
    });
  }
  const recent: OrderList = [];
  for (const slot of state.lifecycle.recent.slots()) state.lifecycle.recent.appendRecord(slot, recent);
  const clientOrderIds: (number | string)[] = [];
  for (const userId of userIds) {
    const taken = state.ledger.accounts.get(userId)!.clientOrderIds;
    if (taken === null || taken.size === 0) continue;
    // Canonical order (a Map iterates in insertion order, which a restored engine need not share).
    const entries = [...taken].sort((a, b) => a[1] - b[1]);
    for (const [clientOrderId, orderId] of entries) clientOrderIds.push(userId, clientOrderId, orderId);
  }
  const carried: OrderNode[] = [];
  for (const userId of userIds)
    for (const order of state.ledger.accounts.get(userId)!.open) if (order !== null && order.feeCarry !== 0) carried.push(order);
  carried.sort((a, b) => a.orderId - b.orderId);
  const feeCarries: number[] = [];
  for (const order of carried) feeCarries.push(order.orderId, order.feeCarry);
  const snapshot: SnapshotV1 = {
    version: SNAPSHOT_VERSION,
    seq: state.events.seq,
    tradeSeq: state.matcher.tradeSeq,
    supply: [...state.ledger.supply],
    accounts,
    books,
    recent,
    clientOrderIds,
    feeCarries,
    futures: snapshotFutures(state.futures),
  };
  return snapshot as unknown as EngineSnapshot;
}

/** Fills a freshly constructed engine from a snapshot taken with the same config. */
export function restoreState(state: EngineState, data: EngineSnapshot): void {
  if (!READABLE_VERSIONS.includes(data.version)) throw new Error(`unsupported engine snapshot version ${String(data.version)}`);
  const snapshot = data as unknown as SnapshotV1;
  state.events.seq = snapshot.seq;
  state.matcher.tradeSeq = snapshot.tradeSeq;
  snapshot.supply.forEach((value, index) => (state.ledger.supply[index] = value));
  for (const [userId, ...balances] of snapshot.accounts) {
    const account = state.ledger.account(userId!);
    balances.forEach((value, index) => (account.balances[index] = value));
  }
  const open = (order: OrderNode, marketIndex: number): void => {
    order.account = state.ledger.account(order.userId);
    state.lifecycle.orders.set(order.orderId, order);
    order.account.addOpen(order, marketIndex);
    order.listed = true;
  };
  for (const record of snapshot.books) {
    const book = state.books.get(record.symbol);
    if (book === undefined) throw new Error(`snapshot has unknown market ${record.symbol}`);
    book.symbolSeq = record.symbolSeq;
    book.lastPrice = record.lastPrice;
    if (record.ticker !== undefined) {
      book.ticker.lastAt = record.ticker.lastAt;
      book.ticker.bid = record.ticker.bid;
      book.ticker.ask = record.ticker.ask;
      book.ticker.dirty = record.ticker.dirty === 1;
      book.ticker.restoreBuckets(record.ticker.buckets);
    }
    for (const [side, list] of [
      [book.bids, record.bids],
      [book.asks, record.asks],
    ] as const) {
      for (let offset = 0; offset < list.length; offset += RECORD_FIELDS) {
        const order = decode(list, offset, new OrderNode());
        side.append(order);
        open(order, book.index);
      }
    }
    for (const list of [record.buyStops, record.sellStops]) {
      for (let offset = 0; offset < list.length; offset += RECORD_FIELDS) {
        const order = decode(list, offset, new OrderNode());
        book.stops.listOf(order).push(order);
        open(order, book.index);
      }
    }
  }
  const scratch = new OrderNode();
  for (let offset = 0; offset < snapshot.recent.length; offset += RECORD_FIELDS) {
    const order = decode(snapshot.recent, offset, scratch);
    const slot = state.lifecycle.recent.push(order);
    if (state.lifecycle.recent.lastEvictedId >= 0) state.lifecycle.orders.forget(state.lifecycle.recent.lastEvictedId);
    if (slot >= 0) state.lifecycle.orders.set(order.orderId, slot);
  }
  if (snapshot.clientOrderIds !== undefined) {
    const list = snapshot.clientOrderIds;
    for (let offset = 0; offset < list.length; offset += 3) {
      const account = state.ledger.account(list[offset] as number);
      (account.clientOrderIds ??= new Map()).set(list[offset + 1] as string, list[offset + 2] as number);
    }
  } else rebuildClientOrderIds(state);
  const carries = snapshot.feeCarries ?? [];
  for (let offset = 0; offset < carries.length; offset += 2) {
    const order = state.lifecycle.orders.get(carries[offset]!);
    if (typeof order !== 'object') throw new Error(`snapshot: fee carry of order ${carries[offset]}, which is not open`);
    order.feeCarry = carries[offset + 1]!;
  }
  restoreFutures(state.futures, snapshot.futures);
}

/**
 * Before version 5 the API kept the client order ids: take them from the orders the snapshot holds
 * — the remembered finished ones oldest first, then the open ones, so an open order wins over a
 * finished one and a newer over an older (the API's index could let a duplicate in).
 */
function rebuildClientOrderIds(state: EngineState): void {
  const take = (userId: number, clientOrderId: string | undefined, orderId: number): void => {
    if (typeof clientOrderId !== 'string') return;
    const account = state.ledger.account(userId);
    (account.clientOrderIds ??= new Map()).set(clientOrderId, orderId);
  };
  for (const slot of state.lifecycle.recent.slots()) {
    const view = state.lifecycle.recent.view(slot);
    take(view.userId, view.clientOrderId, view.orderId);
  }
  const open: OrderNode[] = [];
  for (const account of state.ledger.accounts.values()) for (const order of account.open) if (order !== null) open.push(order);
  open.sort((a, b) => a.orderId - b.orderId);
  for (const order of open) take(order.userId, order.clientOrderId, order.orderId);
}
