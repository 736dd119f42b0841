/** OpenAPI of GET /v1/futures/premium-index/{symbol} (api/routes-premium-index.ts): public, no signature. */
import { err } from './openapi-shared.ts';
import { RATE_PATTERN } from '../contract/decimal-text.ts';

const price = (description: string) => ({ type: ['string', 'null'], pattern: '^\\d+(\\.\\d+)?$', description });
const rate = (description: string) => ({ type: ['string', 'null'], pattern: RATE_PATTERN, description: `${description}; eight decimals` });

export function premiumIndexPaths(perpSymbols: readonly string[]): Record<string, unknown> {
  const schema = {
    type: 'object',
    additionalProperties: false,
    required: [
      'symbol',
      'mark_price',
      'index_price',
      'index_stale',
      'sources',
      'last_funding_rate',
      'estimated_funding_rate',
      'next_funding_time',
      'interest_rate',
    ],
    properties: {
      symbol: { type: 'string', enum: [...perpSymbols] },
      mark_price: price('mark price = index price; null before any source'),
      index_price: price('median of the sources updated within 60 s; kept (and stale) when none is'),
      index_stale: {
        type: 'boolean',
        description: 'no source fresh at the last price tick: orders that open or grow a position are refused',
      },
      sources: {
        type: 'array',
        items: {
          type: 'object',
          required: ['source', 'price', 'timestamp'],
          properties: {
            source: { type: 'string', description: '"spot" is the built-in source (the same-named spot market, read at each price tick)' },
            price: { type: 'string' },
            timestamp: { type: 'integer', description: 'ms of its last update' },
          },
        },
      },
      last_funding_rate: rate('F of the last funding settlement; null before the first'),
      estimated_funding_rate: rate("F from the interval's premium samples so far"),
      next_funding_time: { type: ['integer', 'null'], description: 'ms; null before the first price tick' },
      interest_rate: rate('I per funding interval (0.01 %)'),
    },
  };
  return {
    '/v1/futures/premium-index/{symbol}': {
      get: {
        summary:
          "A perpetual's mark and index price, its index sources and its funding figures (public, no signature). Re-taken at each price tick (one a second).",
        parameters: [{ name: 'symbol', in: 'path', required: true, schema: { type: 'string', enum: [...perpSymbols] } }],
        responses: {
          '200': {
            description: 'the premium index',
            content: {
              'application/json': {
                schema,
                examples: {
                  'between two funding times': {
                    value: {
                      symbol: 'BTC-KRW-PERP',
                      mark_price: '50000000',
                      index_price: '50000000',
                      index_stale: false,
                      sources: [
                        { source: 'oracle-a', price: '50010000', timestamp: 1765152000000 },
                        { source: 'spot', price: '49990000', timestamp: 1765152001000 },
                      ],
                      last_funding_rate: '0.00010000',
                      estimated_funding_rate: '0.00012500',
                      next_funding_time: 1765180800000,
                      interest_rate: '0.00010000',
                    },
                  },
                },
              },
            },
          },
          '400': err('UNKNOWN_SYMBOL, NOT_A_PERPETUAL'),
          '503': err('not ready'),
        },
      },
    },
  };
}
