import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { EngineEvent, EngineQueries, FundingPaidEvent } from '../engine/index.ts';
import { FuturesMetrics } from './futures-metrics.ts';

const paid = (seq: number, symbol: string): FundingPaidEvent => ({
  type: 'FundingPaid',
  seq,
  timestamp: 0,
  userId: seq,
  symbol,
  positionSide: 'BOTH',
  size: 1,
  markPrice: 100_000,
  rate1e8: 10_000n,
  amountKrw: -10n,
});

describe('futures metrics', () => {
  it('counts one settlement per run of FundingPaid events of a symbol, and reads staleness and the last rate when scraped', async () => {
    const registry = new Registry();
    const queries = {
      markPrice: () => ({
        markPrice: 100_000,
        indexPrice: 100_000,
        sources: [{ source: 'oracle-a', price: 100_000, timestamp: 1_000 }],
        indexStale: false,
        lastFundingRate1e8: -25_000n,
      }),
    } as unknown as EngineQueries;
    const metrics = new FuturesMetrics(
      registry,
      () => queries,
      ['BTC-KRW-PERP'],
      () => 31_000,
    );
    const wallet: EngineEvent = {
      type: 'WalletChanged',
      seq: 9,
      timestamp: 0,
      userId: 1,
      asset: 'KRW',
      walletBalanceKrw: 0n,
      reason: 'Funding',
    };
    // a settlement split over two batches, then another after other events
    metrics.onEvents([paid(1, 'BTC-KRW-PERP'), paid(2, 'BTC-KRW-PERP')]);
    metrics.onEvents([paid(3, 'BTC-KRW-PERP'), wallet]);
    metrics.onEvents([paid(10, 'BTC-KRW-PERP')]);
    const text = await registry.metrics();
    expect(text).toContain('xtrader_funding_settlements_total{symbol="BTC-KRW-PERP"} 2');
    expect(text).toContain('xtrader_funding_payments_total{symbol="BTC-KRW-PERP"} 4');
    expect(text).toContain('xtrader_index_staleness_seconds{symbol="BTC-KRW-PERP"} 30');
    expect(text).toContain('xtrader_index_stale{symbol="BTC-KRW-PERP"} 0');
    expect(text).toContain('xtrader_funding_rate_last{symbol="BTC-KRW-PERP"} -0.00025');
  });
});
