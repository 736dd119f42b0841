/**
 * Builds the trading page (web/) with esbuild into web/dist/: app.js (web/src/main.ts with its npm
 * dependencies, lightweight-charts included, minified), app.css and index.html. Run by `npm start`
 * and `npm run services:up` (so by `npm test`) before anything serves it, and by `npm run web:build`.
 * Files are written beside their final name and renamed into place, so a core reading web/dist while
 * another build runs sees either the old file or the new one, never half of one.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { PROJECT_ROOT } from './config.ts';

export const WEB_DIR = path.join(PROJECT_ROOT, 'web');
export const WEB_DIST = path.join(WEB_DIR, 'dist');

export interface WebBuild {
  readonly files: Record<string, { bytes: number; gzipBytes: number }>;
  readonly ms: number;
}

export async function buildWeb(): Promise<WebBuild> {
  const started = Date.now();
  await mkdir(WEB_DIST, { recursive: true });
  const staging = path.join(WEB_DIST, `.build-${process.pid}-${randomUUID()}`);
  try {
    await build({
      entryPoints: { app: path.join(WEB_DIR, 'src', 'main.ts') },
      bundle: true,
      minify: true,
      format: 'esm',
      target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
      outdir: staging,
      legalComments: 'eof', // lightweight-charts' Apache-2.0 notice stays in the bundle
      logLevel: 'silent',
    });
    await build({
      entryPoints: { app: path.join(WEB_DIR, 'styles.css') },
      bundle: true,
      minify: true,
      outdir: staging,
      logLevel: 'silent',
    });
    await copyFile(path.join(WEB_DIR, 'index.html'), path.join(staging, 'index.html'));
    const files: Record<string, { bytes: number; gzipBytes: number }> = {};
    for (const name of ['app.js', 'app.css', 'index.html']) {
      const content = await readFile(path.join(staging, name));
      files[name] = { bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
      await rename(path.join(staging, name), path.join(WEB_DIST, name));
    }
    return { files, ms: Date.now() - started };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export function describeBuild(result: WebBuild): string {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const parts = Object.entries(result.files).map(([name, size]) => `${name} ${kib(size.bytes)} (${kib(size.gzipBytes)} gzip)`);
  return `web: page built into web/dist in ${result.ms} ms — ${parts.join(', ')}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildWeb().then(
    (result) => console.log(describeBuild(result)),
    (error: unknown) => {
      console.error(`web: build failed — ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
