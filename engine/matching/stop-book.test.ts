/** The stop book's four sorted lists (stop-book.ts): direction, trigger order, removal among equal stops. */
import { describe, expect, it } from 'vitest';
import type { OrderType, WorkingType } from '../types.ts';
import { OrderNode } from './order.ts';
import { StopBook } from './stop-book.ts';

let nextId = 0;
function stop(orderType: OrderType, isBuy: boolean, stopPrice: number, workingType?: WorkingType): OrderNode {
  const order = new OrderNode();
  order.orderId = ++nextId;
  order.orderType = orderType;
  order.isBuy = isBuy;
  order.side = isBuy ? 'Buy' : 'Sell';
  order.stopPrice = stopPrice;
  order.workingType = workingType;
  return order;
}

const ids = (orders: readonly OrderNode[]): number[] => orders.map((order) => order.orderId);

describe('StopBook', () => {
  it('files each order by working type and direction, nearest stop first, equal stops in placement order', () => {
    const book = new StopBook();
    const a = stop('StopMarket', false, 99, 'MARK_PRICE'); // falls
    const b = stop('TakeProfitMarket', true, 98, 'MARK_PRICE'); // falls
    const c = stop('StopLimit', false, 99, 'MARK_PRICE'); // falls, same stop as a, later
    const d = stop('TakeProfitLimit', false, 105, 'MARK_PRICE'); // rises
    const e = stop('StopMarket', true, 104); // rises, last price
    for (const order of [a, b, c, d, e]) book.add(order);
    expect(ids(book.markFalling)).toEqual([a.orderId, c.orderId, b.orderId]);
    expect(ids(book.markRising)).toEqual([d.orderId]);
    expect(ids(book.rising)).toEqual([e.orderId]);
    expect([book.size, book.markSize]).toEqual([1, 4]);
    expect(book.takeMarkTriggered(100)).toEqual([]);
    expect(book.takeTriggered(200)).toEqual([e]); // the last price fires only last-price orders
    expect(ids(book.takeMarkTriggered(98))).toEqual([a.orderId, c.orderId, b.orderId]);
    expect(ids(book.takeMarkTriggered(105))).toEqual([d.orderId]);
    expect(book.markSize).toBe(0);
  });

  it('removes exactly the order asked for among equal stops', () => {
    const book = new StopBook();
    const orders = [1, 2, 3, 4].map(() => stop('StopMarket', true, 50, 'MARK_PRICE'));
    const other = stop('StopMarket', true, 40, 'MARK_PRICE');
    for (const order of [...orders, other]) book.add(order);
    book.remove(orders[2]!);
    book.remove(stop('StopMarket', true, 50, 'MARK_PRICE')); // not in the book: nothing happens
    expect(ids(book.markRising)).toEqual([other.orderId, orders[0]!.orderId, orders[1]!.orderId, orders[3]!.orderId]);
    book.remove(other);
    expect(ids(book.takeMarkTriggered(50))).toEqual([orders[0]!.orderId, orders[1]!.orderId, orders[3]!.orderId]);
  });
});
