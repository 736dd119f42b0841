/**
 * Orders by id: open ones and the recently finished ones still answerable.
 *
 * Ids are the sequencer's command seq, so live ids are dense and mostly increasing. Instead of
 * one large hash map (a cache miss on every lookup once it holds ~10^5 orders), ids are split
 * into pages of 1,024 slots: the page of new orders stays hot in cache, and a page is dropped
 * once its last order leaves. Sparse ids still work; each costs at most one page.
 */
import type { OrderNode } from './order.ts';

const PAGE_BITS = 10;
const PAGE_SIZE = 1 << PAGE_BITS;

class Page {
  readonly slots: (OrderNode | undefined)[] = new Array<OrderNode | undefined>(PAGE_SIZE).fill(undefined);
  count = 0;
}

export class OrderIndex {
  private readonly pages = new Map<number, Page>();
  private lastPageNumber = -1;
  private lastPage: Page | undefined = undefined;
  private total = 0;

  private page(pageNumber: number): Page | undefined {
    if (pageNumber === this.lastPageNumber) return this.lastPage;
    const page = this.pages.get(pageNumber);
    if (page !== undefined) {
      this.lastPageNumber = pageNumber;
      this.lastPage = page;
    }
    return page;
  }

  get(orderId: number): OrderNode | undefined {
    // Ids are positive safe integers: split without 32-bit operators (they would truncate).
    const pageNumber = Math.floor(orderId / PAGE_SIZE);
    return this.page(pageNumber)?.slots[orderId - pageNumber * PAGE_SIZE];
  }

  set(orderId: number, order: OrderNode): void {
    const pageNumber = Math.floor(orderId / PAGE_SIZE);
    let page = this.page(pageNumber);
    if (page === undefined) {
      page = new Page();
      this.pages.set(pageNumber, page);
      this.lastPageNumber = pageNumber;
      this.lastPage = page;
    }
    const slot = orderId - pageNumber * PAGE_SIZE;
    if (page.slots[slot] === undefined) {
      page.count++;
      this.total++;
    }
    page.slots[slot] = order;
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
      if (this.lastPageNumber === pageNumber) {
        this.lastPageNumber = -1;
        this.lastPage = undefined;
      }
    }
  }

  get size(): number {
    return this.total;
  }

  *values(): Generator<OrderNode> {
    for (const page of this.pages.values()) for (const order of page.slots) if (order !== undefined) yield order;
  }
}
