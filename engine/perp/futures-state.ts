/**
 * The futures domain's state (issue 18): per user a futures wallet per settlement asset, the
 * position mode, leverage and margin type per perpetual market, the positions (one per market in
 * one-way mode, a LONG and a SHORT leg in hedge mode) and what each open perpetual order reserves;
 * per perpetual market its index sources and mark price. Plain records: the futures ledger
 * (futures-ledger.ts) and commands (futures-commands.ts) change them, the views read them.
 *
 * Money is BigInt KRW (settlement minor units); sizes signed lots; prices ticks (README "Units").
 */
import type { MarginType, PositionSide } from '../types.ts';
import type { OrderNode } from '../matching/order.ts';
import type { PerpMarketSpec } from './perp-market.ts';
import { INDEX_SOURCE_FRESH_MS, type IndexSource } from './index-price.ts';
import { MarketFunding } from './market-funding.ts';
import { OpenPositions } from './open-positions.ts';
import { PerpOrders } from './perp-orders.ts';

export { PerpOrder } from './perp-orders.ts';

/** Engine-placed order ids start above it: 2^52, far beyond any sequencer seq, still a safe integer. */
export const LIQUIDATION_ORDER_ID_BASE = 2 ** 52;

/** Leverage of a market the user never set (the contract's default). */
export const DEFAULT_LEVERAGE = 20;

export class PerpPosition {
  sizeLots = 0;
  costKrw = 0n;
  /** Σ realized PnL of this (user, market, side) record, gross (fees and funding apart) */
  realizedPnlKrw = 0n;
  /** 0 unless the market's margin type is ISOLATED */
  isolatedMarginKrw = 0n;
  /** command counter when it last joined the command's PositionChanged list */
  dirtyMark = -1;
  /** command counter when a fill first moved it in that command, and its size just before (ReduceOnlyCut) */
  startMark = -1;
  startSizeLots = 0;
  /** size × mark × KRW per tick-lot and its initial margin at a leverage, for the inputs noted (availableBalanceOf) */
  memoSizeLots = 0;
  memoMarkTicks = -1;
  memoLeverage = 0;
  memoValueKrw = 0n;
  memoInitialMarginKrw = 0n;

  constructor(
    readonly userId: number,
    readonly market: PerpMarketSpec,
    readonly side: PositionSide,
    /** the account holding it: a funding settlement over 100,000 positions reaches each wallet without a lookup by user */
    readonly account: FuturesAccount,
  ) {}

  isEmpty(): boolean {
    return this.sizeLots === 0 && this.costKrw === 0n && this.realizedPnlKrw === 0n && this.isolatedMarginKrw === 0n;
  }
}

export interface MarketSettings {
  leverage: number;
  marginType: MarginType;
}

export class FuturesAccount {
  hedge = false;
  /** wallet balance per settlement asset (includes isolated margins) */
  readonly wallets = new Map<string, bigint>();
  /** by symbol; absent = defaults */
  readonly settings = new Map<string, MarketSettings>();
  /** by `${symbol} ${side}` (snapshot order); `legs` holds the same records for the hot lookups */
  readonly positions = new Map<string, PerpPosition>();
  /** the records of `positions`, in creation order: a few per account, found by scanning without building a key */
  readonly #legs: PerpPosition[] = [];
  /** open perpetual orders by order id */
  readonly orders = new PerpOrders();
  /**
   * command counter per asset when its wallet last joined the command's WalletChanged list: the first
   * asset marked in a slot of its own (one Map lookup less per wallet when funding touches 100,000), the rest in the map
   */
  walletMarkAsset: string | undefined = undefined;
  walletMark = -1;
  readonly walletMarks = new Map<string, number>();

  constructor(readonly userId: number) {}

  wallet(asset: string): bigint {
    return this.wallets.get(asset) ?? 0n;
  }

  settingsOf(symbol: string): MarketSettings {
    return this.settings.get(symbol) ?? { leverage: DEFAULT_LEVERAGE, marginType: 'CROSS' };
  }

  position(market: PerpMarketSpec, side: PositionSide): PerpPosition {
    let position = this.leg(market, side);
    if (position === undefined) {
      position = new PerpPosition(this.userId, market, side, this);
      this.positions.set(positionKey(market.symbol, side), position);
      this.#legs.push(position);
    }
    return position;
  }

  /** the records of `positions` in the same order, for loops that would otherwise iterate the map */
  get legs(): readonly PerpPosition[] {
    return this.#legs;
  }

