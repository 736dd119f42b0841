/**
 * The operators' view of prices and funding (issue 19), on the core's registry: how old each
 * perpetual's freshest index source is and whether the index is stale (read from the engine when
 * scraped), the last funding rate, and how many funding settlements this process applied (counted
 * from the FundingPaid events as they pass: one settlement = one run of them for a symbol; a
 * settlement with no open position pays nobody and is not counted).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EngineEvent, EngineQueries } from '../engine/index.ts';

const RATE_ONE = 1e8;

export class FuturesMetrics {
  readonly #settlements: Counter<'symbol'>;
  readonly #payments: Counter<'symbol'>;
  /** the symbol of the FundingPaid run the last event batch ended in (a run can span batches) */
  #runSymbol: string | undefined;

  constructor(registry: Registry, queries: () => EngineQueries | undefined, symbols: readonly string[], now: () => number = Date.now) {
    const marks = () => {
      let engine: EngineQueries | undefined;
      try {
        engine = queries();
      } catch {
        return []; // recovering: nothing to read yet
      }
      return engine === undefined ? [] : symbols.map((symbol) => ({ symbol, view: engine.markPrice(symbol) }));
    };
    const staleness = new Gauge({
      name: 'xtrader_index_staleness_seconds',
      help: "seconds since the perpetual's freshest index source was updated (the index is stale past 60)",
      labelNames: ['symbol'],
      registers: [registry],
      collect: () => {
        for (const { symbol, view } of marks()) {
          const newest = Math.max(...(view?.sources ?? []).map((source) => source.timestamp));
          if (Number.isFinite(newest)) staleness.set({ symbol }, Math.max(0, (now() - newest) / 1000));
        }
      },
    });
    const stale = new Gauge({
      name: 'xtrader_index_stale',
      help: '1 while the index price is stale (orders that open or grow a position are refused), as of the last price tick',
      labelNames: ['symbol'],
      registers: [registry],
      collect: () => {
        for (const { symbol, view } of marks()) if (view !== undefined) stale.set({ symbol }, view.indexStale === false ? 0 : 1);
      },
    });
    const rate = new Gauge({
      name: 'xtrader_funding_rate_last',
      help: 'the funding rate F of the last settlement (a fraction: 0.0001 = 0.01 %)',
      labelNames: ['symbol'],
      registers: [registry],
      collect: () => {
        for (const { symbol, view } of marks())
          if (view?.lastFundingRate1e8 !== undefined) rate.set({ symbol }, Number(view.lastFundingRate1e8) / RATE_ONE);
      },
    });
    this.#settlements = new Counter({
      name: 'xtrader_funding_settlements_total',
      help: 'funding settlements this process applied (replay at start-up included)',
      labelNames: ['symbol'],
      registers: [registry],
    });
    this.#payments = new Counter({
      name: 'xtrader_funding_payments_total',
      help: 'FundingPaid events (one per open position per settlement)',
      labelNames: ['symbol'],
      registers: [registry],
    });
  }

  readonly onEvents = (events: readonly EngineEvent[]): void => {
    for (const event of events) {
      if (event.type !== 'FundingPaid') {
        this.#runSymbol = undefined;
        continue;
      }
      if (this.#runSymbol !== event.symbol) this.#settlements.inc({ symbol: event.symbol });
      this.#runSymbol = event.symbol;
      this.#payments.inc({ symbol: event.symbol });
    }
  };
}
