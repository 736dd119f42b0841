/** OpenAPI paths of the signed order routes: place, read, amend and cancel one order; list and cancel open orders. */
import { err, json, signedSecurity, type PathContext } from './openapi-shared.ts';

export function orderPaths({ symbols, orderIdParam, common }: PathContext): Record<string, unknown> {
  return {
    '/v1/order': {
      post: {
        summary: 'Place an order (acknowledged once durable)',
        security: signedSecurity,
        requestBody: { required: true, ...json({ $ref: '#/components/schemas/PlaceOrder' }) },
        responses: {
          '200': { description: 'sequenced', ...json({ $ref: '#/components/schemas/Ack' }) },
          ...common,
          '413': err('body larger than 16 KiB'),
          '415': err('UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json; UNSUPPORTED_CHARSET: a charset other than utf-8'),
        },
      },
    },
    '/v1/order/{order_id}': {
      get: {
        summary:
          "The order's full current state: from the engine while the order is open or among the 100,000 most recently finished, else from PostgreSQL (there `time_in_force`, `post_only`, `stop_price` and `quote_amount` are null: execution reports do not carry them)",
        security: signedSecurity,
        parameters: [orderIdParam],
        responses: {
          '200': { description: 'the order', ...json({ $ref: '#/components/schemas/Order' }) },
          ...common,
          '404': err('no such order, or not yours'),
          '503': err('not ready, overloaded; or STORE_UNAVAILABLE: the order is not in memory and PostgreSQL is unavailable'),
        },
      },
      patch: {
        summary:
          'Amend an open order: reduce its quantity (body `{quantity}`: the new total, filled part included); it keeps its place in the queue (price-time priority) and the freed funds are released. Acknowledged like an order; an `Amended` execution report follows on the WebSocket',
        security: signedSecurity,
        parameters: [orderIdParam],
        requestBody: { required: true, ...json({ $ref: '#/components/schemas/Amend' }) },
        responses: {
          '200': { description: 'amend sequenced and applied', ...json({ $ref: '#/components/schemas/AmendAck' }) },
          ...common,
          '400': err(
            'AMEND_NOT_REDUCING (not below the current quantity), AMEND_BELOW_FILLED (not above the filled quantity), AMEND_NOT_ALLOWED (a buy by quote amount), ORDER_NOT_OPEN, INVALID_QUANTITY, OFF_LOT, TOO_MANY_DECIMALS, NOT_A_DECIMAL, MISSING_FIELD, UNKNOWN_FIELD, MALFORMED_JSON, DUPLICATE_KEY, INVALID_BODY, INVALID_ORDER_ID',
          ),
          '404': err('no such order, or not yours'),
          '409': {
            description: 'journaled, but the engine refused it: the order filled or was cancelled in between (nothing changed)',
            ...json({ $ref: '#/components/schemas/AmendRejected' }),
          },
          '413': err('body larger than 16 KiB'),
          '415': err('UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json; UNSUPPORTED_CHARSET: a charset other than utf-8'),
        },
      },
      delete: {
        summary: 'Cancel an open order (acknowledged like an order)',
        security: signedSecurity,
        parameters: [orderIdParam],
        responses: {
          '200': { description: 'cancel sequenced', ...json({ $ref: '#/components/schemas/Ack' }) },
          ...common,
          '400': err('ORDER_NOT_OPEN: the order is already finished (Filled, Cancelled, Expired, Rejected); or another invalid request'),
          '404': err('no such order, or not yours'),
        },
      },
    },
    '/v1/orders': {
      get: {
        summary:
          'Your open orders, oldest first, in pages of at most `limit` (default and maximum 1,000); `next_after_order_id` (null on the last page) is the `after_order_id` of the next page',
        security: signedSecurity,
        parameters: [
          { name: 'symbol', in: 'query', required: false, schema: { type: 'string', enum: symbols } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 1000 } },
          { name: 'after_order_id', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{1,16}$' } },
        ],
        responses: {
          '200': {
            description: 'open orders',
            ...json({
              type: 'object',
              properties: {
                orders: { type: 'array', items: { $ref: '#/components/schemas/Order' } },
                next_after_order_id: { type: ['string', 'null'] },
              },
            }),
          },
          ...common,
        },
      },
      delete: {
        summary:
          'Cancel all your open orders in one market (untriggered stops included): one cancel per order, submitted together, answered once every cancel is durable and applied. Orders that finished in between are not in `cancelled`; none open answers `cancelled: []`',
        security: signedSecurity,
        parameters: [{ name: 'symbol', in: 'query', required: true, schema: { type: 'string', enum: symbols } }],
        responses: {
          '200': { description: 'cancels sequenced and applied', ...json({ $ref: '#/components/schemas/CancelAllAck' }) },
          ...common,
          '400': err('INVALID_QUERY (symbol missing), UNKNOWN_SYMBOL'),
        },
      },
    },
  };
}
