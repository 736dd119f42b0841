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

/** A node child process running one of the project's TypeScript entries, its output kept for failure messages. */
export interface ChildHandle {
  readonly child: ChildProcess;
  /** the last 20,000 characters it wrote to stdout/stderr */
  output(): string;
  /** resolves with the exit code when it has exited */
  readonly exited: Promise<number | null>;
  /** a real SIGKILL: nothing is flushed */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within 10 s */
  stop(): Promise<void>;
}

/** Runs `entry` (relative to the project root) with tsx; LOG_LEVEL warn unless `env` says otherwise. */
export function spawnTs(
  entry: string,
  args: readonly string[],
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): ChildHandle {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(PROJECT_ROOT, entry), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => output,
    exited,
    async kill9() {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (alive()) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function spawnCore(options: SpawnCoreOptions): Promise<CoreChild> {
  const port = options.port ?? (await freePort());
  const handle = spawnTs('ops/core.ts', [], { ...options.env, DATA_DIR: options.dataDir, API_HOST: '127.0.0.1', API_PORT: String(port) }, [
    ...CORE_NODE_FLAGS,
    ...(options.nodeArgs ?? []),
  ]);
  const { child, exited, output } = handle;
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
  });
  for (;;) {
    if (exitedEarly) throw new Error(`core exited before it was ready:\n${output()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`core not ready within the timeout:\n${output()}`);
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
    output,
    kill9: handle.kill9,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
