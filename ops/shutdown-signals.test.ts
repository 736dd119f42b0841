import { describe, expect, it } from 'vitest';
import { ShutdownSignals } from './shutdown-signals.ts';

describe('ShutdownSignals', () => {
  it('stops on the first signal, ignores its echo, exits at once on a real second one', () => {
    const signals = new ShutdownSignals(1_000);
    expect(signals.stopping).toBe(false);
    expect(signals.receive(10_000)).toBe('stop');
    expect(signals.stopping).toBe(true);
    expect(signals.receive(10_001)).toBe('ignore'); // the terminal's and npm's copies of one Ctrl-C
    expect(signals.receive(10_999)).toBe('ignore');
    expect(signals.receive(11_000)).toBe('exit-now');
  });
});
