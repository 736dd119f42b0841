/**
 * Each publisher's cursor: the last seq its broker confirmed, and the prev_seq chain per routing
 * key at that point (so a restarted publisher sends byte-identical messages, which consumers drop
 * by seq). One small JSON file per publisher, replaced atomically (write + rename). It is not
 * fsynced: a cursor that goes back after a power cut only makes the publisher resend.
 *
 * Next to it the publisher's status (state, lag, last error) for the core's /ready and /metrics.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Cursor {
  /** last seq the broker confirmed (0 = nothing yet) */
  readonly seq: number;
  /** routing key → seq of the last envelope published under it, up to `seq` */
  readonly chains: Readonly<Record<string, number>>;
}

export type PublisherState = 'up' | 'retrying' | 'down';

export interface PublisherStatus {
  readonly name: string;
  readonly state: PublisherState;
  readonly confirmed_seq: number;
  /** ms since the oldest event not yet confirmed was written (0 when caught up) */
  readonly lag_ms: number;
  readonly last_error: string | null;
  readonly last_error_at: number | null;
  /** batches sent again after a failure or a timeout */
  readonly resends: number;
  readonly published_envelopes: number;
  readonly rss_bytes: number;
  readonly pid: number;
  readonly updated_at: number;
}

export const cursorDirOf = (eventLogDir: string): string => path.join(eventLogDir, 'cursors');

function replaceFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined; // missing, or torn by a crash: same as never written
  }
}

export class CursorStore {
  readonly #dir: string;

  constructor(eventLogDir: string) {
    this.#dir = cursorDirOf(eventLogDir);
  }

  load(name: string): Cursor {
    const value = readJson(path.join(this.#dir, `${name}.cursor.json`)) as Partial<Cursor> | undefined;
    if (!value || !Number.isSafeInteger(value.seq) || (value.seq as number) < 0) return { seq: 0, chains: {} };
    const chains: Record<string, number> = {};
    for (const [key, seq] of Object.entries(value.chains ?? {})) if (Number.isSafeInteger(seq)) chains[key] = seq;
    return { seq: value.seq as number, chains };
  }

  save(name: string, cursor: Cursor): void {
    replaceFile(path.join(this.#dir, `${name}.cursor.json`), JSON.stringify(cursor));
  }

  saveStatus(status: PublisherStatus): void {
    replaceFile(path.join(this.#dir, `${status.name}.status.json`), JSON.stringify(status));
  }

  status(name: string): PublisherStatus | undefined {
    return readJson(path.join(this.#dir, `${name}.status.json`)) as PublisherStatus | undefined;
  }
}
