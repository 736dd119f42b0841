/**
 * One order book as the WebSocket builds it: a snapshot, then deltas that apply only when their
 * `prev_symbol_seq` is the seq held; after each, the CRC-32 of the top 10 asks and bids (decimal
 * strings exactly as sent) must equal the frame's `checksum`. Anything else means the client missed
 * data: the caller resubscribes for a fresh snapshot (ARCHITECTURE.md "WebSocket"). Pure: no socket.
 */
import { crc32 } from './crc32.ts';
import { compareDecimal } from './decimal.ts';

export type Level = readonly [price: string, quantity: string];

export interface BookFrame {
  readonly type: 'OrderBook';
  readonly symbol: string;
  readonly snapshot: boolean;
  readonly symbol_seq: number;
  readonly prev_symbol_seq?: number;
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
  readonly checksum: number;
}

/** ok: applied and verified; gap: a delta that does not follow the seq held; checksum: applied but the book disagrees. */
export type BookOutcome = 'ok' | 'gap' | 'checksum';

const CHECKSUM_LEVELS = 10;

export class OrderBook {
  symbolSeq = -1;
  readonly #bids = new Map<string, string>();
  readonly #asks = new Map<string, string>();

  constructor(readonly symbol: string) {}

  get synced(): boolean {
    return this.symbolSeq >= 0;
  }

  apply(frame: BookFrame): BookOutcome {
    if (frame.snapshot) {
      this.#bids.clear();
      this.#asks.clear();
    } else if (!this.synced || frame.prev_symbol_seq !== this.symbolSeq) {
      this.symbolSeq = -1;
      return 'gap';
    }
    for (const [price, quantity] of frame.bids) this.#set(this.#bids, price, quantity);
    for (const [price, quantity] of frame.asks) this.#set(this.#asks, price, quantity);
    if (this.checksum() !== frame.checksum) {
      this.symbolSeq = -1;
      return 'checksum';
    }
    this.symbolSeq = frame.symbol_seq;
    return 'ok';
  }

  /** Best first: highest bid, lowest ask. */
  levels(side: 'bids' | 'asks', count = Infinity): Level[] {
    const sorted = [...(side === 'bids' ? this.#bids : this.#asks).entries()].sort(([a], [b]) =>
      side === 'bids' ? compareDecimal(b, a) : compareDecimal(a, b),
    );
    return sorted.slice(0, count);
  }

  checksum(): number {
    const text = (levels: Level[]) => levels.map(([price, quantity]) => `${price}:${quantity}`).join('|');
    return crc32(`${text(this.levels('asks', CHECKSUM_LEVELS))}#${text(this.levels('bids', CHECKSUM_LEVELS))}`);
  }

  #set(levels: Map<string, string>, price: string, quantity: string): void {
    if (/^0+(\.0+)?$/.test(quantity)) levels.delete(price);
    else levels.set(price, quantity);
  }
}
