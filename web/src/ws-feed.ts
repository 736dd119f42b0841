/**
 * The WebSocket side (ARCHITECTURE.md "WebSocket"): one connection to one of the configured
 * ws-server instances, the next one after a drop (any instance serves any client). Public channels
 * of the selected market; after login, `auth` then `executions`, resumed from the last report's seq
 * so nothing is lost or repeated across a reconnect. Books go through OrderBook: a gap or a
 * checksum mismatch unsubscribes and subscribes the book channel again, for a fresh snapshot.
 */
import type { Signer } from './api.ts';
import { OrderBook, type BookFrame } from './book.ts';
import { RecentSeqs } from './recent-seqs.ts';
import type { ExecutionFrame, Ticker, Trade } from './types.ts';

export interface FeedHandlers {
  onConnection(state: 'connecting' | 'live' | 'offline', url: string): void;
  onBook(book: OrderBook, verified: boolean, resyncs: number): void;
  onTrades(symbol: string, trades: Trade[]): void;
  onTicker(ticker: Ticker): void;
  onExecution(frame: ExecutionFrame): void;
  onAuth(ok: boolean, code?: string, message?: string): void;
  /** a reconnect or resume that could not replay: REST history should be read again */
  onResync(): void;
}

type Frame = { type: string; [key: string]: unknown };

const RETRY_MS = [250, 1_000, 2_000, 5_000];

export class WsFeed {
  #socket: WebSocket | undefined;
  #urlIndex = Math.floor(Math.random() * 1_000);
  #attempt = 0;
  #symbol: string | undefined;
  #book: OrderBook | undefined;
  #resyncs = 0;
  #signer: Signer | undefined;
  #lastExecutionSeq: number | undefined;
  /** seqs of the reports handled lately: a repeat is dropped by its seq, not by being ≤ the highest (a report filled in from the server's history after a feed hole comes after later ones) */
  readonly #seenExecutions = new RecentSeqs(10_000);
  #stopped = false;
  #requestId = 0;
  #pinger: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly urls: readonly string[],
    private readonly handlers: FeedHandlers,
  ) {}

  start(): void {
    this.#connect();
  }

  /** Follows another market: the old one's channels are left, the new one's joined. */
  setSymbol(symbol: string): void {
    if (symbol === this.#symbol) return;
    const previous = this.#symbol;
    this.#symbol = symbol;
    this.#book = new OrderBook(symbol);
    this.#resyncs = 0;
    if (previous) this.#send({ op: 'unsubscribe', channels: channelsOf(previous) });
    this.#send({ op: 'subscribe', channels: channelsOf(symbol) });
  }

  /** the live book's symbol_seq (−1 while it is not synced) */
  get bookSeq(): number {
    return this.#book?.symbolSeq ?? -1;
  }

  /** Leaves this server for the next one (its feed fell behind): the usual reconnect, resume included. */
  switchServer(): void {
    this.#socket?.close(1000, 'feed behind the exchange');
  }

  /** Logs the connection in (and in again after every reconnect); undefined logs out by reconnecting. */
  setSigner(signer: Signer | undefined): void {
    this.#signer = signer;
    this.#lastExecutionSeq = undefined;
    this.#seenExecutions.clear();
    if (signer) void this.#auth();
    else this.#socket?.close(1000, 'logged out');
  }

  #connect(): void {
    if (this.#stopped || this.urls.length === 0) return;
    const url = this.urls[this.#urlIndex % this.urls.length]!;
    this.handlers.onConnection('connecting', url);
    const socket = new WebSocket(url);
    this.#socket = socket;
    socket.onopen = () => {
      this.#attempt = 0;
      this.handlers.onConnection('live', url);
      if (this.#symbol) {
        this.#book = new OrderBook(this.#symbol);
        this.#send({ op: 'subscribe', channels: channelsOf(this.#symbol) });
      }
      if (this.#signer) void this.#auth();
      this.#pinger = setInterval(() => this.#send({ op: 'ping' }), 20_000);
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      let frame: Frame;
      try {
        frame = JSON.parse(event.data) as Frame;
      } catch {
        return;
      }
      this.#receive(frame);
    };
    socket.onclose = () => {
      clearInterval(this.#pinger);
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.handlers.onConnection('offline', url);
      // the next instance, after a pause that grows with each failure in a row
      this.#urlIndex++;
      const delay = RETRY_MS[Math.min(this.#attempt++, RETRY_MS.length - 1)]!;
      setTimeout(() => this.#connect(), delay);
    };
  }

  async #auth(): Promise<void> {
    const signer = this.#signer;
    if (!signer || this.#socket?.readyState !== WebSocket.OPEN) return;
    const timestamp = signer.nextTimestamp();
    const signature = await signer.sign(`${timestamp}GET/ws`);
    this.#send({ op: 'auth', api_key: signer.apiKey, timestamp, signature, id: ++this.#requestId });
  }

  #receive(frame: Frame): void {
    switch (frame.type) {
      case 'OrderBook':
        return this.#onBook(frame as unknown as BookFrame);
      case 'Trades':
        return this.handlers.onTrades(String(frame.symbol), ((frame.trades as Trade[]) ?? []).slice());
      case 'Ticker':
        return this.handlers.onTicker(frame as unknown as Ticker);
      case 'Execution': {
        const execution = frame as unknown as ExecutionFrame;
        if (!this.#seenExecutions.add(execution.seq)) return; // a repeat
        this.#lastExecutionSeq = Math.max(this.#lastExecutionSeq ?? 0, execution.seq);
        return this.handlers.onExecution(execution);
      }
      case 'auth':
        this.handlers.onAuth(true);
        // after a reconnect the reports missed meanwhile come first (each once), then live ones
        this.#send({
          op: 'subscribe',
          channels: ['executions'],
          ...(this.#lastExecutionSeq !== undefined ? { resume_from_seq: this.#lastExecutionSeq } : {}),
        });
        return;
      case 'error': {
        const code = String(frame.code ?? '');
        if (['INVALID_API_KEY', 'INVALID_SIGNATURE', 'STALE_TIMESTAMP', 'REPLAYED_SIGNATURE', 'TOO_MANY_CONNECTIONS'].includes(code)) {
          this.handlers.onAuth(false, code, String(frame.message ?? ''));
        } else if (code === 'RESUME_UNAVAILABLE') {
          setTimeout(() => this.#send({ op: 'subscribe', channels: ['executions'], resume_from_seq: this.#lastExecutionSeq }), 1_000);
        } else if (code === 'RESUME_TOO_FAR') {
          this.#lastExecutionSeq = undefined;
          this.#send({ op: 'subscribe', channels: ['executions'] });
          this.handlers.onResync();
        }
        return;
      }
      default:
        return;
    }
  }

  #onBook(frame: BookFrame): void {
    const book = this.#book;
    if (!book || frame.symbol !== book.symbol) return;
    if (!frame.snapshot && !book.synced) return; // waiting for the snapshot asked for
    const outcome = book.apply(frame);
    if (outcome !== 'ok') {
      this.#resyncs++;
      const channel = `orderbook.${book.symbol}`;
      this.#send({ op: 'unsubscribe', channels: [channel] });
      this.#send({ op: 'subscribe', channels: [channel] });
    }
    this.handlers.onBook(book, outcome === 'ok', this.#resyncs);
  }

  #send(frame: Record<string, unknown>): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(frame));
  }
}

function channelsOf(symbol: string): string[] {
  return [`orderbook.${symbol}`, `trades.${symbol}`, `ticker.${symbol}`];
}
