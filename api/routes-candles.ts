/**
 * GET /v1/candles/{symbol}: public OHLCV candles for charts, Binance klines' conventions —
 * intervals aligned to UTC, oldest first, at most `limit`, intervals without trades omitted (no
 * flat bars invented; a chart library draws the gap or joins the bars). The last candle may still
 * be building: `closed: false` until its interval has ended by the server clock.
 */
import type { Hono } from 'hono';
import type { CandlePort } from '../contract/ports/candles.ts';
import type { ApiDeps, AppEnv } from './context.ts';
import { ApiError } from './errors.ts';
import { intQuery } from './routes-market.ts';
import type { Views } from './views.ts';

export const CANDLE_INTERVALS: Readonly<Record<string, number>> = {
  '1m': 60_000,
  '5m': 5 * 60_000,
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '4h': 4 * 3_600_000,
  '1d': 86_400_000,
};

export const CANDLE_LIMIT = { default: 500, max: 1_000 } as const;

const MS = /^\d{1,15}$/;

function timeQuery(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!MS.test(value)) throw new ApiError('INVALID_TIME_RANGE', `${name} must be ms since the epoch (a non-negative integer)`);
  return Number(value);
}

export function candleRoutes(app: Hono<AppEnv>, deps: ApiDeps, views: Views): void {
  const now = deps.now ?? Date.now;

  app.get('/v1/candles/:symbol', async (c) => {
    const symbol = c.req.param('symbol');
    if (!views.market(symbol)) throw new ApiError('UNKNOWN_SYMBOL', `no market '${symbol}'`);
    const interval = c.req.query('interval');
    const intervalMs = interval === undefined ? undefined : CANDLE_INTERVALS[interval];
    if (intervalMs === undefined || !Object.hasOwn(CANDLE_INTERVALS, interval!)) {
      throw new ApiError('INVALID_INTERVAL', `interval must be one of ${Object.keys(CANDLE_INTERVALS).join(', ')}`);
    }
    const start = timeQuery(c.req.query('start'), 'start');
    const end = timeQuery(c.req.query('end'), 'end');
    if (start !== undefined && end !== undefined && start > end) throw new ApiError('INVALID_TIME_RANGE', 'start must not be after end');
    const limit = intQuery(c.req.query('limit'), 'limit', CANDLE_LIMIT.default, CANDLE_LIMIT.max);
    const candles = await fromCandles(deps, (store) =>
      store.candles({ symbol, intervalMs, limit, ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) }),
    );
    const clock = now();
    return c.json({
      symbol,
      interval,
      candles: candles.map((candle) => ({
        open_time: candle.openTime,
        close_time: candle.openTime + intervalMs - 1,
        open: candle.open,
        high: candle.high,
        low: candle.low,
        close: candle.close,
        volume: candle.volume,
        quote_volume: candle.quoteVolume,
        trades: candle.trades,
        first_trade_id: candle.firstTradeId,
        last_trade_id: candle.lastTradeId,
        closed: candle.openTime + intervalMs <= clock,
      })),
    });
  });
}

async function fromCandles<T>(deps: ApiDeps, read: (store: CandlePort) => Promise<T>): Promise<T> {
  if (!deps.candles) throw new ApiError('STORE_UNAVAILABLE', 'candles are not configured on this server');
  try {
    return await read(deps.candles);
  } catch (error) {
    deps.logger?.warn({ err: error }, 'candle read failed: answered 503 STORE_UNAVAILABLE');
    throw new ApiError('STORE_UNAVAILABLE', 'the candle store (PostgreSQL) is unavailable; retry shortly');
  }
}
