import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateSecretFile } from './secret-files.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('loadOrCreateSecretFile', () => {
  it('creates the file mode 600 in a new directory mode 700, and reads it back', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'secret-file-'));
    const file = path.join(dir, 'nested', 'admin-token');
    const first = await loadOrCreateSecretFile(file, () => 'generated-secret');
    expect(first).toEqual({ value: 'generated-secret', created: true, tightened: false });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(await loadOrCreateSecretFile(file, () => 'other')).toEqual({ value: 'generated-secret', created: false, tightened: false });
  });

  it('closes an existing secret file others can read, and says so', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'secret-file-'));
    const file = path.join(dir, 'secret-key');
    await writeFile(file, 'copied-in\n');
    await chmod(file, 0o644);
    expect(await loadOrCreateSecretFile(file, () => 'unused')).toEqual({ value: 'copied-in', created: false, tightened: true });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe('copied-in');
  });
});
