import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM for API secrets at rest: stored as iv (12 B) ‖ tag (16 B) ‖ ciphertext. */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new RangeError('the secret-encryption key must be 32 bytes');
    this.#key = key;
  }

  encrypt(plaintext: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  /** Throws when the data was not sealed with this key (GCM authentication fails). */
  decrypt(sealed: Buffer): string {
    if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('sealed secret too short');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(0, IV_BYTES));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}

/** Parses a 32-byte key given as 64 hex characters or base64. */
export function parseEncryptionKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new RangeError('the secret-encryption key must be 32 bytes (64 hex characters or base64)');
  return key;
}

/**
 * Reads a generated secret from `file`, or creates it (mode 600) with `generate()` on first use.
 * Returns the value and whether it was created now, so the caller can say where it is.
 */
export async function loadOrCreateSecretFile(file: string, generate: () => string): Promise<{ value: string; created: boolean; tightened: boolean }> {
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
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { value: (await readFile(file, 'utf8')).trim(), created: false, tightened: false };
    throw error;
  }
  await chmod(file, 0o600);
  return { value, created: true, tightened: false };
}
