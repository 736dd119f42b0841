/** OpenAPI paths of the public routes: market data (book, trades, candles, ticker, markets) and the service's own (health, ready, metrics, this document). */
import { err, json, type PathContext } from './openapi-shared.ts';

export function publicPaths({ symbolParam }: PathContext): Record<string, unknown> {
  return {
    '/v1/orderbook/{symbol}': {
      get: {
        summary: 'Aggregated book: {symbol, symbol_seq, bids: [[price, qty]…], asks}',
        parameters: [symbolParam, { name: 'depth', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 20 } }],
        responses: {
          '200': { description: 'book levels, best first', ...json({ $ref: '#/components/schemas/Book' }) },
          '400': err('unknown symbol or bad depth'),
          '503': err('not ready'),
        },
      },
    },
    '/v1/trades/{symbol}': {
      get: {
        summary:
          'Recent trades, newest first: from memory (the last 1,000 per symbol), topped up from PostgreSQL when memory holds fewer than `limit` (after a restart it holds only what was replayed since the latest snapshot)',
        parameters: [symbolParam, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } }],
        responses: {
          '200': { description: 'trades', ...json({ $ref: '#/components/schemas/Trades' }) },
          '400': err('unknown symbol or bad limit'),
          '503': err('STORE_UNAVAILABLE: memory holds fewer than `limit` trades and PostgreSQL is unavailable'),
        },
      },
    },
    '/v1/candles/{symbol}': {
      get: {
        summary: 'OHLCV candles (public), oldest first, for charting clients (Binance klines conventions)',
        description: [
          'Built by the market-data service from the Kafka `market-data` trade feed: 1-minute candles in PostgreSQL; 5m … 1d are grouped from them in UTC-aligned buckets.',
          '',
          '- **Empty intervals are omitted**: an interval without trades has no candle (no flat bar is invented). A chart that wants continuous bars carries the previous close forward itself.',
          '- **The candle being built** is included with `closed: false`.',
          '- **Window**: with `start`, the candle containing `start` and the ones after it, up to `limit`, none opening after `end`; without `start`, the latest `limit` candles opening at or before `end` (default: now).',
          '- Decimals are strings (`Number(candle.open)` for a chart library); `open_time` is ms (lightweight-charts wants seconds: `open_time / 1000`).',
          "- Candles lag the trades by the service's consumer lag (its /metrics: `xtrader_market_data_lag_messages`, `xtrader_market_data_lag_seconds`); while Kafka is down they stop advancing and catch up after.",
        ].join('\n'),
        parameters: [
          symbolParam,
          { name: 'interval', in: 'query', required: true, schema: { type: 'string', enum: ['1m', '5m', '15m', '1h', '4h', '1d'] } },
          { name: 'start', in: 'query', schema: { type: 'integer', minimum: 0 }, description: 'ms since the epoch' },
          { name: 'end', in: 'query', schema: { type: 'integer', minimum: 0 }, description: 'ms since the epoch, not before start' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 500 } },
        ],
        responses: {
          '200': { description: 'candles', ...json({ $ref: '#/components/schemas/Candles' }) },
          '400': err(
            'UNKNOWN_SYMBOL, INVALID_INTERVAL (missing or not one of the six), INVALID_TIME_RANGE (start/end not integer ms, or start after end), INVALID_QUERY (limit not 1–1000)',
          ),
          '503': err('STORE_UNAVAILABLE: PostgreSQL is unavailable'),
        },
      },
    },
    '/v1/ticker/{symbol}': {
      get: {
        summary: 'Last price, 24 h open/high/low/volume, best bid/ask',
        parameters: [symbolParam],
        responses: {
          '200': { description: 'ticker', ...json({ $ref: '#/components/schemas/Ticker' }) },
          '400': err('unknown symbol'),
          '503': err('not ready'),
        },
      },
    },
    '/v1/markets': {
      get: {
        summary:
          'Markets with tick, lot, limits and fees; perpetuals (type "perpetual") also with settlement asset, funding interval and risk tiers',
        responses: { '200': { description: 'markets', ...json({ $ref: '#/components/schemas/Markets' }) } },
      },
    },
    '/health': {
      get: {
        summary: 'Process alive; status "ok" or "degraded" with each service state',
        responses: { '200': { description: 'alive', ...json({ $ref: '#/components/schemas/Health' }) } },
      },
    },
    '/ready': {
      get: {
        summary: '200 only when orders can be accepted (recovery done); lists service and publisher states',
        responses: {
          '200': { description: 'ready', ...json({ $ref: '#/components/schemas/Ready' }) },
          '503': { description: 'recovering', ...json({ $ref: '#/components/schemas/Ready' }) },
        },
      },
    },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
    '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    '/docs': { get: { summary: 'HTML page rendering this document', responses: { '200': { description: 'text/html' } } } },
  };
}
