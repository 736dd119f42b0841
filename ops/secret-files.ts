/**
 * Generated secrets on disk ($DATA_DIR/admin-token, $DATA_DIR/secret-key): provisioning is the
 * process's job (ops/), not the API's — api/ receives the values.
 */
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Reads a generated secret from `file`, or creates it (mode 600) with `generate()` on first use.
 * Returns the value and whether it was created now, so the caller can say where it is.
 */
export async function loadOrCreateSecretFile(
  file: string,
  generate: () => string,
): Promise<{ value: string; created: boolean; tightened: boolean }> {
  try {
    const value = (await readFile(file, 'utf8')).trim();
    if (value.length > 0) {
      // A secret file others can read (copied in, restored from a backup, made by hand) is closed
      // to its owner again; the caller says so.
      const mode = (await stat(file)).mode & 0o777;
      if ((mode & 0o077) !== 0) await chmod(file, 0o600);
      return { value, created: false, tightened: (mode & 0o077) !== 0 };
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = generate();
  // 'wx' refuses to overwrite a file another starter wrote meanwhile; then read theirs.
  try {
    await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return { value: (await readFile(file, 'utf8')).trim(), created: false, tightened: false };
    throw error;
  }
  await chmod(file, 0o600);
  return { value, created: true, tightened: false };
}
