import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';

/** What one `ensure…` call did: found it answering, or started it (and so owns stopping it). */
export interface EnsureResult {
  service: string;
  outcome: 'already running' | 'started';
  detail: string;
}

export interface ServiceContext {
  config: Config;
  /** One line of progress for the person waiting. */
  say: (line: string) => void;
}

export const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function dataPath(config: Config, ...parts: string[]): string {
  return path.join(config.DATA_DIR, ...parts);
}

/**
 * Marker files under $DATA_DIR/started/ record machine services (postgres, rabbitmq) that
 * services:up had to start, so services:down stops those and leaves the machine's own alone.
 */
export async function markStarted(config: Config, service: string): Promise<void> {
  await mkdir(dataPath(config, 'started'), { recursive: true });
  await writeFile(dataPath(config, 'started', service), `${new Date().toISOString()}\n`);
}

export async function wasStartedByProject(config: Config, service: string): Promise<boolean> {
  return stat(dataPath(config, 'started', service)).then(
    () => true,
    () => false,
  );
}

export async function clearStarted(config: Config, service: string): Promise<void> {
  await rm(dataPath(config, 'started', service), { force: true });
}
