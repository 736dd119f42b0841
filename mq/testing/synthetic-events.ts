/** Hand-made engine events for tests of the log and the loop (no engine run needed): every 5th a Trade taking three seqs. */
import type { EngineEvent } from '../../engine/index.ts';

export function syntheticEvents(from: number, count: number): EngineEvent[] {
  const out: EngineEvent[] = [];
  let seq = from;
  for (let index = 0; index < count; index++) {
    if (index % 5 === 4) {
      const fill = (reportSeq: number, isMaker: boolean) => ({
        seq: reportSeq,
        orderId: 10 + index,
        userId: isMaker ? 1 : 2,
        side: isMaker ? ('Sell' as const) : ('Buy' as const),
        isMaker,
        filledQuantity: 1,
        remainingQuantity: 0,
        fee: 0,
        status: 'Filled' as const,
        orderType: 'Limit' as const,
        orderPrice: 50_000,
        orderQuantity: 1,
        filledQuote: 50_000_000,
      });
      out.push({
        type: 'Trade',
        seq,
        timestamp: 1_000 + seq,
        symbol: 'BTC-KRW',
        tradeId: seq,
        price: 50_000,
        quantity: 1,
        quoteQuantity: 50_000_000,
        takerSide: 'Buy',
        maker: fill(seq + 1, true),
        taker: fill(seq + 2, false),
      });
      seq += 3;
    } else if (index % 5 === 1) {
      out.push({
        type: 'BookDelta',
        seq,
        timestamp: 1_000 + seq,
        symbol: index % 2 ? 'BTC-KRW' : 'ETH-KRW',
        symbolSeq: seq,
        side: 'Buy',
        price: 49_000,
        quantity: index,
      });
      seq += 1;
    } else {
      out.push({ type: 'BalanceChanged', seq, timestamp: 1_000 + seq, userId: index, asset: 'KRW', available: seq, locked: 0 });
      seq += 1;
    }
  }
  return out;
}
