/**
 * The futures part of the engine snapshot (../snapshot.ts, version 7 on): accounts (position
 * mode, wallets, settings, positions), the open perpetual orders' reserves and the marks with
 * their sources — plain JSON, BigInt money as decimal strings, everything sorted (users by id,
 * orders by id, markets, sides and sources by name) so equal states give equal snapshots.
 */
import type { PositionSide } from '../types.ts';
import { PerpOrder, type FuturesState, type MarketSettings } from './futures-state.ts';

type Row = (string | number | null)[];

export interface FuturesRecord {
  /** [userId, hedge 0/1, [asset, wallet]…, settings [symbol, leverage, marginType]…, positions [symbol, side, size, cost, realized, isolated]…] */
  accounts: [number, number, [string, string][], Row[], Row[]][];
  /** [orderId, userId, symbol, leg, reduceOnly 0/1, reservePriceTicks, reserveKrw] */
  orders: Row[];
  /** [symbol, indexTicks | null, stale 0/1, [source, priceTicks, updatedAtMs]…] */
  marks: [string, number | null, number, Row[]][];
  /** [asset, insurance fund balance]… for the non-zero funds (absent in snapshots before it existed: all 0) */
  insurance?: [string, string][];
  /**
   * issue 19, per market once a price tick reached it: [symbol, sample sum 1e8, sample count, next
   * funding time, last rate 1e8 | null, last MarkPrice [mark, index, estimated rate 1e8, next funding time] | null]
   * (absent in snapshots before it existed: no tick yet)
   */
  funding?: FundingRow[];
  /** engine-placed (liquidation, ADL) orders so far (absent while 0) */
  liquidationOrders?: number;
}

type FundingRow = [string, string, number, number, string | null, [number, number, string, number] | null];

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function snapshotFutures(state: FuturesState): FuturesRecord {
  const accounts: FuturesRecord['accounts'] = [];
  const orders: Row[] = [];
  for (const userId of [...state.accounts.keys()].sort((a, b) => a - b)) {
    const account = state.accounts.get(userId)!;
    const wallets = [...account.wallets]
      .filter(([, value]) => value !== 0n)
      .sort((a, b) => byText(a[0], b[0]))
      .map(([asset, value]): [string, string] => [asset, value.toString()]);
    const settings = [...account.settings]
      .sort((a, b) => byText(a[0], b[0]))
      .map(([symbol, value]): Row => [symbol, value.leverage, value.marginType]);
    const positions = [...account.positions.entries()]
      .filter(([, position]) => !position.isEmpty())
      .sort((a, b) => byText(a[0], b[0]))
      .map(([, p]): Row => [
        p.market.symbol,
        p.side,
        p.sizeLots,
        p.costKrw.toString(),
        p.realizedPnlKrw.toString(),
        p.isolatedMarginKrw.toString(),
      ]);
    for (const order of account.orders.values()) {
      orders.push([
        order.orderId,
        userId,
        order.market.symbol,
        order.leg,
        order.reduceOnly ? 1 : 0,
        order.reservePriceTicks,
        order.reserveKrw.toString(),
      ]);
    }
    if (!account.hedge && wallets.length === 0 && settings.length === 0 && positions.length === 0) continue;
    accounts.push([userId, account.hedge ? 1 : 0, wallets, settings, positions]);
  }
  orders.sort((a, b) => (a[0] as number) - (b[0] as number));
  const marks: FuturesRecord['marks'] = [];
  for (const symbol of [...state.marks.keys()].sort(byText)) {
    const mark = state.marks.get(symbol)!;
    const sources = [...mark.sources.values()]
      .sort((a, b) => byText(a.source, b.source))
      .map((s): Row => [s.source, s.priceTicks, s.updatedAtMs]);
    if (mark.indexTicks === undefined && sources.length === 0) continue;
    marks.push([symbol, mark.indexTicks ?? null, mark.stale ? 1 : 0, sources]);
  }
  const insurance = [...state.insuranceFunds]
    .filter(([, balance]) => balance !== 0n)
    .sort((a, b) => byText(a[0], b[0]))
    .map(([asset, balance]): [string, string] => [asset, balance.toString()]);
  const record: FuturesRecord = insurance.length > 0 ? { accounts, orders, marks, insurance } : { accounts, orders, marks };
  if (state.liquidationOrderCount > 0) record.liquidationOrders = state.liquidationOrderCount;
  const funding = snapshotFunding(state);
  if (funding.length > 0) record.funding = funding;
  return record;
}

