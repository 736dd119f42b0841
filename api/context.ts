import type { Logger } from 'pino';
import type { EngineConfig } from '../engine/index.ts';
import type { CommandInput, EngineQueries, SubmitResult } from '../sequencer/index.ts';
import type { CandlePort } from '../contract/ports/candles.ts';
import type { CredentialStore } from './credentials.ts';
import type { EventFeed } from './event-feed.ts';
import type { HistoryPort } from '../contract/ports/history.ts';
import type { ApiMetrics } from './metrics.ts';
import type { RateLimits } from './rate-limit.ts';

export type ServiceState = 'up' | 'down';

/** What the API needs from the sequencer (a `Sequencer` from sequencer/ fits). */
export interface SequencerPort {
  readonly ready: boolean;
  /** the engine's read side (no apply, no mutation); throws SequencerNotReadyError before recovery finished */
  readonly queries: EngineQueries;
  readonly lastSeq: number;
  readonly pending: number;
  readonly maxPending: number;
  submit(command: CommandInput): Promise<SubmitResult>;
}

/** One file of the trading page (web/dist), held in memory. */
export interface WebAsset {
  readonly body: Uint8Array;
  /** the same bytes gzip'ed, answered to clients that accept it */
  readonly gzip?: Uint8Array;
  readonly contentType: string;
  readonly etag: string;
}

/** The trading page the core serves at `/` (api/routes-web.ts). */
export interface WebPage {
  /** by file name: index.html, app.js, app.css (empty when the bundle is not built) */
  readonly assets: ReadonlyMap<string, WebAsset>;
  /** WebSocket URLs the page connects to: its /web/config.json and its CSP's connect-src */
  readonly wsUrls: readonly string[];
}

export interface ApiDeps {
  readonly sequencer: SequencerPort;
  readonly engineConfig: EngineConfig;
  readonly credentials: Pick<CredentialStore, 'cached' | 'lookup' | 'createUser' | 'userExists'>;
  /** the same instance the sequencer's event sink feeds */
  readonly feed: EventFeed;
  readonly metrics: ApiMetrics;
  readonly adminToken: string;
  readonly rateLimits: RateLimits;
  /** broker states for /health and /ready */
  readonly probeServices?: () => Promise<Record<string, ServiceState>>;
  /** publisher states and lags for /ready */
  readonly publishers?: () => Record<string, unknown>;
  /** PostgreSQL reads (db/history-store.ts): orders no longer in memory, order history, fills, older trades; without it those answer from memory or 503 */
  readonly history?: HistoryPort;
  /** candles the market-data service builds (db/candles/candle-store.ts); without it GET /v1/candles answers 503 */
  readonly candles?: CandlePort;
  /** true when a publisher is not up or far behind: /ready answers `degraded` (still 200) */
  readonly degraded?: () => boolean;
  /** the persister's lag for /ready (null while it does not answer) */
  readonly persister?: () => Record<string, unknown> | null;
  /** the event log's figures for /ready (last seq, bytes, bound) */
  readonly eventLog?: () => Record<string, unknown>;
  /** an extra readiness gate on top of the sequencer's (e.g. indexes rebuilt after recovery) */
  readonly ready?: () => boolean;
  /** extra facts for /ready (e.g. recovery figures) */
  readonly recoveryInfo?: () => unknown;
  /** the trading page; without it `/` is 404 */
  readonly web?: WebPage;
  readonly logger?: Logger;
  /** ms clock; default Date.now */
  readonly now?: () => number;
  /** accepted |server clock − X-TIMESTAMP|; default 60,000 ms */
  readonly signatureWindowMs?: number;
  /** bound of the replayed-signature cache; default 4,000,000 */
  readonly replayCacheEntries?: number;
}

export type AppEnv = {
  Variables: {
    userId: number;
    apiKey: string;
    body: string;
  };
};