  /** the record of one leg, if it exists (as findPosition, by market) */
  leg(market: PerpMarketSpec, side: PositionSide): PerpPosition | undefined {
    const legs = this.#legs;
    for (let at = 0; at < legs.length; at++) {
      const position = legs[at]!;
      if (position.market === market && position.side === side) return position;
    }
    return undefined;
  }

  findPosition(symbol: string, side: PositionSide): PerpPosition | undefined {
    const legs = this.#legs;
    for (let at = 0; at < legs.length; at++) {
      const position = legs[at]!;
      if (position.market.symbol === symbol && position.side === side) return position;
    }
    return undefined;
  }

  /** forgets a leg's record (a previewed fill that created it, undone) */
  dropPosition(position: PerpPosition): void {
    if (this.positions.get(positionKey(position.market.symbol, position.side)) !== position) return;
    this.positions.delete(positionKey(position.market.symbol, position.side));
    this.#legs.splice(this.#legs.indexOf(position), 1);
  }

  /** whether any leg in `symbol` (or any perpetual, undefined) is open or any order rests there */
  hasExposure(symbol: string | undefined): boolean {
    for (const position of this.positions.values())
      if (position.sizeLots !== 0 && (symbol === undefined || position.market.symbol === symbol)) return true;
    for (const order of this.orders.values()) if (symbol === undefined || order.market.symbol === symbol) return true;
    return false;
  }
}

export function positionKey(symbol: string, side: PositionSide): string {
  return `${symbol} ${side}`;
}

/** A perpetual market's oracle sources and the mark they give (mark = index in part 1). */
export class MarkState {
  readonly sources = new Map<string, IndexSource>();
  indexTicks: number | undefined = undefined;
  stale = true;

  constructor(readonly market: PerpMarketSpec) {}

  get markTicks(): number | undefined {
    return this.indexTicks;
  }

  /** whether some source is fresh at `nowMs` (index-price.ts): else orders that open are refused INDEX_STALE */
  freshAt(nowMs: number): boolean {
    for (const source of this.sources.values()) if (nowMs - source.updatedAtMs <= INDEX_SOURCE_FRESH_MS) return true;
    return false;
  }
}

/**
 * Everything above, for the whole engine: the futures accounts by user, the marks by perpetual
 * symbol, the perpetual specs; `lookupOrder` finds an order's book record (set by the engine).
 */
export class FuturesState {
  readonly accounts = new Map<number, FuturesAccount>();
  readonly marks = new Map<string, MarkState>();
  readonly markets = new Map<string, PerpMarketSpec>();
  /** the settlement assets of the perpetual markets, in config order */
  readonly settlementAssets: string[] = [];
  /**
   * The insurance fund per settlement asset (KRW, never below 0): it takes what rounding leaves
   * (funding dust) and what liquidations fill better than bankruptcy, and pays the losses beyond it
   * (issue 19). Counted in the conservation identity beside the wallets and the fee account.
   */
  readonly insuranceFunds = new Map<string, bigint>();
  /** per perpetual symbol: premium samples, next funding time, last rate (issue 19, price-tick.ts) */
  readonly funding = new Map<string, MarketFunding>();
  /** the open positions of each market (kept by the engine at the end of each command) */
  readonly openPositions = new OpenPositions();
  /**
   * Orders the engine itself places (liquidation and auto-deleveraging, issue 19) so far: their ids
   * are LIQUIDATION_ORDER_ID_BASE + this count, above any id the sequencer gives (its seqs).
   */
  liquidationOrderCount = 0;

  constructor(
    perpetualMarkets: readonly PerpMarketSpec[],
    readonly feeAccountId: number,
    readonly lookupOrder: (orderId: number) => OrderNode | null,
  ) {
    for (const market of perpetualMarkets) {
      this.markets.set(market.symbol, market);
      this.marks.set(market.symbol, new MarkState(market));
      if (!this.settlementAssets.includes(market.settlementAsset)) this.settlementAssets.push(market.settlementAsset);
      this.insuranceFunds.set(market.settlementAsset, 0n);
      this.funding.set(market.symbol, new MarketFunding());
    }
  }

  account(userId: number): FuturesAccount {
    let account = this.accounts.get(userId);
    if (account === undefined) {
      account = new FuturesAccount(userId);
      this.accounts.set(userId, account);
    }
    return account;
  }

  insuranceFundKrw(asset: string): bigint {
    return this.insuranceFunds.get(asset) ?? 0n;
  }

  feeAccount(): FuturesAccount {
    return this.account(this.feeAccountId);
  }
}
