/**
 * The futures histories, from PostgreSQL (what the persister wrote of the futures envelopes):
 * GET /v1/futures/transfers, /funding-history, /liquidations and /position-history. Signed (app.ts
 * signs /v1/futures/*) and paged like GET /v1/fills: oldest first, `after_seq` exclusive,
 * `next_after_seq` continues (null on the last page). The caller's own rows, except liquidations:
 * a Liquidation event names no user, so that read is the market's (Binance's forceOrders-style
 * per-user list would need the liquidation order's reports: GET /v1/fills?symbol= shows them as
 * order_type "Liquidation"). PostgreSQL down: 503 STORE_UNAVAILABLE.
 */
import type { Hono } from 'hono';
import { perpetualMarkets } from '../contract/markets.ts';
import type { FuturesHistoryQuery } from '../contract/ports/futures-history.ts';
import type { ApiDeps, AppEnv } from './context.ts';
import { ApiError } from './errors.ts';
import { perpMarketOf } from './futures-input.ts';
import { fromHistory } from './history-reads.ts';
import { intQuery } from './routes-market.ts';
import { cursorQuery, DEFAULT_PAGE, MAX_PAGE, timeQuery } from './routes-history.ts';

type Query = { req: { query(name: string): string | undefined } };

/** One more row than asked tells whether another page follows. */
function paged<T extends { seq: number }>(rows: readonly T[], limit: number): { page: T[]; next: string | null } {
  const page = rows.slice(0, limit);
  return { page, next: rows.length > limit ? String(page[page.length - 1]!.seq) : null };
}

export function futuresHistoryRoutes(app: Hono<AppEnv>, deps: ApiDeps): void {
  const config = deps.engineConfig;

  const pageQuery = (c: Query, userId: number): FuturesHistoryQuery => {
    const symbol = c.req.query('symbol');
    if (symbol !== undefined) perpMarketOf(config, symbol);
    const start = timeQuery(c.req.query('start'), 'start');
    const end = timeQuery(c.req.query('end'), 'end');
    if (start !== undefined && end !== undefined && start > end) throw new ApiError('INVALID_TIME_RANGE', 'start must not be after end');
    const limit = intQuery(c.req.query('limit'), 'limit', DEFAULT_PAGE, MAX_PAGE);
    const after = cursorQuery(c.req.query('after_seq'), 'after_seq');
    return {
      userId,
      limit: limit + 1,
      ...(symbol !== undefined ? { symbol } : {}),
      ...(start !== undefined ? { start } : {}),
      ...(end !== undefined ? { end } : {}),
      ...(after !== undefined ? { after } : {}),
    };
  };

  /** Spot ↔ futures wallet moves; `asset` narrows to one settlement asset. */
  app.get('/v1/futures/transfers', async (c) => {
    const query = pageQuery(c, c.get('userId'));
    const asset = c.req.query('asset');
    if (asset !== undefined && !perpetualMarkets(config).some((market) => market.settlementAsset === asset))
      throw new ApiError('NOT_A_SETTLEMENT_ASSET', `no perpetual market settles in '${asset}'`);
    const rows = await fromHistory(deps, (history) => history.transfers({ ...query, ...(asset !== undefined ? { asset } : {}) }));
    const { page, next } = paged(rows, query.limit - 1);
    return c.json({
      transfers: page.map((row) => ({
        seq: row.seq,
        asset: row.asset,
        amount: row.amount,
        direction: row.direction,
        wallet_balance: row.walletBalance,
        timestamp: row.timestamp,
      })),
      next_after_seq: next,
    });
  });

  /** The caller's funding payments (received positive, paid negative). */
  app.get('/v1/futures/funding-history', async (c) => {
    const query = pageQuery(c, c.get('userId'));
    const rows = await fromHistory(deps, (history) => history.fundingPayments(query));
    const { page, next } = paged(rows, query.limit - 1);
    return c.json({
      funding: page.map((row) => ({
        seq: row.seq,
        symbol: row.symbol,
        position_side: row.positionSide,
        size: row.size,
        mark_price: row.markPrice,
        rate: row.rate,
        amount: row.amount,
        timestamp: row.timestamp,
      })),
      next_after_seq: next,
    });
  });

  /** The market's liquidation events, each with its stage (book, insurance, adl). */
  app.get('/v1/futures/liquidations', async (c) => {
    const { userId: _caller, ...query } = pageQuery(c, c.get('userId'));
    const rows = await fromHistory(deps, (history) => history.liquidations(query));
    const { page, next } = paged(rows, query.limit - 1);
    return c.json({
      liquidations: page.map((row) => ({
        seq: row.seq,
        symbol: row.symbol,
        side: row.side,
        price: row.price,
        quantity: row.quantity,
        stage: row.stage,
        timestamp: row.timestamp,
      })),
      next_after_seq: next,
    });
  });

  /** The caller's PositionChanged events: the position after each command that changed it. */
  app.get('/v1/futures/position-history', async (c) => {
    const query = pageQuery(c, c.get('userId'));
    const rows = await fromHistory(deps, (history) => history.positionChanges(query));
    const { page, next } = paged(rows, query.limit - 1);
    return c.json({
      positions: page.map((row) => ({
        seq: row.seq,
        symbol: row.symbol,
        position_side: row.positionSide,
        size: row.size,
        entry_price: row.entryPrice,
        realized_pnl: row.realizedPnl,
        margin_type: row.marginType,
        isolated_margin: row.isolatedMargin,
        leverage: row.leverage,
        timestamp: row.timestamp,
      })),
      next_after_seq: next,
    });
  });
}
