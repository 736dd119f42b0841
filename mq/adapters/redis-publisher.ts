/**
 * Redis adapter: one `XADD executions {seq}-0 envelope <json>` per envelope. A batch travels as one
 * EVALSHA of a small script that runs the XADDs inside Redis: one command per batch instead of one
 * per envelope (ioredis spends ~5 µs of client CPU on each command it builds and parses; measured
 * with bench:fanout). A resend of an id the stream already has is refused by Redis ("equal or
 * smaller than the target stream top item") — the script counts those as the duplicates we expect,
 * not errors and not second entries.
 *
 * Redis keeps the stream in AOF with fsync every second, so a Redis killed hard can come back
 * without the last second of entries it had confirmed. After every (re)connect the adapter reads
 * the stream's last-generated-id; if it is behind what this publisher sent, it asks the loop to
 * resend from there (RewindRequired).
 *
 * The other way round is refused: a stream that holds seqs beyond the batch being sent may be a
 * resend after a crash (the cursor is saved at most every 50 ms, so several confirmed batches can
 * be sent again) — or another exchange's: another DATA_DIR whose journal started again at seq 1 on
 * the same brokers and namespace, whose "duplicates" would be this exchange's events dropped in
 * silence. Told apart by the entry at this batch's first seq: the same event (type and engine
 * timestamp) is a resend; another is another exchange's. When that entry is gone (the persister
 * trims what it has committed), a stream ahead of everything this exchange's event log holds
 * (`logEnd`) is another exchange's. Then the publish fails with ForeignStreamError, /ready says
 * so, and it is retried until an operator gives this exchange its own BROKER_NAMESPACE or removes
 * the stream.
 */
import { Redis } from 'ioredis';
import type { Envelope } from '../../contract/envelopes.ts';
import { REDIS_STREAM, routesOf } from '../../contract/broker-routes.ts';
import type { BrokerPublisher } from '../publisher.ts';
import { RewindRequired } from '../retry.ts';

export interface RedisPublisherOptions {
  readonly url: string;
  readonly stream?: string;
  readonly commandTimeoutMs?: number;
  /** the last seq this exchange's event log holds (ops/publisher.ts reads it from the log) */
  readonly logEnd?: () => number;
}

/** KEYS[1] = stream; ARGV = id, envelope, id, envelope, …; returns the number of duplicates skipped */
const XADD_BATCH = `
local duplicates = 0
for i = 1, #ARGV, 2 do
  local reply = redis.pcall('XADD', KEYS[1], ARGV[i], 'envelope', ARGV[i + 1])
  if type(reply) == 'table' and reply.err then
    if string.find(reply.err, 'equal or smaller', 1, true) then duplicates = duplicates + 1 else return redis.error_reply(reply.err) end
  end
end
return duplicates`;

/** The stream holds seqs this exchange never sent: it is another exchange's (see the file comment). */
export class ForeignStreamError extends Error {
  constructor(stream: string, held: number, sending: number) {
    super(
      `stream ${stream} already holds seqs up to ${held}, and not this exchange's (whose log ends at ${sending}): it belongs to another exchange (another DATA_DIR on the same brokers) — ` +
        'give this one its own BROKER_NAMESPACE (and DATABASE_URL), or delete the stream if that exchange is gone; nothing is published until then',
    );
    this.name = 'ForeignStreamError';
  }
}

type BatchingRedis = Redis & { xaddBatch(stream: string, ...args: string[]): Promise<number> };

export class RedisPublisher implements BrokerPublisher {
  readonly name = 'redis' as const;
  readonly skipEventTypes = ['BookDelta', 'Ticker'] as const;
  readonly #options: RedisPublisherOptions;
  readonly #stream: string;
  #client: BatchingRedis | undefined;
  /** set on every new connection: check the stream did not lose what we sent */
  #checkHeld = true;
  duplicates = 0;

  constructor(options: RedisPublisherOptions) {
    this.#options = options;
    this.#stream = options.stream ?? REDIS_STREAM;
  }

  chainKey(envelope: Envelope): string | undefined {
    return routesOf(envelope).redis ? 'stream' : undefined;
  }

  async publish(envelopes: readonly Envelope[]): Promise<void> {
    const client = await this.#connected();
    if (this.#checkHeld) {
      const held = await this.#lastGeneratedSeq(client);
      const expected = envelopes[0]!.prev_seq;
      if (held < expected)
        throw new RewindRequired(held, `stream ${this.#stream} ends at seq ${held} but ${expected} was confirmed (Redis lost data)`);
      const sending = envelopes[envelopes.length - 1]!.seq;
      if (held > sending && (await this.#heldByAnother(client, envelopes[0]!, held)))
        throw new ForeignStreamError(this.#stream, held, this.#options.logEnd?.() ?? sending);
      this.#checkHeld = false;
    }
    const args: string[] = new Array(envelopes.length * 2);
    for (let index = 0; index < envelopes.length; index++) {
      const envelope = envelopes[index]!;
      args[index * 2] = `${envelope.seq}-0`;
      args[index * 2 + 1] = JSON.stringify(envelope);
    }
    this.duplicates += await client.xaddBatch(this.#stream, ...args);
  }

  reset(): void {
    const client = this.#client;
    this.#client = undefined;
    this.#checkHeld = true;
    client?.disconnect(false);
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    await Promise.race([client.quit().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1_000))]);
    client.disconnect(false);
  }

  async #connected(): Promise<BatchingRedis> {
    if (this.#client) return this.#client;
    const client = new Redis(this.#options.url, {
      lazyConnect: true,
      // fail fast while disconnected: the loop owns retries and back-off
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      commandTimeout: this.#options.commandTimeoutMs ?? 5_000,
      connectTimeout: 3_000,
    });
    client.defineCommand('xaddBatch', { numberOfKeys: 1, lua: XADD_BATCH });
    client.on('error', () => {}); // surfaced by the failing command
    client.on('close', () => {
      if (this.#client === client) this.reset();
    });
    this.#client = client as BatchingRedis;
    this.#checkHeld = true;
    try {
      await client.connect();
    } catch (error) {
      this.reset();
      throw error;
    }
    return client as BatchingRedis;
  }

  /** true when the stream's entries beyond this batch are not this exchange's (see the file comment) */
  async #heldByAnother(client: Redis, first: Envelope, held: number): Promise<boolean> {
    const entries = (await client.xrange(this.#stream, `${first.seq}-0`, `${first.seq}-0`)) as Array<[string, string[]]>;
    const stored = entries[0]?.[1]?.[1];
    if (stored !== undefined) {
      // the same event: same type and engine timestamp at that seq (fields a later build may encode differently are not compared)
      let entry: { type?: unknown; seq?: unknown; timestamp?: unknown } = {};
      try {
        entry = JSON.parse(stored) as typeof entry;
      } catch {
        return true;
      }
      return entry.type !== first.type || entry.seq !== first.seq || entry.timestamp !== first.timestamp;
    }
    return this.#options.logEnd !== undefined && held > this.#options.logEnd();
  }

  async #lastGeneratedSeq(client: Redis): Promise<number> {
    try {
      const info = (await client.xinfo('STREAM', this.#stream)) as unknown[];
      const index = info.indexOf('last-generated-id');
      const id = String(info[index + 1] ?? '0-0');
      return Number(id.split('-')[0]);
    } catch (error) {
      if (/no such key/i.test((error as Error).message)) return 0;
      throw error;
    }
  }
}
