/**
 * ioredis adapter of the persister's stream port (db/execution-stream.ts) — the only file in db/
 * importing ioredis. Each consumer has its own connection (XREADGROUP BLOCK holds one); an extra one
 * serves group creation, trimming and lag. Connections fail fast while Redis is away (no offline
 * queue, no reconnect of their own): the persister owns retries and back-off, and replaces a
 * consumer's connection after a failure.
 */
import { Redis } from 'ioredis';
import { REDIS_GROUP, REDIS_STREAM } from '../../contract/broker-routes.ts';
import type { ExecutionStream, GroupProgress, StreamConsumer, StreamEntry } from '../execution-stream.ts';

export interface RedisExecutionStreamOptions {
  readonly url: string;
  readonly stream?: string;
  readonly group?: string;
  /** per command; must be longer than the consumers' BLOCK (default 10,000 ms) */
  readonly commandTimeoutMs?: number;
}

type RawEntry = [id: string, fields: string[] | null];

/**
 * A lazily (re)connected client: after a failure the next command opens a new connection. Callers
 * that ask while it is connecting share that attempt (handing out the client before it is ready
 * failed their commands at once: the offline queue is off — the persister logged a warning on
 * every start).
 */
class Connection {
  #client: Redis | undefined;
  #connecting: Promise<Redis> | undefined;

  constructor(private readonly options: RedisExecutionStreamOptions) {}

  client(): Promise<Redis> {
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #open(): Promise<Redis> {
    const client = new Redis(this.options.url, {
      lazyConnect: true,
      // RESP2: the stream replies below are parsed in their RESP2 shapes (RESP3 makes XREADGROUP a map)
      protocol: 2,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      commandTimeout: this.options.commandTimeoutMs ?? 10_000,
      connectTimeout: 3_000,
    });
    client.on('error', () => {}); // surfaced by the failing command
    client.on('close', () => {
      if (this.#client === client) this.#client = undefined;
    });
    try {
      await client.connect();
    } catch (error) {
      client.disconnect(false);
      throw error;
    }
    this.#client = client;
    return client;
  }

  close(): void {
    const client = this.#client;
    this.#client = undefined;
    client?.disconnect(false);
  }

  async quit(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    await Promise.race([client.quit().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    client.disconnect(false);
  }
}

function toEntry([id, fields]: RawEntry): StreamEntry {
  if (fields === null) return { id, body: undefined, deleted: true };
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] === 'envelope') return { id, body: fields[index + 1]! };
  }
  return { id, body: undefined };
}

/** A flat [key, value, key, value…] reply as an object. */
function pairs(reply: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let index = 0; index + 1 < reply.length; index += 2) out[String(reply[index])] = reply[index + 1];
  return out;
}

class RedisStreamConsumer implements StreamConsumer {
  readonly #connection: Connection;

  constructor(
    options: RedisExecutionStreamOptions,
    private readonly stream: string,
    private readonly group: string,
    private readonly name: string,
  ) {
    this.#connection = new Connection(options);
  }

  async read(from: string, count: number, blockMs: number): Promise<StreamEntry[]> {
    const client = await this.#connection.client();
    // BLOCK 0 would wait forever: no BLOCK at all answers at once
    const block = from === '>' && blockMs > 0 ? ['BLOCK', blockMs] : [];
    const reply = (await client.call(
      'XREADGROUP',
      'GROUP',
      this.group,
      this.name,
      'COUNT',
      count,
      ...block,
      'STREAMS',
      this.stream,
      from,
    )) as [string, RawEntry[]][] | null;
    return reply?.[0]?.[1].map(toEntry) ?? [];
  }

  async claimIdle(minIdleMs: number, cursor: string, count: number): Promise<{ next: string; entries: StreamEntry[] }> {
    const client = await this.#connection.client();
    const reply = (await client.call('XAUTOCLAIM', this.stream, this.group, this.name, minIdleMs, cursor, 'COUNT', count)) as [
      string,
      RawEntry[],
      string[]?,
    ];
    // Redis 7 drops deleted entries from the pending list itself and lists their ids third.
    return { next: reply[0], entries: reply[1].map(toEntry) };
  }

  async ack(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const client = await this.#connection.client();
    await client.call('XACK', this.stream, this.group, ...ids);
  }

  close(): void {
    this.#connection.close();
  }
}

export class RedisExecutionStream implements ExecutionStream {
  readonly key: string;
  readonly group: string;
  readonly #options: RedisExecutionStreamOptions;
  readonly #admin: Connection;

  constructor(options: RedisExecutionStreamOptions) {
    this.#options = options;
    this.key = options.stream ?? REDIS_STREAM;
    this.group = options.group ?? REDIS_GROUP;
    this.#admin = new Connection(options);
  }

  async ensureGroup(): Promise<void> {
    const client = await this.#admin.client();
    try {
      // From 0, not $: entries written before the group existed are persisted too.
      await client.call('XGROUP', 'CREATE', this.key, this.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!/BUSYGROUP/.test((error as Error).message)) throw error;
    }
  }

  consumer(name: string): StreamConsumer {
    return new RedisStreamConsumer(this.#options, this.key, this.group, name);
  }

  async groups(): Promise<GroupProgress[]> {
    const client = await this.#admin.client();
    let reply: unknown[][];
    try {
      reply = (await client.call('XINFO', 'GROUPS', this.key)) as unknown[][];
    } catch (error) {
      if (/no such key/i.test((error as Error).message)) return [];
      throw error;
    }
    const groups: GroupProgress[] = [];
    for (const raw of reply) {
      const info = pairs(raw);
      const name = String(info.name);
      const pending = Number(info.pending);
      let oldestPendingId: string | undefined;
      if (pending > 0) {
        const summary = (await client.call('XPENDING', this.key, name)) as [number, string | null, string | null, unknown];
        oldestPendingId = summary[0] > 0 && summary[1] !== null ? summary[1] : undefined;
      }
      const lag = info.lag;
      groups.push({
        name,
        pending,
        lastDeliveredId: String(info['last-delivered-id']),
        undelivered: lag === null || lag === undefined ? undefined : Number(lag),
        oldestPendingId,
      });
    }
    return groups;
  }

  async trimBelow(minId: string): Promise<number> {
    const client = await this.#admin.client();
    return Number(await client.call('XTRIM', this.key, 'MINID', minId));
  }

  async firstFrom(start: string): Promise<StreamEntry | undefined> {
    const client = await this.#admin.client();
    const reply = (await client.call('XRANGE', this.key, start, '+', 'COUNT', 1)) as RawEntry[];
    return reply[0] ? toEntry(reply[0]) : undefined;
  }

  async close(): Promise<void> {
    await this.#admin.quit();
  }
}
