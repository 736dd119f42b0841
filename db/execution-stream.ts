/**
 * The Redis Stream commands the persister uses, as a port (adapter: db/adapters/redis-execution-stream.ts,
 * the only file in db/ that imports ioredis). Entry ids are `{seq}-0` (ARCHITECTURE.md "Broker layout").
 */

/** One stream entry; `body` is its `envelope` field, undefined when the entry has none or was deleted. */
export interface StreamEntry {
  readonly id: string;
  readonly body: string | undefined;
  /** the entry was removed from the stream while still pending (only its id is left) */
  readonly deleted?: boolean;
}

/** One consumer group's progress (XINFO GROUPS, plus XPENDING's smallest id when it has pending entries). */
export interface GroupProgress {
  readonly name: string;
  /** delivered to a consumer, not acknowledged yet */
  readonly pending: number;
  readonly lastDeliveredId: string;
  /** entries not delivered yet (XINFO GROUPS `lag`); undefined when Redis cannot tell */
  readonly undelivered: number | undefined;
  /** the smallest pending id, read after the counts; undefined when nothing was pending by then */
  readonly oldestPendingId: string | undefined;
}

/** One named consumer of the group, on its own connection (XREADGROUP BLOCK holds it). */
export interface StreamConsumer {
  /** XREADGROUP … STREAMS stream `from`: `>` for new entries (waits up to blockMs; 0 = answer at once), an id for this consumer's own pending entries after it */
  read(from: string, count: number, blockMs: number): Promise<StreamEntry[]>;
  /** XAUTOCLAIM: entries pending longer than minIdleMs, for any consumer, become this one's; `next` is 0-0 once the scan is through */
  claimIdle(minIdleMs: number, cursor: string, count: number): Promise<{ next: string; entries: StreamEntry[] }>;
  ack(ids: readonly string[]): Promise<void>;
  /** drops the connection at once (a blocked read fails) */
  close(): void;
}

export interface ExecutionStream {
  /** the stream's key, recorded with dead letters */
  readonly key: string;
  readonly group: string;
  /** XGROUP CREATE … 0 MKSTREAM; a group that exists already is fine */
  ensureGroup(): Promise<void>;
  consumer(name: string): StreamConsumer;
  /** every group of the stream (ours and any other), for trimming and lag */
  groups(): Promise<GroupProgress[]>;
  /** XTRIM MINID: removes the entries with an id below `minId`; returns how many */
  trimBelow(minId: string): Promise<number>;
  /** the first entry at or after `start` (an id, or `(id` for strictly after), undefined if none */
  firstFrom(start: string): Promise<StreamEntry | undefined>;
  close(): Promise<void>;
}

/** Stream ids are `ms-seq` pairs of integers; compared as such, not as text. */
export function compareStreamIds(a: string, b: string): number {
  const [aHigh, aLow] = splitId(a);
  const [bHigh, bLow] = splitId(b);
  if (aHigh !== bHigh) return aHigh < bHigh ? -1 : 1;
  if (aLow !== bLow) return aLow < bLow ? -1 : 1;
  return 0;
}

/** The smallest id greater than `id`. */
export function nextStreamId(id: string): string {
  const [high, low] = splitId(id);
  return `${high}-${low + 1n}`;
}

function splitId(id: string): [bigint, bigint] {
  const match = /^(\d+)-(\d+)$/.exec(id);
  if (!match) throw new Error(`not a stream id: ${id}`);
  return [BigInt(match[1]!), BigInt(match[2]!)];
}

/**
 * The id below which every group of the stream has acknowledged everything: XTRIM MINID may remove
 * what lies below it. A group with pending entries holds the stream at its oldest pending one; a
 * group with none, just after its last-delivered id (what it has not read stays). Undefined — trim
 * nothing this time — when there are no groups, or a group had pending entries whose smallest id
 * could not be read (they were acknowledged in between: the next round will see).
 */
export function trimThreshold(groups: readonly GroupProgress[]): string | undefined {
  let threshold: string | undefined;
  for (const group of groups) {
    let candidate: string;
    if (group.pending > 0) {
      if (group.oldestPendingId === undefined) return undefined;
      candidate = group.oldestPendingId;
    } else {
      candidate = nextStreamId(group.lastDeliveredId);
    }
    if (threshold === undefined || compareStreamIds(candidate, threshold) < 0) threshold = candidate;
  }
  return threshold;
}
