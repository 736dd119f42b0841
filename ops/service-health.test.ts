/** probeServices without any service: refused and silent ports (the probe against the running services: service-health.int.test.ts). */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { probeServices } from './service-health.ts';
import { allServicesAt } from './testing/services-at.ts';

// Port 9 (discard) is closed on this machine; connection refused arrives at once.
const nowhere = allServicesAt(9);

describe('probeServices', () => {
  it('reports each service down when nothing listens', async () => {
    expect(await probeServices(nowhere)).toEqual({ postgres: 'down', redis: 'down', rabbitmq: 'down', kafka: 'down' });
  });

  it('answers within 1.5 s when every service accepts the connection and then never replies', async () => {
    const accepted: net.Socket[] = [];
    const silent = net.createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const started = performance.now();
      const health = await probeServices(allServicesAt(port));
      expect(health).toEqual({ postgres: 'down', redis: 'down', rabbitmq: 'down', kafka: 'down' });
      expect(performance.now() - started).toBeLessThan(1_500);
    } finally {
      accepted.forEach((socket) => socket.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
