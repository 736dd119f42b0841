/** POST /v1/order's TP/SL fields (issue 19) in engine units: defaults and the refusals answered before journaling. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG } from '../engine/index.ts';
import { ApiError } from './errors.ts';
import { orderBodySchema, toPlaceOrder } from './order-input.ts';

function place(body: Record<string, unknown>) {
  return toPlaceOrder(orderBodySchema.parse({ symbol: 'BTC-KRW-PERP', side: 'Sell', ...body }), 7, DEFAULT_ENGINE_CONFIG);
}

function refusal(body: Record<string, unknown>): string | undefined {
  try {
    place(body);
    return undefined;
  } catch (error) {
    return error instanceof ApiError ? error.word : String(error);
  }
}

describe('POST /v1/order: TP/SL fields', () => {
  it('defaults a perpetual stop or take-profit to MARK_PRICE and takes LAST_PRICE when asked', () => {
    // 95,000,000 KRW on a 1,000 KRW tick: 95,000 ticks
    expect(place({ order_type: 'StopMarket', stop_price: '95000000', quantity: '0.01' })).toMatchObject({
      orderType: 'StopMarket',
      stopPrice: 95_000,
      quantity: 10,
      timeInForce: 'IOC',
      workingType: 'MARK_PRICE',
    });
    expect(
      place({ order_type: 'TakeProfitLimit', stop_price: '105000000', price: '105000000', quantity: '0.01', working_type: 'LAST_PRICE' }),
    ).toMatchObject({ orderType: 'TakeProfitLimit', price: 105_000, timeInForce: 'GTC', workingType: 'LAST_PRICE' });
    expect(place({ order_type: 'Limit', price: '100000000', quantity: '0.01' }).workingType).toBeUndefined();
  });

  it('takes close_position without a quantity and refuses it with one', () => {
    const command = place({ order_type: 'TakeProfitMarket', stop_price: '90000000', close_position: true });
    expect(command).toMatchObject({ closePosition: true, workingType: 'MARK_PRICE' });
    expect(command.quantity).toBeUndefined();
    expect(refusal({ order_type: 'StopMarket', stop_price: '90000000', quantity: '0.01', close_position: true })).toBe(
      'CLOSE_POSITION_NOT_ALLOWED',
    );
    expect(refusal({ order_type: 'StopLimit', stop_price: '90000000', price: '90000000', close_position: true })).toBe(
      'CLOSE_POSITION_NOT_ALLOWED',
    );
    expect(refusal({ order_type: 'StopMarket', stop_price: '90000000' })).toBe('QUANTITY_REQUIRED');
  });

  it('refuses a working type on a plain order, and the TP/SL fields on spot', () => {
    expect(refusal({ order_type: 'Limit', price: '100000000', quantity: '0.01', working_type: 'MARK_PRICE' })).toBe('INVALID_WORKING_TYPE');
    const spot = { symbol: 'BTC-KRW', quantity: '0.01' };
    expect(refusal({ ...spot, order_type: 'TakeProfitMarket', stop_price: '90000000' })).toBe('NOT_A_PERPETUAL');
    expect(refusal({ ...spot, order_type: 'StopMarket', stop_price: '90000000', working_type: 'LAST_PRICE' })).toBe('NOT_A_PERPETUAL');
    expect(refusal({ symbol: 'BTC-KRW', order_type: 'StopMarket', stop_price: '90000000', close_position: true })).toBe('NOT_A_PERPETUAL');
    // a spot stop is as before: no working type
    expect(place({ ...spot, order_type: 'StopLimit', stop_price: '90000000', price: '90000000' }).workingType).toBeUndefined();
  });
});
