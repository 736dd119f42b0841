/**
 * One account per user: its spot balances per asset, available and locked, in minor units (moved
 * only by the spot ledger, spot/spot-ledger.ts), and what matching keeps per user — the open-order
 * list, the open-order count per market, the client order ids taken. Assets are addressed by index
 * (their position in the config) on the hot path.
 *
 * Bound: each asset's supply (deposits − withdrawals) is kept ≤ 2^53 − 1 by refusing deposits
 * beyond it; every balance is a part of that supply, so all sums here are exact integers.
 */
import type { OrderNode } from './matching/order.ts';
import type { AssetSpec } from './types.ts';

export class Account {
  /** [available₀, locked₀, available₁, locked₁, …] by asset index */
  readonly balances: number[];
  /** engine command counter when each asset last joined the command's balance-change list */
  readonly dirtyMarks: number[];
  /**
   * The user's open orders (resting or untriggered), unordered, with holes: removal clears the
   * order's slot (OrderNode.openSlot) and keeps it for the next order, so it touches no other
   * order record (a swap-remove wrote the moved order's slot — a likely cache miss per fill).
   */
  readonly open: (OrderNode | null)[] = [];
  /** cleared slots of `open`, reused first */
  private readonly freeSlots: number[] = [];
  /**
   * client order id → order id, for this user's open orders and the finished ones the engine
   * still remembers (RecentOrders); created with the user's first client order id
   */
  clientOrderIds: Map<string, number> | null = null;
  /** open orders per market (Book.index), for the engine's maxOpenOrdersPerUserMarket */
  readonly openByMarket: number[];

  constructor(
    readonly userId: number,
    assetCount: number,
    marketCount: number,
  ) {
    this.balances = new Array<number>(assetCount * 2).fill(0);
    this.dirtyMarks = new Array<number>(assetCount).fill(-1);
    this.openByMarket = new Array<number>(marketCount).fill(0);
  }

  get openCount(): number {
    return this.open.length - this.freeSlots.length;
  }

  addOpen(order: OrderNode, marketIndex: number): void {
    this.openByMarket[marketIndex]!++;
    const slot = this.freeSlots.pop();
    if (slot === undefined) {
      order.openSlot = this.open.length;
      this.open.push(order);
    } else {
      order.openSlot = slot;
      this.open[slot] = order;
    }
  }

  removeOpen(order: OrderNode, marketIndex: number): void {
    this.openByMarket[marketIndex]!--;
    const slot = order.openSlot;
    const open = this.open;
    if (slot === open.length - 1) open.pop();
    else {
      open[slot] = null;
      this.freeSlots.push(slot);
    }
    order.openSlot = -1;
    // Nothing left open: drop the holes so the array does not keep its peak size.
    if (this.freeSlots.length === open.length) {
      open.length = 0;
      this.freeSlots.length = 0;
    }
  }

  isEmpty(): boolean {
    if (this.openCount > 0) return false;
    for (const value of this.balances) if (value !== 0) return false;
    return true;
  }
}

/** Users with ids below this are also found by array index (no hashing on the hot path). */
const DIRECT_IDS = 1 << 16;

export class Ledger {
  /** every account by user id (the canonical set: snapshots, queries) */
  readonly accounts = new Map<number, Account>();
  /** the same accounts for user ids below DIRECT_IDS, by index */
  private readonly direct: (Account | undefined)[] = [];
  /** deposits − withdrawals per asset index */
  readonly supply: number[];
  readonly assetIndex = new Map<string, number>();

  constructor(
    readonly assets: readonly AssetSpec[],
    private readonly marketCount: number,
  ) {
    this.supply = new Array<number>(assets.length).fill(0);
    assets.forEach((asset, index) => this.assetIndex.set(asset.code, index));
  }

  account(userId: number): Account {
    if (userId < DIRECT_IDS) {
      const account = this.direct[userId];
      if (account !== undefined) return account;
    }
    let account = this.accounts.get(userId);
    if (account === undefined) {
      account = new Account(userId, this.assets.length, this.marketCount);
      this.accounts.set(userId, account);
      if (userId < DIRECT_IDS) {
        // Fill the gap so the array stays a plain (non-dictionary) array.
        while (this.direct.length < userId) this.direct.push(undefined);
        this.direct[userId] = account;
      }
    }
    return account;
  }

  /** The account of a user, undefined when the user has none yet. */
  find(userId: number): Account | undefined {
    if (userId < DIRECT_IDS) return this.direct[userId];
    return this.accounts.get(userId);
  }
}
