import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../engine/index.ts';
import { EventFeed } from './event-feed.ts';

const accepted = (orderId: number, clientOrderId: string, userId = 1) =>
  ({ type: 'OrderAccepted', order: { orderId, userId, clientOrderId, status: 'Pending' } }) as unknown as EngineEvent;
const cancelled = (orderId: number) => ({ type: 'OrderCancelled', order: { orderId } }) as unknown as EngineEvent;
const rejected = (orderId: number, clientOrderId: string) =>
  ({ type: 'OrderRejected', orderId, userId: 1, clientOrderId, commandType: 'PlaceOrder', reason: 'INSUFFICIENT_FUNDS', code: 2001, timestamp: 1 }) as unknown as EngineEvent;

describe('EventFeed client_order_id index', () => {
  it('keeps every open order, and the most recent finished ones up to the bound, oldest forgotten first', () => {
    const feed = new EventFeed({ recentClientOrderIds: 3 });
    for (let id = 1; id <= 5; id++) feed.onEvents([accepted(id, `open-${id}`)]);
    // five open orders, bound 3: open ones are never forgotten
    for (let id = 1; id <= 5; id++) expect(feed.orderForClientOrderId(1, `open-${id}`)).toBe(id);
    feed.onEvents([cancelled(1), cancelled(2), cancelled(3)]);
    for (let id = 1; id <= 5; id++) expect(feed.orderForClientOrderId(1, `open-${id}`)).toBe(id);
    // a fourth finished one pushes out the oldest finished (order 1), not an open one
    feed.onEvents([rejected(6, 'rejected-6')]);
    expect(feed.orderForClientOrderId(1, 'open-1')).toBeUndefined();
    expect(feed.orderForClientOrderId(1, 'open-2')).toBe(2);
    expect(feed.orderForClientOrderId(1, 'rejected-6')).toBe(6);
    expect(feed.orderForClientOrderId(1, 'open-4')).toBe(4);
    // a forgotten id can be used again, by a new order
    feed.onEvents([accepted(7, 'open-1')]);
    expect(feed.orderForClientOrderId(1, 'open-1')).toBe(7);
    // ids are per user
    expect(feed.orderForClientOrderId(2, 'open-4')).toBeUndefined();
  });

  it('forgets the oldest rejection records past their bound', () => {
    const feed = new EventFeed({ recentRejections: 2 });
    feed.onEvents([rejected(1, 'a'), rejected(2, 'b'), rejected(3, 'c')]);
    expect(feed.rejection(1)).toBeUndefined();
    expect(feed.rejection(2)?.reason).toBe('INSUFFICIENT_FUNDS');
    expect(feed.rejection(3)?.reason).toBe('INSUFFICIENT_FUNDS');
  });

  it('costs the same per order with 200,000 open orders indexed as with none (no rotation)', () => {
    const feed = new EventFeed({ recentClientOrderIds: 1_000 });
    const time = (from: number) => {
      const started = performance.now();
      for (let id = from; id < from + 2_000; id++) feed.onEvents([accepted(id, `c-${id}`), cancelled(id)]);
      return performance.now() - started;
    };
    time(1); // warm-up
    for (let id = 10_000; id < 210_000; id++) feed.onEvents([accepted(id, `open-${id}`)]);
    expect(time(300_000)).toBeLessThan(200); // 2,000 orders; was ~22 s for ONE at this size
  });
});
