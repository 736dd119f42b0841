/**
 * OpenAPI paths of the futures histories (api/routes-futures-history.ts): transfers, funding
 * payments, liquidations and position changes, read from PostgreSQL and paged like GET /v1/fills.
 */
import { err, signedSecurity, type PathContext } from './openapi-shared.ts';

const signedDecimal = { type: 'string', pattern: '^-?\\d+(\\.\\d+)?$', description: 'signed decimal as a string' };
const unsignedDecimal = { type: 'string', pattern: '^\\d+(\\.\\d+)?$' };
const seq = { type: 'integer', description: 'the event’s global seq (the page cursor)' };
const timestamp = { type: 'integer', description: 'ms since the epoch' };
const positionSide = { type: 'string', enum: ['BOTH', 'LONG', 'SHORT'] };

function page(
  summary: string,
  key: string,
  item: Record<string, unknown>,
  example: Record<string, unknown>,
  options: { symbols?: readonly string[]; asset?: boolean; errors: string },
  common: Record<string, unknown>,
): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [];
  if (options.symbols)
    parameters.push({ name: 'symbol', in: 'query', required: false, schema: { type: 'string', enum: [...options.symbols] } });
  if (options.asset)
    parameters.push({ name: 'asset', in: 'query', required: false, schema: { type: 'string' }, description: 'a settlement asset' });
  parameters.push(
    { name: 'start', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: 'ms since the epoch, inclusive' },
    { name: 'end', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: 'ms since the epoch, inclusive' },
    { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 500 } },
    { name: 'after_seq', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{1,16}$' } },
  );
  const schema = {
    type: 'object',
    required: [key, 'next_after_seq'],
    properties: {
      [key]: { type: 'array', items: { type: 'object', required: Object.keys(item), properties: item } },
      next_after_seq: { type: ['string', 'null'] },
    },
  };
  return {
    get: {
      summary: `${summary} From PostgreSQL (what the persister wrote, normally within a second), oldest first (ascending seq), in pages of at most \`limit\`; \`next_after_seq\` (null on the last page) is the \`after_seq\` of the next page.`,
      security: signedSecurity,
      parameters,
      responses: {
        '200': {
          description: key,
          content: { 'application/json': { schema, examples: { page: { value: { [key]: [example], next_after_seq: null } } } } },
        },
        ...common,
        '400': err(`${options.errors}, INVALID_TIME_RANGE, INVALID_QUERY`),
        '503': err('STORE_UNAVAILABLE: PostgreSQL is unavailable'),
      },
    },
  };
}

export function futuresHistoryPaths({ common }: PathContext, perpSymbols: readonly string[]): Record<string, unknown> {
  return {
    '/v1/futures/transfers': page(
      'Your transfers between the spot balance and the futures wallet (POST /v1/futures/transfer), with the wallet after each.',
      'transfers',
      {
        seq,
        asset: { type: 'string' },
        amount: { ...unsignedDecimal, description: 'positive' },
        direction: { type: 'string', enum: ['spot_to_futures', 'futures_to_spot'] },
        wallet_balance: signedDecimal,
        timestamp,
      },
      { seq: 41, asset: 'KRW', amount: '2000000', direction: 'spot_to_futures', wallet_balance: '2000000', timestamp: 1_700_000_000_000 },
      { asset: true, errors: 'NOT_A_SETTLEMENT_ASSET' },
      common,
    ),
    '/v1/futures/funding-history': page(
      'Your funding payments (FundingPaid): each open position at each funding time pays |size| × mark × rate; `amount` negative when paid, positive when received.',
      'funding',
      {
        seq,
        symbol: { type: 'string' },
        position_side: positionSide,
        size: signedDecimal,
        mark_price: unsignedDecimal,
        rate: signedDecimal,
        amount: signedDecimal,
        timestamp,
      },
      {
        seq: 120,
        symbol: 'BTC-KRW-PERP',
        position_side: 'BOTH',
        size: '0.02',
        mark_price: '50000000',
        rate: '0.00010000',
        amount: '-100',
        timestamp: 1_700_006_400_000,
      },
      { symbols: perpSymbols, errors: 'UNKNOWN_SYMBOL, NOT_A_PERPETUAL' },
      common,
    ),
    '/v1/futures/liquidations': page(
      'The liquidation events of the perpetual markets (Liquidation: public, no user), each with its stage: `book` (the liquidation order filled on the book), `insurance` (the insurance fund covering beyond the bankruptcy price), `adl` (auto-deleveraging). Your own liquidation fills are in GET /v1/fills (order_type "Liquidation").',
      'liquidations',
      {
        seq,
        symbol: { type: 'string' },
        side: { type: 'string', enum: ['Buy', 'Sell'] },
        price: unsignedDecimal,
        quantity: unsignedDecimal,
        stage: { type: 'string', enum: ['book', 'insurance', 'adl'] },
        timestamp,
      },
      { seq: 130, symbol: 'BTC-KRW-PERP', side: 'Sell', price: '48100000', quantity: '0.02', stage: 'book', timestamp: 1_700_006_500_000 },
      { symbols: perpSymbols, errors: 'UNKNOWN_SYMBOL, NOT_A_PERPETUAL' },
      common,
    ),
    '/v1/futures/position-history': page(
      'Your position after each command that changed it (PositionChanged), closed ones included (size "0").',
      'positions',
      {
        seq,
        symbol: { type: 'string' },
        position_side: positionSide,
        size: signedDecimal,
        entry_price: { type: ['string', 'null'], description: 'null when flat' },
        realized_pnl: signedDecimal,
        margin_type: { type: 'string', enum: ['CROSS', 'ISOLATED'] },
        isolated_margin: unsignedDecimal,
        leverage: { type: 'integer', minimum: 1 },
        timestamp,
      },
      {
        seq: 57,
        symbol: 'BTC-KRW-PERP',
        position_side: 'BOTH',
        size: '0.02',
        entry_price: '50000000',
        realized_pnl: '0',
        margin_type: 'CROSS',
        isolated_margin: '0',
        leverage: 20,
        timestamp: 1_700_000_100_000,
      },
      { symbols: perpSymbols, errors: 'UNKNOWN_SYMBOL, NOT_A_PERPETUAL' },
      common,
    ),
  };
}
