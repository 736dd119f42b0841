import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../engine/index.ts';
import { EventFeed } from './event-feed.ts';

const rejected = (orderId: number, clientOrderId: string) =>
  ({
    type: 'OrderRejected',
    orderId,
    userId: 1,
    clientOrderId,
    commandType: 'PlaceOrder',
    reason: 'INSUFFICIENT_FUNDS',
    code: 2001,
    timestamp: 1,
  }) as unknown as EngineEvent;
const trade = (tradeId: number) =>
  ({
    type: 'Trade',
    symbol: 'BTC-KRW',
    tradeId,
    price: 50,
    quantity: 1,
    quoteQuantity: 50,
    takerSide: 'Buy',
    timestamp: tradeId,
  }) as unknown as EngineEvent;

describe('EventFeed', () => {
  it('forgets the oldest rejection records past their bound', () => {
    const feed = new EventFeed({ recentRejections: 2 });
    feed.onEvents([rejected(1, 'a'), rejected(2, 'b'), rejected(3, 'c')]);
    expect(feed.rejection(1)).toBeUndefined();
    expect(feed.rejection(2)?.reason).toBe('INSUFFICIENT_FUNDS');
    expect(feed.rejection(3)?.reason).toBe('INSUFFICIENT_FUNDS');
  });

  it('keeps the most recent trades per symbol, newest first', () => {
    const feed = new EventFeed({ tradesPerSymbol: 3 });
    feed.onEvents([1, 2, 3, 4, 5].map(trade));
    expect(feed.recentTrades('BTC-KRW', 10).map((entry) => entry.tradeId)).toEqual([5, 4, 3]);
    expect(feed.recentTrades('ETH-KRW', 10)).toEqual([]);
  });

  it('keeps the liquidation flag of a perpetual trade (GET /v1/trades shows it), and none on others', () => {
    const feed = new EventFeed({ tradesPerSymbol: 3 });
    feed.onEvents([trade(1), { ...trade(2), liquidation: true } as EngineEvent]);
    const [liquidation, plain] = feed.recentTrades('BTC-KRW', 10);
    expect(liquidation).toMatchObject({ tradeId: 2, liquidation: true });
    expect(plain).not.toHaveProperty('liquidation');
  });
});