function snapshotFunding(state: FuturesState): FundingRow[] {
  const rows: FundingRow[] = [];
  for (const symbol of [...state.funding.keys()].sort(byText)) {
    const funding = state.funding.get(symbol)!;
    if (funding.nextFundingTimeMs === undefined) continue;
    const published = funding.published;
    rows.push([
      symbol,
      funding.sampleSum1e8.toString(),
      funding.sampleCount,
      funding.nextFundingTimeMs,
      funding.lastFundingRate1e8?.toString() ?? null,
      published === undefined
        ? null
        : [published.markTicks, published.indexTicks, published.estimatedFundingRate1e8.toString(), published.nextFundingTimeMs],
    ]);
  }
  return rows;
}

function restoreFunding(state: FuturesState, rows: readonly FundingRow[]): void {
  for (const [symbol, sum, count, next, lastRate, published] of rows) {
    const funding = state.funding.get(symbol);
    if (funding === undefined) throw new Error(`snapshot has unknown perpetual market ${symbol}`);
    funding.sampleSum1e8 = BigInt(sum);
    funding.sampleCount = count;
    funding.nextFundingTimeMs = next;
    funding.lastFundingRate1e8 = lastRate === null ? undefined : BigInt(lastRate);
    funding.published =
      published === null
        ? undefined
        : {
            markTicks: published[0],
            indexTicks: published[1],
            estimatedFundingRate1e8: BigInt(published[2]),
            nextFundingTimeMs: published[3],
          };
  }
}

/** Fills a fresh futures state (same config) from its record; orders find their book records lazily. */
export function restoreFutures(state: FuturesState, record: FuturesRecord | undefined): void {
  if (record === undefined) return;
  const marketOf = (symbol: string) => {
    const market = state.markets.get(symbol);
    if (market === undefined) throw new Error(`snapshot has unknown perpetual market ${symbol}`);
    return market;
  };
  for (const [userId, hedge, wallets, settings, positions] of record.accounts) {
    const account = state.account(userId);
    account.hedge = hedge === 1;
    for (const [asset, value] of wallets) account.wallets.set(asset, BigInt(value));
    for (const [symbol, leverage, marginType] of settings)
      account.settings.set(symbol as string, { leverage, marginType } as MarketSettings);
    for (const [symbol, side, size, cost, realized, isolated] of positions) {
      const position = account.position(marketOf(symbol as string), side as PositionSide);
      position.sizeLots = size as number;
      position.costKrw = BigInt(cost as string);
      position.realizedPnlKrw = BigInt(realized as string);
      position.isolatedMarginKrw = BigInt(isolated as string);
      state.openPositions.update([position]);
    }
  }
  for (const [orderId, userId, symbol, leg, reduceOnly, reservePriceTicks, reserve] of record.orders) {
    const order = new PerpOrder(
      orderId as number,
      marketOf(symbol as string),
      leg as PositionSide,
      reduceOnly === 1,
      reservePriceTicks as number,
      BigInt(reserve as string),
    );
    state.account(userId as number).orders.set(orderId as number, order);
  }
  restoreFunding(state, record.funding ?? []);
  state.liquidationOrderCount = record.liquidationOrders ?? 0;
  for (const [asset, balance] of record.insurance ?? []) {
    if (!state.insuranceFunds.has(asset)) throw new Error(`snapshot has an insurance fund for ${asset}, not a settlement asset`);
    state.insuranceFunds.set(asset, BigInt(balance));
  }
  for (const [symbol, indexTicks, stale, sources] of record.marks) {
    const mark = state.marks.get(symbol);
    if (mark === undefined) throw new Error(`snapshot has unknown perpetual market ${symbol}`);
    mark.indexTicks = indexTicks ?? undefined;
    mark.stale = stale === 1;
    for (const [source, priceTicks, updatedAtMs] of sources)
      mark.sources.set(source as string, {
        source: source as string,
        priceTicks: priceTicks as number,
        updatedAtMs: updatedAtMs as number,
      });
  }
}
