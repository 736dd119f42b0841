/**
 * Runs ops/core.ts as a child process on a free port with its own DATA_DIR — for the crash test,
 * the real-HTTP test tier and the API benchmark. `kill9()` is a real SIGKILL: nothing is flushed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from './config.ts';

export interface CoreChild {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** everything the child wrote to stdout/stderr (for failure messages) */
  output(): string;
  kill9(): Promise<void>;
  /** SIGTERM and wait for a clean exit; resolves with the exit code */
  stop(): Promise<number | null>;
}

export interface SpawnCoreOptions {
  readonly dataDir: string;
  readonly port?: number;
  readonly env?: Record<string, string>;
  readonly readyTimeoutMs?: number;
  /** extra node options, e.g. ['--cpu-prof'] */
  readonly nodeArgs?: readonly string[];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** V8 flags the core runs with: a 64 MiB young generation cuts its scavenges ≈40 % under load. */
export const CORE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

export async function spawnCore(options: SpawnCoreOptions): Promise<CoreChild> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [...CORE_NODE_FLAGS, ...(options.nodeArgs ?? []), '--import', 'tsx', path.join(PROJECT_ROOT, 'ops/core.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env, DATA_DIR: options.dataDir, API_HOST: '127.0.0.1', API_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
  });
  for (;;) {
    if (exitedEarly) throw new Error(`core exited before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`core not ready within the timeout:\n${output}`);
    }
    try {
      const response = await fetch(`${url}/ready`);
      if (response.status === 200) break;
      await response.arrayBuffer();
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    port,
    dataDir: options.dataDir,
    child,
    output: () => output,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
