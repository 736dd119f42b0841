/**
 * What a stop signal means to a process that stops its children gracefully (ops/start.ts).
 *
 * A Ctrl-C in a terminal reaches the supervisor twice within a millisecond or so: the terminal
 * sends SIGINT to the whole foreground process group (npm and the supervisor), and npm forwards
 * the SIGINT it got to its child as well. Taking that echo as the operator's "second Ctrl-C: don't
 * wait" skipped the graceful stop (exit 130, no SIGKILL fallback). So a repeat counts as "exit
 * now" only once `echoMs` have passed since the first signal.
 */
export type SignalVerdict = 'stop' | 'ignore' | 'exit-now';

export class ShutdownSignals {
  #firstAt: number | undefined;

  constructor(private readonly echoMs = 1_000) {}

  /** The verdict for a signal received at `now` (ms). */
  receive(now: number): SignalVerdict {
    if (this.#firstAt === undefined) {
      this.#firstAt = now;
      return 'stop';
    }
    return now - this.#firstAt < this.echoMs ? 'ignore' : 'exit-now';
  }

  get stopping(): boolean {
    return this.#firstAt !== undefined;
  }
}
