/**
 * GET /v1/orders/history and GET /v1/fills: signed, the caller's own, from PostgreSQL (what the
 * persister wrote) — what Binance's allOrders and myTrades give. Both page oldest first with an
 * exclusive cursor, like GET /v1/orders. PostgreSQL down: 503 STORE_UNAVAILABLE; nothing on the
 * order path waits for it.
 */
import type { Hono } from 'hono';
import type { ApiDeps, AppEnv } from './context.ts';
import { ApiError } from './errors.ts';
import type { HistoryQuery } from '../contract/ports/history.ts';
import { fromHistory, storedFillView, storedOrderView } from './history-reads.ts';
import { intQuery } from './routes-market.ts';
import type { Views } from './views.ts';

export const DEFAULT_PAGE = 500;
export const MAX_PAGE = 1_000;
const MS = /^\d{1,15}$/;
const CURSOR = /^\d{1,16}$/;

export function timeQuery(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!MS.test(value)) throw new ApiError('INVALID_TIME_RANGE', `${name} must be ms since the epoch (an integer)`);
  return Number(value);
}

export function cursorQuery(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!CURSOR.test(value) || !Number.isSafeInteger(Number(value)))
    throw new ApiError('INVALID_QUERY', `${name} must be a non-negative integer id`);
  return Number(value);
}

export function historyRoutes(app: Hono<AppEnv>, deps: ApiDeps, views: Views): void {
  const pageQuery = (c: { req: { query(name: string): string | undefined } }, cursorName: string, userId: number): HistoryQuery => {
    const symbol = c.req.query('symbol');
    if (symbol !== undefined && !views.market(symbol)) throw new ApiError('UNKNOWN_SYMBOL', `no market '${symbol}'`);
    const start = timeQuery(c.req.query('start'), 'start');
    const end = timeQuery(c.req.query('end'), 'end');
    if (start !== undefined && end !== undefined && start > end) throw new ApiError('INVALID_TIME_RANGE', 'start must not be after end');
    const limit = intQuery(c.req.query('limit'), 'limit', DEFAULT_PAGE, MAX_PAGE);
    const after = cursorQuery(c.req.query(cursorName), cursorName);
    return {
      userId,
      limit,
      ...(symbol !== undefined ? { symbol } : {}),
      ...(start !== undefined ? { start } : {}),
      ...(end !== undefined ? { end } : {}),
      ...(after !== undefined ? { after } : {}),
    };
  };

  /** Finished orders (Filled, Cancelled, Expired, Rejected), oldest first; `next_after_order_id` continues. */
  app.get('/v1/orders/history', async (c) => {
    const query = pageQuery(c, 'after_order_id', c.get('userId'));
    // one more than asked tells whether another page follows
    const rows = await fromHistory(deps, (history) => history.finishedOrders({ ...query, limit: query.limit + 1 }));
    const page = rows.slice(0, query.limit);
    const next = rows.length > query.limit ? page[page.length - 1]!.orderId : null;
    return c.json({ orders: page.map(storedOrderView), next_after_order_id: next });
  });

  /** The caller's fills (Trade execution reports), oldest first; `next_after_seq` continues. */
  app.get('/v1/fills', async (c) => {
    const query = pageQuery(c, 'after_seq', c.get('userId'));
    const rows = await fromHistory(deps, (history) => history.fills({ ...query, limit: query.limit + 1 }));
    const page = rows.slice(0, query.limit);
    const next = rows.length > query.limit ? String(page[page.length - 1]!.seq) : null;
    return c.json({ fills: page.map(storedFillView), next_after_seq: next });
  });
}
