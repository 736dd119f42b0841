import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SequencerObserver } from '../sequencer/index.ts';

/** What the core reads from its engine for the liquidation metrics. */
export interface LiquidationSample {
  readonly stages: Readonly<Record<'book' | 'insurance' | 'adl', number>>;
  readonly adlFills: number;
  readonly funds: ReadonlyMap<string, bigint>;
}

const LATENCY_BUCKETS = [0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** The core's Prometheus metrics on a registry of its own (tests can build several apps). */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly ackSeconds = new Histogram({
    name: 'xtrader_order_ack_seconds',
    help: 'POST /v1/order and DELETE /v1/order/{id}: from request handled to ack (journal fsync + engine apply included)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  /** read at scrape time from `queueDepthSource` when set (see watchQueueDepth), else the last batch's sample */
  #queueDepthSource: (() => number) | undefined;
  readonly queueDepth = new Gauge({
    name: 'xtrader_sequencer_queue_depth',
    help: 'commands queued or being written in the sequencer, read when scraped',
    registers: [this.registry],
    collect: () => {
      if (this.#queueDepthSource) this.queueDepth.set(this.#queueDepthSource());
    },
  });
  readonly fsyncSeconds = new Histogram({
    name: 'xtrader_journal_batch_write_fsync_seconds',
    help: 'journal group commit: write + fdatasync time per batch',
    buckets: [0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'xtrader_journal_batch_commands',
    help: 'commands per journal group commit',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 8192],
    registers: [this.registry],
  });
  readonly engineSeconds = new Histogram({
    name: 'xtrader_engine_apply_seconds',
    help: 'engine time per command',
    buckets: [0.000001, 0.000002, 0.000005, 0.00001, 0.00002, 0.00005, 0.0001, 0.001, 0.01],
    registers: [this.registry],
  });
  readonly snapshots = new Counter({ name: 'xtrader_snapshots_total', help: 'engine snapshots written', registers: [this.registry] });
  readonly errors = new Counter({
    name: 'xtrader_http_errors_total',
    help: 'HTTP error answers by status and error word',
    labelNames: ['status', 'error'],
    registers: [this.registry],
  });

  /** read at scrape time (see watchLiquidations) */
  #liquidationSource: (() => LiquidationSample | undefined) | undefined;
  readonly liquidations = new Gauge({
    name: 'xtrader_liquidations',
    help: 'liquidation stages run (Liquidation events) by stage (book, insurance, adl) since the engine started, replay included; read when scraped',
    labelNames: ['stage'],
    registers: [this.registry],
    collect: () => {
      const sample = this.#liquidationSource?.();
      if (sample) for (const [stage, count] of Object.entries(sample.stages)) this.liquidations.set({ stage }, count);
    },
  });
  readonly adlFills = new Gauge({
    name: 'xtrader_adl_fills',
    help: 'auto-deleveraging fills since the engine started, replay included; read when scraped',
    registers: [this.registry],
    collect: () => {
      const sample = this.#liquidationSource?.();
      if (sample) this.adlFills.set(sample.adlFills);
    },
  });
  readonly insuranceFund = new Gauge({
    name: 'xtrader_insurance_fund',
    help: 'insurance fund balance by settlement asset (minor units); read when scraped',
    labelNames: ['asset'],
    registers: [this.registry],
    collect: () => {
      const sample = this.#liquidationSource?.();
      if (sample) for (const [asset, balance] of sample.funds) this.insuranceFund.set({ asset }, Number(balance));
    },
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Reads the queue depth when scraped. The batch-start sample alone went stale: with the queue
   * empty the gauge kept the depth of the last batch (e.g. 7) until the next one.
   */
  watchQueueDepth(source: () => number): void {
    this.#queueDepthSource = source;
  }

  /** The liquidation figures, read from the engine when scraped. */
  watchLiquidations(source: () => LiquidationSample | undefined): void {
    this.#liquidationSource = source;
  }

  /** Hooks for the sequencer (SequencerOptions.observer); onWarning etc. are added by the caller. */
  sequencerObserver(): Pick<SequencerObserver, 'onBatch' | 'onApply' | 'onQueueDepth' | 'onSnapshot'> {
    return {
      onBatch: (size, _bytes, fsyncMs) => {
        this.fsyncSeconds.observe(fsyncMs / 1000);
        this.batchSize.observe(size);
      },
      onApply: (nanoseconds) => this.engineSeconds.observe(nanoseconds / 1e9),
      onQueueDepth: (depth) => this.queueDepth.set(depth),
      onSnapshot: () => this.snapshots.inc(),
    };
  }
}
