/**
 * The `positions` channel's live feed (ioredis): reads the Redis stream `executions` from its end
 * with a blocking XREAD, no consumer group (each ws-server instance reads it whole, nothing to
 * acknowledge), and hands the hub the envelopes of the types it asks for, in seq order. Entries of
 * other types are skipped by a substring test before any JSON parse; they only move the mark.
 *
 * Redis lost: it reconnects with back-off and reads on from the last id it read — the entries the
 * persister trimmed meanwhile are gone from the stream, so the hub is told (`onResumed`) and sweeps
 * its subscribers from the history.
 */
import { Redis } from 'ioredis';
import { backoffDelay } from '../../lib/backoff.ts';
import type { Envelope } from '../../contract/envelopes.ts';

export interface StreamTailOptions {
  readonly url: string;
  readonly stream: string;
  /** type strings kept ("PositionChanged", …) */
  readonly types: ReadonlySet<string>;
  /** XREAD BLOCK (default 2,000 ms): bounds how long a close waits */
  readonly blockMs?: number;
  readonly count?: number;
}

export interface StreamTailHandler {
  /** kept envelopes of one read, seq order; `throughSeq`: the last entry read (of any type) */
  onEntries(envelopes: readonly Envelope[], throughSeq: number): void;
  /** reading again after an error; entries after `afterSeq` may have been trimmed unread */
  onResumed(afterSeq: number): void;
  onError(error: unknown): void;
}

type XReadReply = [stream: string, entries: [id: string, fields: string[]][]][] | null;

export class RedisStreamTail {
  state: 'starting' | 'up' | 'down' = 'starting';
  entries = 0;
  readonly #options: StreamTailOptions;
  readonly #handler: StreamTailHandler;
  readonly #marks: string[];
  #redis: Redis | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(options: StreamTailOptions, handler: StreamTailHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#marks = [...options.types].map((type) => `"type":"${type}"`);
  }

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    let lastId: string | undefined;
    let failures = 0;
    while (!this.#stopped) {
      try {
        const redis = this.#client();
        // from the stream's end at the start; from the last entry read after an outage
        lastId ??= await this.#lastGeneratedId(redis);
        if (failures > 0) this.#handler.onResumed(Number(lastId.split('-')[0]));
        failures = 0;
        this.state = 'up';
        const reply = (await redis.call(
          'XREAD',
          'COUNT',
          this.#options.count ?? 1_000,
          'BLOCK',
          this.#options.blockMs ?? 2_000,
          'STREAMS',
          this.#options.stream,
          lastId,
        )) as XReadReply;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) continue;
        const kept: Envelope[] = [];
        for (const [, fields] of entries) {
          const json = fields[1];
          if (json === undefined || !this.#marks.some((mark) => json.includes(mark))) continue;
          try {
            kept.push(JSON.parse(json) as Envelope);
          } catch {
            // not JSON: the persister dead-letters it; nothing to push
          }
        }
        lastId = entries.at(-1)![0];
        this.entries += entries.length;
        this.#handler.onEntries(kept, Number(lastId.split('-')[0]));
      } catch (error) {
        if (this.#stopped) return;
        this.state = 'down';
        this.#handler.onError(error);
        failures++;
        this.#redis?.disconnect();
        this.#redis = undefined;
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(failures - 1, { initialMs: 100, maxMs: 5_000, maxExponent: 20 })));
      }
    }
  }

  async #lastGeneratedId(redis: Redis): Promise<string> {
    try {
      const info = (await redis.call('XINFO', 'STREAM', this.#options.stream)) as unknown[];
      const at = info.indexOf('last-generated-id');
      return at >= 0 ? String(info[at + 1]) : '0-0';
    } catch (error) {
      if (/no such key/i.test((error as Error).message)) return '0-0';
      throw error;
    }
  }

  #client(): Redis {
    this.#redis ??= (() => {
      const client = new Redis(this.#options.url, { lazyConnect: false, protocol: 2, maxRetriesPerRequest: 1, connectTimeout: 3_000 });
      client.on('error', () => {});
      return client;
    })();
    return this.#redis;
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#redis?.disconnect();
    await this.#loop;
    this.#redis = undefined;
  }
}
