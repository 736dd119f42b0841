/**
 * Whether the live book has fallen behind the exchange's. A ws-server whose own feed from RabbitMQ
 * stalled keeps its connections open and its book frozen: the page would say "live" over stale
 * prices. Every check compares the live book's symbol_seq with the one REST answered at the
 * previous check — a whole interval earlier, so the feed's ordinary few milliseconds of lag never
 * count: a live book still below that is stale.
 */
export class FeedFreshness {
  #target: number | undefined;

  /** `restSeq`: GET /v1/orderbook's symbol_seq now; `liveSeq`: the live book's (−1 while it is not synced). True = stale. */
  check(restSeq: number, liveSeq: number): boolean {
    const stale = liveSeq >= 0 && this.#target !== undefined && liveSeq < this.#target;
    this.#target = restSeq;
    return stale;
  }

  /** another market, another server: start over */
  reset(): void {
    this.#target = undefined;
  }
}
