/**
 * The OpenAPI request schemas are generated from the zod schemas that validate the bodies; this
 * checks they also mean the same: on generated bodies (valid, wrong types, unknown fields, nulls),
 * the JSON Schema of /openapi.json (run by Ajv, JSON Schema 2020-12) accepts exactly what zod does.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG } from '../engine/index.ts';
import { buildOpenApi } from './openapi.ts';
import { orderBodySchema } from './order-input.ts';
import { transferBody, userBody } from './routes-admin.ts';

const spec = buildOpenApi(DEFAULT_ENGINE_CONFIG) as { components: { schemas: Record<string, Record<string, unknown>> } };
const ajv = new Ajv2020({ strict: false });
const symbols = DEFAULT_ENGINE_CONFIG.markets.map((market) => market.symbol);

const anyValue = fc.oneof(
  fc.string({ maxLength: 70 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('GTC', 'IOC', 'Buy', 'Limit', '50000000', '0.001', 'a-1', 'ExpireMaker', '123'),
);

function bodies(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(fields).map(
    ([key, valid]) =>
      [key, fc.option(fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: anyValue }), { nil: undefined, freq: 3 })] as const,
  );
  return fc
    .tuple(
      fc.record(Object.fromEntries(entries)),
      fc.option(fc.dictionary(fc.constantFrom('extra', 'Symbol', 'price '), anyValue, { maxKeys: 1 }), { freq: 5 }),
    )
    .map(([record, extra]) => {
      const body: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(record)) if (value !== undefined) body[key] = value;
      return { ...body, ...(extra ?? {}) };
    });
}

describe('OpenAPI request schemas = the zod validation', () => {
  it('PlaceOrder', () => {
    const validate = ajv.compile(spec.components.schemas.PlaceOrder!);
    const order = bodies({
      symbol: fc.constantFrom(...DEFAULT_ENGINE_CONFIG.markets.map((market) => market.symbol)),
      side: fc.constantFrom('Buy', 'Sell'),
      order_type: fc.constantFrom('Limit', 'Market', 'StopLimit', 'StopMarket', 'TakeProfitLimit', 'TakeProfitMarket'),
      price: fc.oneof(fc.constantFrom('50000000', '1.5'), fc.integer({ min: 0 })),
      quantity: fc.constantFrom('0.001', '1'),
      quote_amount: fc.constantFrom('10000', null),
      stop_price: fc.constantFrom('49000000', null),
      time_in_force: fc.constantFrom('GTC', 'IOC', 'FOK'),
      post_only: fc.boolean(),
      client_order_id: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/),
      self_trade_prevention: fc.constantFrom('ExpireTaker', 'ExpireMaker', 'ExpireBoth'),
      working_type: fc.constantFrom('MARK_PRICE', 'LAST_PRICE'),
      close_position: fc.boolean(),
    });
    let accepted = 0;
    fc.assert(
      fc.property(order, (body) => {
        // the enum of symbols is the engine config's (an unknown one answers UNKNOWN_SYMBOL after zod)
        const zodSays = orderBodySchema.safeParse(body).success && symbols.includes(body.symbol as string);
        if (zodSays) accepted++;
        expect({ body, schema: validate(body) }).toEqual({ body, schema: zodSays });
      }),
      { numRuns: 3_000 },
    );
    expect(accepted).toBeGreaterThan(50); // the generator reaches both answers
  });

  it('Transfer and CreateUser', () => {
    const transfer = ajv.compile(spec.components.schemas.Transfer!);
    const user = ajv.compile(spec.components.schemas.CreateUser!);
    fc.assert(
      fc.property(
        bodies({
          user_id: fc.oneof(fc.nat(), fc.constantFrom('12', '007')),
          asset: fc.constantFrom('KRW', 'BTC'),
          amount: fc.constantFrom('1.5', '100'),
          reference: fc.string({ maxLength: 120 }),
        }),
        (body) => {
          expect({ body, schema: transfer(body) }).toEqual({ body, schema: transferBody.safeParse(body).success });
        },
      ),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(bodies({ name: fc.string({ maxLength: 210 }) }), (body) => {
        expect({ body, schema: user(body) }).toEqual({ body, schema: userBody.safeParse(body).success });
      }),
      { numRuns: 1_000 },
    );
  });
});
