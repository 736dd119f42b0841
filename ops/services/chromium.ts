import { access, constants } from 'node:fs/promises';
import { commandExists, runCommand } from './command.ts';

/** Where Debian's `chromium` package puts the browser (the browser tests drive it with playwright-core). */
export const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'] as const;

/** The browser's path, or undefined when none is installed. */
export async function findChromium(): Promise<string | undefined> {
  const fromEnv = process.env.CHROMIUM_PATH;
  for (const candidate of fromEnv ? [fromEnv, ...CHROMIUM_PATHS] : CHROMIUM_PATHS) {
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

/**
 * Installs Debian's `chromium` when it is missing (root, apt-get) and answers its path; a no-op
 * costing one stat when it is there. The browser comes from the distribution, never from a
 * download of Playwright's own builds (this machine reaches only the package registries).
 * `apt-get update` runs only when the first install attempt fails (stale or missing lists), and
 * dpkg's own lock makes a second installer wait (`-o DPkg::Lock::Timeout`), never fail.
 */
export async function ensureChromium(say: (line: string) => void = console.log): Promise<string> {
  const found = await findChromium();
  if (found) return found;
  if (!(await commandExists('apt-get')))
    throw new Error('chromium is not installed and there is no apt-get to install it (Debian: apt-get install chromium)');
  say('chromium: not installed — installing from Debian packages (apt-get install chromium), for the browser tests');
  const started = Date.now();
  const install = 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 chromium';
  let result = await runCommand('sh', ['-c', install]);
  if (result.code !== 0) result = await runCommand('sh', ['-c', `apt-get update -qq -o DPkg::Lock::Timeout=300 && ${install}`]);
  const installed = await findChromium();
  if (result.code !== 0 || !installed) throw new Error(`apt-get install chromium failed: ${result.output.slice(-800)}`);
  say(`chromium: installed ${installed} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return installed;
}
