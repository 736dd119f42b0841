/**
 * The futures half of the API's PostgreSQL reads (part of the HistoryPort of history.ts; the
 * persister writes the rows from the futures envelopes, db/futures-history-reads.ts reads them).
 * Values are wire-ready: decimals canonical strings in the API's units (signed where the contract
 * signs them), funding rates with their 8 decimals ("0.00010000"), times in ms. Each page is oldest
 * first (ascending seq), strictly after the `after` cursor.
 */

/** A page of the user's rows (the shape of history.ts HistoryQuery, plus the settlement asset of a transfer). */
export interface FuturesHistoryQuery {
  readonly userId: number;
  readonly symbol?: string;
  readonly asset?: string;
  /** ms, inclusive, on the event's timestamp */
  readonly start?: number;
  readonly end?: number;
  /** rows with seq strictly after this */
  readonly after?: number;
  readonly limit: number;
}

/** A move between the spot balance and the futures wallet (POST /v1/futures/transfer). */
export interface StoredTransfer {
  readonly seq: number;
  readonly asset: string;
  /** positive */
  readonly amount: string;
  readonly direction: 'spot_to_futures' | 'futures_to_spot';
  /** the futures wallet after it */
  readonly walletBalance: string;
  readonly timestamp: number;
}

/** One FundingPaid: a position's payment at a funding time, negative when paid. */
export interface StoredFundingPayment {
  readonly seq: number;
  readonly symbol: string;
  readonly positionSide: string;
  readonly size: string;
  readonly markPrice: string;
  readonly rate: string;
  readonly amount: string;
  readonly timestamp: number;
}

/** One Liquidation event (public: no user). */
export interface StoredLiquidation {
  readonly seq: number;
  readonly symbol: string;
  readonly side: string;
  readonly price: string;
  readonly quantity: string;
  readonly stage: string;
  readonly timestamp: number;
}

/** One PositionChanged of the user's. */
export interface StoredPositionChange {
  readonly seq: number;
  readonly symbol: string;
  readonly positionSide: string;
  readonly size: string;
  readonly entryPrice: string | null;
  readonly realizedPnl: string;
  readonly marginType: string;
  readonly isolatedMargin: string;
  readonly leverage: number;
  readonly timestamp: number;
}

/** A page of public rows: `userId` is not a filter. */
export type PublicHistoryQuery = Omit<FuturesHistoryQuery, 'userId' | 'asset'>;

export interface FuturesHistoryReads {
  /** the user's transfers, one settlement asset or all */
  transfers(query: FuturesHistoryQuery): Promise<StoredTransfer[]>;
  fundingPayments(query: FuturesHistoryQuery): Promise<StoredFundingPayment[]>;
  liquidations(query: PublicHistoryQuery): Promise<StoredLiquidation[]>;
  positionChanges(query: FuturesHistoryQuery): Promise<StoredPositionChange[]>;
}
