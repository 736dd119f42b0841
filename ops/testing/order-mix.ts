/**
 * The random orders the crash tests' clients stream: buys and sells on both markets near their
 * mids (BTC-KRW 50,000,000, ETH-KRW 3,000,000 KRW; ±10 ticks of 1,000 KRW), one in ten a market
 * order, so that they rest, cross and fill. Drawn from `next` (a seeded generator) in a fixed
 * order, so a seed replays the same stream.
 */
export function randomOrder(next: () => number, clientOrderId: string, btcShare: number): Record<string, unknown> {
  const side = next() < 0.5 ? 'Buy' : 'Sell';
  const symbol = next() < btcShare ? 'BTC-KRW' : 'ETH-KRW';
  const mid = symbol === 'BTC-KRW' ? 50_000 : 3_000; // in 1,000-KRW ticks
  if (next() < 0.1) return { symbol, side, order_type: 'Market', quantity: '0.01', client_order_id: clientOrderId };
  const ticks = mid + Math.floor(next() * 21) - 10;
  return { symbol, side, order_type: 'Limit', price: `${ticks}000`, quantity: `0.0${1 + Math.floor(next() * 9)}`, client_order_id: clientOrderId };
}
