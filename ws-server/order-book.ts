/**
 * One symbol's aggregated book as the ws-server keeps it from the BookDelta stream: price level →
 * total quantity per side, prices as the canonical decimal strings of the wire (compared as
 * numbers, never as floats). Pure; the instance holds one per symbol.
 */
import { CHECKSUM_LEVELS, bookChecksum, type Level } from '../contract/book-checksum.ts';
import { compareDecimal } from '../contract/decimal-text.ts';

export type BookSide = 'Buy' | 'Sell';

/** One side: a price → quantity map and the prices sorted best first (bids descending, asks ascending). */
class SideLevels {
  readonly #quantities = new Map<string, string>();
  readonly #prices: string[] = [];
  readonly #better: (a: string, b: string) => number;

  constructor(side: BookSide) {
    this.#better = side === 'Buy' ? (a, b) => compareDecimal(b, a) : compareDecimal;
  }

  get size(): number {
    return this.#prices.length;
  }

  set(price: string, quantity: string): void {
    const known = this.#quantities.has(price);
    if (quantity === '0') {
      if (!known) return;
      this.#quantities.delete(price);
      this.#prices.splice(this.#find(price), 1);
      return;
    }
    this.#quantities.set(price, quantity);
    if (!known) this.#prices.splice(this.#find(price), 0, price);
  }

  top(count: number): Level[] {
    const out: Level[] = [];
    for (let index = 0; index < this.#prices.length && index < count; index++) {
      const price = this.#prices[index]!;
      out.push([price, this.#quantities.get(price)!]);
    }
    return out;
  }

  clear(): void {
    this.#quantities.clear();
    this.#prices.length = 0;
  }

  /** binary search: the index of `price`, or where it would go */
  #find(price: string): number {
    let low = 0;
    let high = this.#prices.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#better(this.#prices[middle]!, price) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

export class OrderBook {
  readonly symbol: string;
  readonly #bids = new SideLevels('Buy');
  readonly #asks = new SideLevels('Sell');
  /** the symbol_seq of the last delta applied (or of the snapshot loaded) */
  symbolSeq = 0;

  constructor(symbol: string) {
    this.symbol = symbol;
  }

  load(symbolSeq: number, bids: readonly Level[], asks: readonly Level[]): void {
    this.#bids.clear();
    this.#asks.clear();
    for (const [price, quantity] of bids) this.#bids.set(price, quantity);
    for (const [price, quantity] of asks) this.#asks.set(price, quantity);
    this.symbolSeq = symbolSeq;
  }

  apply(symbolSeq: number, side: BookSide, price: string, quantity: string): void {
    (side === 'Buy' ? this.#bids : this.#asks).set(price, quantity);
    this.symbolSeq = symbolSeq;
  }

  bids(count: number): Level[] {
    return this.#bids.top(count);
  }

  asks(count: number): Level[] {
    return this.#asks.top(count);
  }

  get levels(): { bids: number; asks: number } {
    return { bids: this.#bids.size, asks: this.#asks.size };
  }

  checksum(): number {
    return bookChecksum(this.#asks.top(CHECKSUM_LEVELS), this.#bids.top(CHECKSUM_LEVELS));
  }
}
