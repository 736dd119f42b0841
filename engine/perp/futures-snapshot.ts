/**
 * The futures part of the engine snapshot (../snapshot.ts, version 7 on): accounts (position
 * mode, wallets, settings, positions), the open perpetual orders' reserves and the marks with
 * their sources — plain JSON, BigInt money as decimal strings, everything sorted (users by id,
 * orders by id, markets, sides and sources by name) so equal states give equal snapshots.
 */
import type { PositionSide } from '../types.ts';
import type { FuturesState, MarketSettings } from './futures-state.ts';

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
  /** engine-placed (liquidation, ADL) orders so far (absent while 0) */
  liquidationOrders?: number;
}

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
  return record;
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
    }
  }
  for (const [orderId, userId, symbol, leg, reduceOnly, reservePriceTicks, reserve] of record.orders) {
    state.account(userId as number).orders.set(orderId as number, {
      orderId: orderId as number,
      node: null,
      market: marketOf(symbol as string),
      leg: leg as PositionSide,
      reduceOnly: reduceOnly === 1,
      reservePriceTicks: reservePriceTicks as number,
      reserveKrw: BigInt(reserve as string),
    });
  }
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
