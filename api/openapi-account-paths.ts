/** OpenAPI paths of the signed account reads: order history and fills (PostgreSQL), balances (the engine). */
import { err, json, signedSecurity, type PathContext } from './openapi-shared.ts';

export function accountPaths({ symbols, common }: PathContext): Record<string, unknown> {
  return {
    '/v1/orders/history': {
      get: {
        summary:
          'Your finished orders (Filled, Cancelled, Expired, Rejected) from PostgreSQL, oldest first (ascending order_id), in pages of at most `limit` (default 500, maximum 1,000); `next_after_order_id` (null on the last page) is the `after_order_id` of the next page. `start`/`end` (ms, inclusive) select by created_at. Orders appear once the persister has written their final execution report (normally within a second). Orders read from PostgreSQL carry `time_in_force`, `post_only`, `stop_price` and `quote_amount` as null (execution reports do not carry them).',
        security: signedSecurity,
        parameters: [
          { name: 'symbol', in: 'query', required: false, schema: { type: 'string', enum: symbols } },
          {
            name: 'start',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 0 },
            description: 'ms since the epoch, inclusive',
          },
          {
            name: 'end',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 0 },
            description: 'ms since the epoch, inclusive; not before start',
          },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 500 } },
          { name: 'after_order_id', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{1,16}$' } },
        ],
        responses: {
          '200': {
            description: 'finished orders',
            ...json({
              type: 'object',
              properties: {
                orders: { type: 'array', items: { $ref: '#/components/schemas/Order' } },
                next_after_order_id: { type: ['string', 'null'] },
              },
            }),
          },
          ...common,
          '400': err('UNKNOWN_SYMBOL, INVALID_TIME_RANGE (start/end not ms, or start after end), INVALID_QUERY (limit, after_order_id)'),
          '503': err('STORE_UNAVAILABLE: PostgreSQL is unavailable (placing and cancelling orders are not affected)'),
        },
      },
    },
    '/v1/fills': {
      get: {
        summary:
          'Your fills (your Trade execution reports) from PostgreSQL, oldest first (ascending seq), in pages of at most `limit` (default 500, maximum 1,000); `next_after_seq` (null on the last page) is the `after_seq` of the next page. `start`/`end` (ms, inclusive) select by the fill time.',
        security: signedSecurity,
        parameters: [
          { name: 'symbol', in: 'query', required: false, schema: { type: 'string', enum: symbols } },
          { name: 'start', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } },
          { name: 'end', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 500 } },
          { name: 'after_seq', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{1,16}$' } },
        ],
        responses: {
          '200': {
            description: 'fills',
            ...json({
              type: 'object',
              properties: {
                fills: { type: 'array', items: { $ref: '#/components/schemas/Fill' } },
                next_after_seq: { type: ['string', 'null'] },
              },
            }),
          },
          ...common,
          '400': err('UNKNOWN_SYMBOL, INVALID_TIME_RANGE, INVALID_QUERY'),
          '503': err('STORE_UNAVAILABLE: PostgreSQL is unavailable'),
        },
      },
    },
    '/v1/balances': {
      get: {
        summary: 'Your balances (available, locked, total)',
        security: signedSecurity,
        responses: { '200': { description: 'balances', ...json({ $ref: '#/components/schemas/Balances' }) }, ...common },
      },
    },
  };
}
