/**
 * The page's one store: plain state, replaced field by field, and listeners per field. Panels read
 * the state and re-render when a field they listen to changes (at most once per animation frame).
 */
import type { Level } from './book.ts';
import type { Balance, ExecutionFrame, Fill, Market, Order, Ticker, Trade } from './types.ts';

export type Connection = 'connecting' | 'live' | 'offline';

export interface BookView {
  readonly symbol: string;
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
  /** the last update's checksum matched */
  readonly verified: boolean;
  /** fresh snapshots asked for after a gap or a checksum mismatch */
  readonly resyncs: number;
  readonly symbolSeq: number;
}

export interface Notice {
  readonly kind: 'ok' | 'error' | 'info';
  readonly text: string;
  readonly at: number;
}

export interface State {
  markets: readonly Market[];
  symbol: string;
  interval: string;
  ticker: Ticker | undefined;
  book: BookView | undefined;
  trades: readonly Trade[];
  /** set once logged in: the key (never the secret) */
  session: { apiKey: string } | undefined;
  connection: Connection;
  wsUrl: string;
  authenticated: boolean;
  balances: readonly Balance[];
  openOrders: readonly Order[];
  history: readonly Order[];
  fills: readonly Fill[];
  executions: readonly ExecutionFrame[];
  notice: Notice | undefined;
}

type Listener = () => void;

export class Store {
  #state: State;
  readonly #listeners = new Map<keyof State, Set<Listener>>();
  readonly #due = new Set<Listener>();
  #scheduled = false;

  constructor(initial: State) {
    this.#state = initial;
  }

  get state(): Readonly<State> {
    return this.#state;
  }

  set(patch: Partial<State>): void {
    this.#state = { ...this.#state, ...patch };
    for (const key of Object.keys(patch) as (keyof State)[]) for (const listener of this.#listeners.get(key) ?? []) this.#due.add(listener);
    if (!this.#scheduled && this.#due.size > 0) {
      this.#scheduled = true;
      requestAnimationFrame(() => this.#flush());
    }
  }

  /** Calls `listener` now and after every change of one of `keys`. */
  watch(keys: readonly (keyof State)[], listener: Listener): void {
    for (const key of keys) {
      let set = this.#listeners.get(key);
      if (!set) this.#listeners.set(key, (set = new Set()));
      set.add(listener);
    }
    listener();
  }

  #flush(): void {
    this.#scheduled = false;
    const due = [...this.#due];
    this.#due.clear();
    for (const listener of due) listener();
  }
}
