/**
 * What every part of the OpenAPI document (api/openapi.ts) shares: the order status words, the
 * decimal and error shapes, request schemas from zod, and the per-config parameters.
 */
import type { EngineConfig, OrderStatus } from '../engine/index.ts';
import { z } from 'zod';
import { tradedMarkets } from '../contract/markets.ts';

/** Order status words (GET /v1/order/{id}); the first three are the seeds' own. */
export const ORDER_STATUSES: Record<OrderStatus, string> = {
  Pending: 'resting on the book, nothing filled yet',
  PartiallyFilled: 'some quantity filled, the rest still open',
  Filled: 'completely filled (final)',
  Cancelled: 'cancelled by its owner (final)',
  Expired:
    'IOC/FOK remainder, market order without liquidity, self-trade prevention, or a market buy whose budget is spent; expire_reason says which (final)',
  Rejected: 'accepted for sequencing, then refused by the engine; reject_reason says why, e.g. INSUFFICIENT_FUNDS (final)',
  Untriggered: 'stop order waiting for its stop price',
};

export const decimal = {
  type: 'string',
  pattern: '^\\d+(\\.\\d+)?$',
  description: 'decimal as a string (requests also accept a JSON number, read by its exact characters; no sign, no exponent)',
};
/** A request body's JSON Schema from the zod schema that validates it (OpenAPI 3.1 is JSON Schema 2020-12). */
export function requestSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
}

/** The one thing zod leaves to the engine config: which symbols exist. */
export function withSymbols(schema: Record<string, unknown>, symbols: readonly string[]): Record<string, unknown> {
  const properties = schema.properties as Record<string, Record<string, unknown>>;
  return { ...schema, properties: { ...properties, symbol: { ...properties.symbol, enum: [...symbols] } } };
}

export const errorRef = { $ref: '#/components/schemas/Error' };
export const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
export const err = (description: string) => ({ description, ...json(errorRef) });
export const signedSecurity = [{ ApiKey: [], Timestamp: [], Signature: [] }];

/** What the path parts take from the engine config, and the error answers most signed routes share. */
export interface PathContext {
  readonly symbols: readonly string[];
  readonly symbolParam: Record<string, unknown>;
  readonly orderIdParam: Record<string, unknown>;
  readonly common: Record<string, unknown>;
}

export function pathContext(config: EngineConfig): PathContext {
  const symbols = tradedMarkets(config).map((market) => market.symbol);
  const symbolParam = { name: 'symbol', in: 'path', required: true, schema: { type: 'string', enum: symbols } };
  const orderIdParam = { name: 'order_id', in: 'path', required: true, schema: { type: 'string', pattern: '^[1-9]\\d{0,15}$' } };
  const common = {
    '400': err('invalid request — see the error table'),
    '401': err('missing, unknown, stale, wrong or replayed signature'),
    '429': { ...err('rate limit exceeded'), headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds' } } },
    '503': err('not ready, overloaded, or journal failure'),
  };
  return { symbols, symbolParam, orderIdParam, common };
}
