/**
 * Orders by id: an open order maps to its record, a remembered finished one to its slot in
 * RecentOrders (a number).
 *
 * Ids are the sequencer's command seq, so live ids are dense and mostly increasing. Instead of
 * one large hash map (a cache miss on every lookup once it holds ~10^5 orders), ids are split
 * into pages of 1,024 slots: the page of new orders stays hot in cache, and a page is dropped
 * once its last order leaves. Sparse ids still work; each costs at most one page.
 *
 * Forgetting a remembered order (evicted from RecentOrders) does not clear its slot — that slot
 * belongs to an order finished ~10^5 finishes ago, on a cold page, and clearing it was a cache
 * miss per finished order. `forget` only counts it out of its page; the entry stays, stale, and
 * a number entry counts only while RecentOrders still holds that id in that row (`holds`, the
 * row read a lookup of a finished order makes anyway). A page is dropped when its count reaches
 * zero, stale entries with it.
 */
import type { OrderNode } from './order.ts';

export type IndexEntry = OrderNode | number;

const PAGE_BITS = 10;
const PAGE_SIZE = 1 << PAGE_BITS;

class Page {
  readonly slots: (IndexEntry | undefined)[] = new Array<IndexEntry | undefined>(PAGE_SIZE).fill(undefined);
  count = 0;
}

/** Pages below this number (ids below 2^30) are found by array index; beyond, through the Map. */
const DIRECT_PAGES = 1 << 20;

export class OrderIndex {
  private readonly pages = new Map<number, Page>();
  /** the same pages for page numbers below DIRECT_PAGES, by index (no hashing per lookup) */
  private readonly direct: (Page | undefined)[] = [];
  private lastPageNumber = -1;
  /** whether RecentOrders row `slot` still holds `orderId` (a number entry is live only then) */
  private readonly holds: (slot: number, orderId: number) => boolean;
  private lastPage: Page | undefined = undefined;
  private total = 0;

  constructor(holds: (slot: number, orderId: number) => boolean) {
    this.holds = holds;
  }

  private page(pageNumber: number): Page | undefined {
    if (pageNumber === this.lastPageNumber) return this.lastPage;
    const page = pageNumber < DIRECT_PAGES ? this.direct[pageNumber] : this.pages.get(pageNumber);
    if (page !== undefined) {
      this.lastPageNumber = pageNumber;
      this.lastPage = page;
    }
    return page;
  }

  get(orderId: number): IndexEntry | undefined {
    // Ids are positive safe integers: split without 32-bit operators (they would truncate).
    const pageNumber = Math.floor(orderId / PAGE_SIZE);
    const entry = this.page(pageNumber)?.slots[orderId - pageNumber * PAGE_SIZE];
    if (typeof entry === 'number' && !this.holds(entry, orderId)) return undefined; // forgotten
    return entry;
  }

  set(orderId: number, entry: IndexEntry): void {
    const pageNumber = Math.floor(orderId / PAGE_SIZE);
    let page = this.page(pageNumber);
    if (page === undefined) {
      page = new Page();
      this.pages.set(pageNumber, page);
      if (pageNumber < DIRECT_PAGES) {
        // Fill the gap so the array stays a plain (non-dictionary) array.
        while (this.direct.length < pageNumber) this.direct.push(undefined);
        this.direct[pageNumber] = page;
      }
      this.lastPageNumber = pageNumber;
      this.lastPage = page;
    }
    const slot = orderId - pageNumber * PAGE_SIZE;
    const existing = page.slots[slot];
    // A forgotten entry counts as empty; `existing === entry` means its row was just reused.
    if (existing === undefined || (typeof existing === 'number' && (existing === entry || !this.holds(existing, orderId)))) {
      page.count++;
      this.total++;
    }
    page.slots[slot] = entry;
  }

  /**
   * Counts a remembered order out when RecentOrders forgets it, without touching its slot (see
   * above). Only for an id whose entry is its live RecentOrders row.
   */
  forget(orderId: number): void {
    const pageNumber = Math.floor(orderId / PAGE_SIZE);
    const page = this.page(pageNumber);
    if (page === undefined) return;
    this.total--;
    if (--page.count === 0) this.dropPage(pageNumber);
  }

  private dropPage(pageNumber: number): void {
    this.pages.delete(pageNumber);
    if (pageNumber < DIRECT_PAGES) this.direct[pageNumber] = undefined;
    if (this.lastPageNumber === pageNumber) {
      this.lastPageNumber = -1;
      this.lastPage = undefined;
    }
  }

  delete(orderId: number): void {
    const pageNumber = Math.floor(orderId / PAGE_SIZE);
    const page = this.page(pageNumber);
    if (page === undefined) return;
    const slot = orderId - pageNumber * PAGE_SIZE;
    const existing = page.slots[slot];
    if (existing === undefined) return;
    page.slots[slot] = undefined;
    if (typeof existing === 'number' && !this.holds(existing, orderId)) return; // already counted out
    this.total--;
    if (--page.count === 0) this.dropPage(pageNumber);
  }

  get size(): number {
    return this.total;
  }

  /** Live entries (forgotten ones skipped). */
  *values(): Generator<IndexEntry> {
    for (const [pageNumber, page] of this.pages) {
      const slots = page.slots;
      for (let slot = 0; slot < PAGE_SIZE; slot++) {
        const entry = slots[slot];
        if (entry === undefined) continue;
        if (typeof entry === 'number' && !this.holds(entry, pageNumber * PAGE_SIZE + slot)) continue;
        yield entry;
      }
    }
  }
}
