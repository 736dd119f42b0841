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
  return {
    symbol,
    side,
    order_type: 'Limit',
    price: `${ticks}000`,
    quantity: `0.0${1 + Math.floor(next() * 9)}`,
    client_order_id: clientOrderId,
  };
}

/**
 * The crash tests' clients cancel one of their own open orders (taken out of `open`) with
 * probability 0.15, drawn from `next` only when there is one to cancel.
 */
export function pickOrderToCancel(next: () => number, open: string[]): string | undefined {
  if (open.length === 0 || next() >= 0.15) return undefined;
  return open.splice(Math.floor(next() * open.length), 1)[0]!;
}

/** The status of an answer read to its end, or undefined when the process was killed mid-request. */
export async function statusUnlessKilled(request: () => Promise<Response>): Promise<number | undefined> {
  try {
    const response = await request();
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}
