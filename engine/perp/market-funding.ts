/**
 * A perpetual market's funding state between price ticks: the premium samples of the running
 * interval (kept as their sum and count — the mean is all the rate needs, and 28,800 samples per
 * 8 h interval need not sit in every snapshot), when funding falls due next, the last rate settled,
 * and the figures of the last MarkPrice event (a MarkPrice goes out only when one of them changes).
 */
import type { EngineConfig } from '../types.ts';
import { fundingRate1e8, meanPremiumOfSum1e8 } from './funding-rules.ts';

export interface PublishedMark {
  readonly markTicks: number;
  readonly indexTicks: number;
  readonly estimatedFundingRate1e8: bigint;
  readonly nextFundingTimeMs: number;
}

export class MarketFunding {
  /** Σ premium samples of the interval running, 1e-8 */
  sampleSum1e8 = 0n;
  sampleCount = 0;
  /** undefined until the first price tick sets it (funding times are multiples of the interval since the epoch) */
  nextFundingTimeMs: number | undefined = undefined;
  /** F of the last settlement; undefined before the first */
  lastFundingRate1e8: bigint | undefined = undefined;
  /** what the last MarkPrice event carried */
  published: PublishedMark | undefined = undefined;

  addSample(sample1e8: bigint): void {
    this.sampleSum1e8 += sample1e8;
    this.sampleCount++;
  }

  /** F if the interval ended now: from the mean of its samples (no sample: F = I). */
  estimatedRate1e8(): bigint {
    return fundingRate1e8(meanPremiumOfSum1e8(this.sampleSum1e8, this.sampleCount));
  }

  /** a settlement took the interval's rate: the next interval starts with no sample */
  startInterval(lastRate1e8: bigint, nextFundingTimeMs: number): void {
    this.lastFundingRate1e8 = lastRate1e8;
    this.nextFundingTimeMs = nextFundingTimeMs;
    this.sampleSum1e8 = 0n;
    this.sampleCount = 0;
  }
}

/** `config` with every perpetual's funding interval set to `intervalMs` (FUNDING_INTERVAL_MS; tests and demos). */
export function withFundingIntervalMs(config: EngineConfig, intervalMs: number): EngineConfig {
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0)
    throw new RangeError(`funding interval must be a positive integer of ms, got ${intervalMs}`);
  return { ...config, perpetualMarkets: (config.perpetualMarkets ?? []).map((market) => ({ ...market, fundingIntervalMs: intervalMs })) };
}
