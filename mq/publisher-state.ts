/**
 * A publisher's lifecycle as a transition table (STYLE.md §12): `up` while its broker confirms,
 * `retrying` after a failure, `down` once failures have lasted `downAfterMs`; any confirmation
 * brings it back `up`. Illegal moves throw: they are bugs, not states.
 */
import type { PublisherState } from './event-log/cursor-store.ts';

export type PublisherSignal = 'confirmed' | 'failed' | 'failing-long';

const TRANSITIONS: Readonly<Record<PublisherState, Partial<Record<PublisherSignal, PublisherState>>>> = {
  up: { confirmed: 'up', failed: 'retrying' },
  retrying: { confirmed: 'up', failed: 'retrying', 'failing-long': 'down' },
  down: { confirmed: 'up', failed: 'down', 'failing-long': 'down' },
};

export function nextState(state: PublisherState, signal: PublisherSignal): PublisherState {
  const next = TRANSITIONS[state][signal];
  if (next === undefined) throw new Error(`publisher state ${state} does not take ${signal}`);
  return next;
}

export class PublisherLifecycle {
  #state: PublisherState = 'up';
  #failingSince: number | undefined;

  constructor(
    private readonly downAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): PublisherState {
    return this.#state;
  }

  confirmed(): void {
    this.#state = nextState(this.#state, 'confirmed');
    this.#failingSince = undefined;
  }

  failed(): void {
    this.#failingSince ??= this.now();
    this.#state = nextState(this.#state, 'failed');
    if (this.now() - this.#failingSince >= this.downAfterMs) this.#state = nextState(this.#state, 'failing-long');
  }
}
