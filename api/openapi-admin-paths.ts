/** OpenAPI paths of the admin routes (bearer ADMIN_TOKEN): users, deposits, withdrawals, any balance, the state hash. */
import { err, json } from './openapi-shared.ts';

export function adminPaths(): Record<string, unknown> {
  return {
    '/admin/users': {
      post: {
        summary: 'Create a user with an API key and secret (the secret is shown only here)',
        security: [{ Admin: [] }],
        requestBody: { required: true, ...json({ $ref: '#/components/schemas/CreateUser' }) },
        responses: {
          '201': {
            description: 'created',
            ...json({
              type: 'object',
              properties: { user_id: { type: 'string' }, api_key: { type: 'string' }, api_secret: { type: 'string' } },
            }),
          },
          '400': err('invalid'),
          '401': err('admin token missing or wrong'),
        },
      },
    },
    '/admin/deposits': {
      post: {
        summary: 'Credit a balance (through the sequencer, acknowledged like an order)',
        security: [{ Admin: [] }],
        requestBody: { required: true, ...json({ $ref: '#/components/schemas/Transfer' }) },
        responses: {
          '200': { description: 'applied (status APPLIED)', ...json({ $ref: '#/components/schemas/TransferAck' }) },
          '409': {
            description: 'journaled but refused by the engine (status REJECTED, e.g. the total supply bound)',
            ...json({ $ref: '#/components/schemas/TransferAck' }),
          },
          '400': err(
            'invalid (user_id neither a JSON integer nor a canonical decimal-string id: INVALID_FIELD), DUPLICATE_KEY, or FEE_ACCOUNT_DEPOSIT (user 0, the fee account, takes no deposits)',
          ),
          '401': err('admin'),
          '503': err('not ready or overloaded'),
        },
      },
    },
    '/admin/withdrawals': {
      post: {
        summary: 'Debit an available balance (through the sequencer)',
        security: [{ Admin: [] }],
        requestBody: { required: true, ...json({ $ref: '#/components/schemas/Transfer' }) },
        responses: {
          '200': { description: 'applied (status APPLIED)', ...json({ $ref: '#/components/schemas/TransferAck' }) },
          '409': {
            description: 'journaled but refused by the engine (status REJECTED: the balance was locked by an order in between)',
            ...json({ $ref: '#/components/schemas/TransferAck' }),
          },
          '400': err('invalid or INSUFFICIENT_AVAILABLE'),
          '401': err('admin'),
          '503': err('not ready or overloaded'),
        },
      },
    },
    '/admin/balances/{user_id}': {
      get: {
        summary: "Any user's balances (user 0 is the fee account)",
        security: [{ Admin: [] }],
        parameters: [{ name: 'user_id', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d{1,15}$' } }],
        responses: {
          '200': { description: 'balances', ...json({ $ref: '#/components/schemas/Balances' }) },
          '401': err('admin'),
          '404': err('no such user'),
        },
      },
    },
    '/admin/state': {
      get: {
        summary: 'last_seq, last_event_seq and the engine stateHash (replay checks)',
        security: [{ Admin: [] }],
        responses: {
          '200': { description: 'state facts', ...json({ $ref: '#/components/schemas/State' }) },
          '401': err('admin'),
          '503': err('not ready'),
        },
      },
    },
  };
}
