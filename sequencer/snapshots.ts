/**
 * Engine snapshots: `${dataDir}/snapshots/snapshot-<seq, 16 digits>.json`, one JSON object
 *
 *   {"format":"xtrader-snapshot","v":1,"seq":S,"timestamp":T,"crc32":C,"engine":<engine.snapshot()>}
 *
 * where S is the last command applied, T its timestamp and C the CRC-32 of the engine part's JSON
 * text exactly as written (it ends the file, followed by "}"). Written atomically: tmp file, fsync,
 * rename, fsync of the directory. A file that does not parse or whose checksum fails is skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EngineSnapshot } from '../engine/types.ts';
import { crc32 } from '../lib/crc32.ts';
import { fsyncDirectory } from '../lib/segment-log/segment-writer.ts';

const SNAPSHOT_NAME = /^snapshot-(\d{16})\.json$/;
const FORMAT = 'xtrader-snapshot';
const VERSION = 1;

export interface SnapshotFile {
  readonly seq: number;
  readonly file: string;
}

export interface LoadedSnapshot {
  readonly seq: number;
  readonly timestamp: number;
  readonly engine: EngineSnapshot;
}

export function snapshotFileName(seq: number): string {
  return `snapshot-${String(seq).padStart(16, '0')}.json`;
}

/** Snapshot files in `snapshotDir`, newest (highest seq) first. */
export function listSnapshots(snapshotDir: string): SnapshotFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(snapshotDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const snapshots: SnapshotFile[] = [];
  for (const name of names) {
    const match = SNAPSHOT_NAME.exec(name);
    if (match) snapshots.push({ seq: Number(match[1]), file: path.join(snapshotDir, name) });
  }
  return snapshots.sort((a, b) => b.seq - a.seq);
}

function prefix(seq: number, timestamp: number, checksum: number): string {
  return `{"format":"${FORMAT}","v":${VERSION},"seq":${seq},"timestamp":${timestamp},"crc32":${checksum},"engine":`;
}

/** Writes a snapshot atomically; returns its size in bytes. Synchronous: blocks for the stringify and the write. */
export function writeSnapshot(
  snapshotDir: string,
  seq: number,
  timestamp: number,
  engine: EngineSnapshot,
): { file: string; bytes: number } {
  const engineJson = JSON.stringify(engine);
  const engineBytes = Buffer.from(engineJson, 'utf8');
  const head = Buffer.from(prefix(seq, timestamp, crc32(engineBytes)), 'utf8');
  const tail = Buffer.from('}\n', 'utf8');
  const file = path.join(snapshotDir, snapshotFileName(seq));
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    const total = head.length + engineBytes.length + tail.length;
    const written = fs.writevSync(fd, [head, engineBytes, tail], 0);
    if (written < total) {
      const rest = Buffer.concat([head, engineBytes, tail]).subarray(written);
      for (let at = 0; at < rest.length;) at += fs.writeSync(fd, rest, at, rest.length - at, written + at);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDirectory(snapshotDir);
  return { file, bytes: head.length + engineBytes.length + tail.length };
}

/** Reads and verifies one snapshot file; throws with the reason when it is unusable. */
export function readSnapshot(snapshot: SnapshotFile): LoadedSnapshot {
  const bytes = fs.readFileSync(snapshot.file);
  const text = bytes.toString('utf8');
  const parsed = JSON.parse(text) as {
    format?: unknown;
    v?: unknown;
    seq?: unknown;
    timestamp?: unknown;
    crc32?: unknown;
    engine?: unknown;
  };
  if (parsed.format !== FORMAT || parsed.v !== VERSION) throw new Error(`not a version ${VERSION} ${FORMAT} file`);
  const { seq, timestamp, crc32: checksum, engine } = parsed;
  if (typeof seq !== 'number' || typeof timestamp !== 'number' || typeof checksum !== 'number') throw new Error('header fields missing');
  if (seq !== snapshot.seq) throw new Error(`seq ${seq} does not match the file name`);
  if (typeof engine !== 'object' || engine === null) throw new Error('engine state missing');
  const head = Buffer.from(prefix(seq, timestamp, checksum), 'utf8');
  const end = text.endsWith('}\n') ? bytes.length - 2 : bytes.length - 1;
  if (!bytes.subarray(0, head.length).equals(head)) throw new Error('unexpected header layout');
  if (crc32(bytes, head.length, end) !== checksum) throw new Error('engine state checksum mismatch');
  return { seq, timestamp, engine: engine as EngineSnapshot };
}

/** Removes leftovers of snapshot writes that crashed before the rename. */
export function removeTemporaryFiles(snapshotDir: string): void {
  for (const name of fs.readdirSync(snapshotDir)) {
    if (name.endsWith('.tmp')) fs.rmSync(path.join(snapshotDir, name), { force: true });
  }
}
