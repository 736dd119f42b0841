import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { probeServices } from './service-health.ts';
import { allServicesAt } from './testing/services-at.ts';

const config = loadConfig();
// Port 9 (discard) is closed on this machine; connection refused arrives at once.
const nowhere = allServicesAt(9);

describe('probeServices', () => {
  it('reports all four services up when services:up has run', async () => {
    // a probe gives each service 1 s; PostgreSQL can stall longer while another test file's stack
    // creates or drops its database (CREATE DATABASE checkpoints): ask again a few times
    let health = await probeServices(config);
    for (let attempt = 0; attempt < 5 && Object.values(health).some((state) => state !== 'up'); attempt++) {
      await sleep(1_000);
      health = await probeServices(config);
    }
    expect(health).toEqual({ postgres: 'up', redis: 'up', rabbitmq: 'up', kafka: 'up' });
  });

  it('leaves no sockets or timers behind after repeated probes', async () => {
    const before = process.getActiveResourcesInfo().length;
    for (let round = 0; round < 10; round += 1) {
      await probeServices(config);
      await probeServices(nowhere);
    }
    await sleep(200); // sockets close on the next turns of the event loop
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(before);
  });
});
