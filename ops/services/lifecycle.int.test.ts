import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { servicesUp } from './lifecycle.ts';

describe('servicesUp', () => {
  it('is idempotent: with everything running it starts nothing and returns quickly', async () => {
    const lines: string[] = [];
    const started = performance.now();
    await servicesUp(loadConfig(), (line) => lines.push(line));

    for (const service of ['postgres', 'redis', 'rabbitmq', 'kafka']) {
      expect(lines.find((line) => line.startsWith(`${service}:`))).toMatch(new RegExp(`^${service}: already running`));
    }
    expect(lines.at(-1)).toMatch(/^services: all four up/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
