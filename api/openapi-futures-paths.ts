/**
 * OpenAPI paths and schemas of the futures routes (api/routes-futures.ts): the signed settings and
 * reads under /v1/futures and the admin oracle feed. Request schemas come from the zod schemas that
 * validate them (api/futures-input.ts); the examples are the worked example of docs/futures.md
 * (a long of 0.02 BTC-KRW-PERP opened 10× isolated at 50,000,000 KRW, half closed at 51,000,000).
 */
import { err, requestSchema, signedSecurity, withSymbols, type PathContext } from './openapi-shared.ts';
import {
  futuresTransferBody,
  indexPricesBody,
  isolatedMarginBody,
  leverageBody,
  marginTypeBody,
  positionModeBody,
} from './futures-input.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const money = (description: string) => ({
  type: 'string',
  pattern: '^-?\\d+(\\.\\d+)?$',
  description: `${description} (settlement asset, canonical decimal, signed)`,
});
const price = (description: string) => ({ type: ['string', 'null'], pattern: '^\\d+(\\.\\d+)?$', description });

/** A JSON body with its schema and named examples. */
function jsonExamples(schema: unknown, examples: Record<string, unknown>): Record<string, unknown> {
  return {
    content: {
      'application/json': { schema, examples: Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }])) },
    },
  };
}

export const POSITION_EXAMPLE = {
  symbol: 'BTC-KRW-PERP',
  position_side: 'BOTH',
  size: '0.01',
  entry_price: '50000000',
  mark_price: '51000000',
  unrealized_pnl: '10000',
  realized_pnl: '10000',
  leverage: 10,
  margin_type: 'ISOLATED',
  isolated_margin: '50000',
  maintenance_margin: '2040',
  liquidation_price: '45180000',
  bankruptcy_price: '45000000',
};

const ack = (extra: Record<string, unknown>) => ({
  request_id: '12',
  status: 'ACCEPTED',
  message: 'applied',
  outcome: 'Applied',
  reject_reason: null,
  ...extra,
});

/** Futures schemas for components.schemas (request bodies from zod, responses by hand). */
export function futuresSchemas(perpSymbols: readonly string[]): Record<string, unknown> {
  const position = {
    type: 'object',
    required: Object.keys(POSITION_EXAMPLE),
    properties: {
      symbol: { type: 'string', enum: [...perpSymbols] },
      position_side: { type: 'string', enum: ['BOTH', 'LONG', 'SHORT'] },
      size: {
        type: 'string',
        pattern: '^-?\\d+(\\.\\d+)?$',
        description: 'base quantity, signed in one-way mode (< 0 short); never "0" (closed positions are not listed)',
      },
      entry_price: price('cost / size, to the nearest tick (half up)'),
      mark_price: price('the mark (= index) price; null before the first index price'),
      unrealized_pnl: money('size × mark − cost'),
      realized_pnl: money('cumulative realized PnL of this position, gross (fees and funding apart)'),
      leverage: { type: 'integer', minimum: 1 },
      margin_type: { type: 'string', enum: ['CROSS', 'ISOLATED'] },
      isolated_margin: money('the margin an isolated position holds; "0" for cross'),
      maintenance_margin: money('notional at the mark × MMR(tier) − cum, rounded up'),
      liquidation_price: price(
        'the mark at which this position (isolated) or the account (cross) reaches its maintenance margin; null when none',
      ),
      bankruptcy_price: price('where its margin balance would be 0; null when none'),
    },
  };
  return {
    FuturesTransfer: requestSchema(futuresTransferBody),
    PositionMode: requestSchema(positionModeBody),
    Leverage: withSymbols(requestSchema(leverageBody), perpSymbols),
    MarginType: withSymbols(requestSchema(marginTypeBody), perpSymbols),
    IsolatedMargin: withSymbols(requestSchema(isolatedMarginBody), perpSymbols),
    IndexPrices: requestSchema(indexPricesBody),
    FuturesAck: {
      type: 'object',
      required: ['request_id', 'status', 'message', 'outcome', 'reject_reason'],
      description:
        'Journaled and applied; `outcome` says what the engine did (Rejected: nothing changed, `reject_reason` says why). Route-specific figures after the command follow.',
      properties: {
        request_id: { type: 'string', description: 'the journal seq of the command' },
        status: { const: 'ACCEPTED' },
        message: { type: 'string' },
        outcome: { type: 'string', enum: ['Applied', 'Rejected'] },
        reject_reason: { type: ['string', 'null'] },
      },
      additionalProperties: true,
    },
    Position: position,
    FuturesAccount: {
      type: 'object',
      required: [
        'asset',
        'wallet_balance',
        'unrealized_pnl',
        'margin_balance',
        'maintenance_margin',
        'initial_margin',
        'order_margin',
        'available_balance',
        'position_mode',
        'positions',
      ],
      properties: {
        asset: { type: 'string' },
        wallet_balance: money('transfers in − out + realized PnL − fees; includes isolated margins'),
        unrealized_pnl: money('Σ positions at the mark'),
        margin_balance: money('wallet + unrealized PnL'),
        maintenance_margin: money('Σ positions'),
        initial_margin: money('Σ positions: notional at the mark / leverage, rounded up'),
        order_margin: money('reserved by open orders that open or grow a position: initial margin at the order price + taker fee'),
        available_balance: money('cross margin balance − cross initial margins − order reserves, never above the wallet; may be negative'),
        position_mode: { type: 'string', enum: ['ONE_WAY', 'HEDGE'] },
        positions: { type: 'array', items: position },
      },
    },
  };
}

