/**
 * Orders by id: an open order maps to its record, a remembered finished one to its slot in
 * RecentOrders (a number).
 *
 * Ids are the sequencer's command seq, so live ids are dense and mostly increasing. Instead of
 * one large hash map (a cache miss on every lookup once it holds ~10^5 orders), ids are split
 * into pages of 1,024 slots: the page of new orders stays hot in cache, and a page is dropped
 * once its last order leaves. Sparse ids still work; each costs at most one page.
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
  private lastPage: Page | undefined = undefined;
  private total = 0;

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
    return this.page(pageNumber)?.slots[orderId - pageNumber * PAGE_SIZE];
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
    if (page.slots[slot] === undefined) {
      page.count++;
      this.total++;
    }
    page.slots[slot] = entry;
  }

  delete(orderId: number): void {
    const pageNumber = Math.floor(orderId / PAGE_SIZE);
    const page = this.page(pageNumber);
    if (page === undefined) return;
    const slot = orderId - pageNumber * PAGE_SIZE;
    if (page.slots[slot] === undefined) return;
    page.slots[slot] = undefined;
    this.total--;
    if (--page.count === 0) {
      this.pages.delete(pageNumber);
      if (pageNumber < DIRECT_PAGES) this.direct[pageNumber] = undefined;
      if (this.lastPageNumber === pageNumber) {
        this.lastPageNumber = -1;
        this.lastPage = undefined;
      }
    }
  }

  get size(): number {
    return this.total;
  }

  *values(): Generator<IndexEntry> {
    for (const page of this.pages.values()) for (const entry of page.slots) if (entry !== undefined) yield entry;
  }
}