export function futuresPaths({ common }: PathContext, perpSymbols: readonly string[]): Record<string, unknown> {
  const post = (summary: string, body: string, requestExample: unknown, answerExample: unknown, errors: string) => ({
    post: {
      summary,
      security: signedSecurity,
      requestBody: { required: true, ...jsonExamples(ref(body), { request: requestExample }) },
      responses: {
        '200': {
          description: 'journaled and applied (outcome Applied or Rejected)',
          ...jsonExamples(ref('FuturesAck'), { applied: answerExample }),
        },
        ...common,
        '400': err(errors),
        '413': err('body larger than 16 KiB'),
        '415': err('Content-Type is not application/json'),
      },
    },
  });
  const shape = 'MALFORMED_JSON, INVALID_BODY, UNKNOWN_FIELD, MISSING_FIELD, INVALID_FIELD';
  return {
    '/v1/futures/transfer': post(
      'Move money between your spot balance and your futures wallet, atomically (journaled, acknowledged like an order). Out of futures: at most the available balance.',
      'FuturesTransfer',
      { asset: 'KRW', amount: '2000000', direction: 'spot_to_futures' },
      ack({
        message: 'transfer applied',
        asset: 'KRW',
        wallet_balance: '2000000',
        available_balance: '2000000',
        spot_available: '8000000',
      }),
      `INSUFFICIENT_AVAILABLE (spot), INSUFFICIENT_MARGIN (futures available), NOT_A_SETTLEMENT_ASSET, UNKNOWN_ASSET, INVALID_TRANSFER_DIRECTION, INVALID_AMOUNT, NOT_A_DECIMAL, TOO_MANY_DECIMALS, ${shape}`,
    ),
    '/v1/futures/position-mode': post(
      'One-way (default) or hedge mode; only with no position and no open order in any perpetual market.',
      'PositionMode',
      { hedge: true },
      ack({ message: 'position mode applied', position_mode: 'HEDGE' }),
      `POSITION_OR_ORDERS_OPEN, ${shape}`,
    ),
    '/v1/futures/leverage': post(
      "Your leverage in one perpetual market: 1 … the risk tier's maximum for your position's current notional at the mark (no position: tier 1's). Default 20.",
      'Leverage',
      { symbol: 'BTC-KRW-PERP', leverage: 10 },
      ack({ message: 'leverage applied', symbol: 'BTC-KRW-PERP', leverage: 10, margin_type: 'ISOLATED', max_leverage: 50 }),
      `LEVERAGE_ABOVE_TIER_MAX, INVALID_LEVERAGE (not a JSON integer ≥ 1), UNKNOWN_SYMBOL, NOT_A_PERPETUAL, ${shape}`,
    ),
    '/v1/futures/margin-type': post(
      'CROSS (default) or ISOLATED in one perpetual market; only with no position and no open order there.',
      'MarginType',
      { symbol: 'BTC-KRW-PERP', margin_type: 'ISOLATED' },
      ack({ message: 'margin type applied', symbol: 'BTC-KRW-PERP', leverage: 20, margin_type: 'ISOLATED' }),
      `POSITION_OR_ORDERS_OPEN, INVALID_MARGIN_TYPE, UNKNOWN_SYMBOL, NOT_A_PERPETUAL, ${shape}`,
    ),
    '/v1/futures/isolated-margin': post(
      'Add margin to an isolated position from the available balance, or remove it while the position keeps its initial margin at the mark (unrealized profit does not count).',
      'IsolatedMargin',
      { symbol: 'BTC-KRW-PERP', position_side: 'BOTH', amount: '10000', action: 'add' },
      ack({
        message: 'isolated margin applied',
        position: { ...POSITION_EXAMPLE, isolated_margin: '60000', liquidation_price: '44176000', bankruptcy_price: '44000000' },
      }),
      `NO_POSITION, NOT_ISOLATED, POSITION_SIDE_MISMATCH, INSUFFICIENT_MARGIN, INVALID_POSITION_SIDE, INVALID_MARGIN_ACTION, INVALID_AMOUNT, NOT_A_DECIMAL, UNKNOWN_SYMBOL, NOT_A_PERPETUAL, ${shape}`,
    ),
    '/v1/futures/account': {
      get: {
        summary: 'Your futures wallet of one settlement asset (default KRW) with every open position valued at the mark.',
        security: signedSecurity,
        parameters: [{ name: 'asset', in: 'query', required: false, schema: { type: 'string', default: 'KRW' } }],
        responses: {
          '200': {
            description: 'the account',
            ...jsonExamples(ref('FuturesAccount'), {
              'after the worked example': {
                asset: 'KRW',
                wallet_balance: '2009245',
                unrealized_pnl: '10000',
                margin_balance: '2019245',
                maintenance_margin: '2040',
                initial_margin: '51000',
                order_margin: '0',
                available_balance: '1959245',
                position_mode: 'ONE_WAY',
                positions: [POSITION_EXAMPLE],
              },
            }),
          },
          ...common,
          '400': err('NOT_A_SETTLEMENT_ASSET'),
        },
      },
    },
    '/v1/futures/insurance-fund': {
      get: {
        summary:
          'The insurance fund of a settlement asset (public, no signature): it takes what liquidations fill better than the bankruptcy price and funding dust, and pays the losses beyond it.',
        parameters: [{ name: 'asset', in: 'query', required: false, schema: { type: 'string', default: 'KRW' } }],
        responses: {
          '200': {
            description: 'the balance',
            ...jsonExamples(
              {
                type: 'object',
                required: ['asset', 'balance'],
                properties: { asset: { type: 'string' }, balance: money('KRW, never below 0') },
              },
              { 'after worked example (a)': { asset: 'KRW', balance: '20000' } },
            ),
          },
          '400': err('NOT_A_SETTLEMENT_ASSET'),
          '503': err('not ready'),
        },
      },
    },
    '/v1/futures/positions': {
      get: {
        summary: 'Your open positions (size ≠ 0), in one perpetual market or all; a JSON array.',
        security: signedSecurity,
        parameters: [{ name: 'symbol', in: 'query', required: false, schema: { type: 'string', enum: [...perpSymbols] } }],
        responses: {
          '200': {
            description: 'positions',
            ...jsonExamples({ type: 'array', items: ref('Position') }, { 'after the worked example': [POSITION_EXAMPLE] }),
          },
          ...common,
          '400': err('UNKNOWN_SYMBOL, NOT_A_PERPETUAL'),
        },
      },
    },
    '/admin/index-prices': {
      post: {
        summary:
          "The oracle feed (journaled): each entry sets one source's price for one perpetual market. Mark price = index price = the median of the sources updated within 60 s of the command (even count: the mean of the middle two, rounded down to a tick). Acknowledged like a deposit; the answer lists each market's mark and index after the command.",
        security: [{ Admin: [] }],
        requestBody: {
          required: true,
          ...jsonExamples(ref('IndexPrices'), { request: { prices: [{ symbol: 'BTC-KRW-PERP', source: 'oracle-a', price: '50000000' }] } }),
        },
        responses: {
          '200': {
            description: 'applied (status APPLIED)',
            ...jsonExamples(
              { type: 'object' },
              {
                applied: {
                  request_id: '9',
                  status: 'APPLIED',
                  message: 'index prices applied',
                  outcome: 'Applied',
                  reject_reason: null,
                  marks: [{ symbol: 'BTC-KRW-PERP', mark_price: '50000000', index_price: '50000000' }],
                },
              },
            ),
          },
          '409': err('journaled but refused by the engine (status REJECTED)'),
          '400': err(
            `INVALID_INDEX_PRICES (empty, over 100, a symbol and source twice, the reserved source "spot"), INVALID_PRICE, OFF_TICK, NOT_A_DECIMAL, UNKNOWN_SYMBOL, NOT_A_PERPETUAL, ${shape}`,
          ),
          '401': err('admin token missing or wrong'),
          '503': err('not ready or overloaded'),
        },
      },
    },
  };
}
