import { loadConfig } from '../config.ts';
import { describeBuild, buildWeb } from '../web-build.ts';
import { ensureChromium } from './chromium.ts';
import { servicesUp } from './lifecycle.ts';

// `npm run services:up` — safe to run again and again; exits non-zero with the reason and the log to read.
// It also builds the trading page (web/dist), and with --browser (npm test) installs Debian's chromium
// for the browser tests when it is missing.
try {
  await servicesUp(loadConfig());
  console.log(describeBuild(await buildWeb()));
  if (process.argv.includes('--browser')) console.log(`chromium: ${await ensureChromium()}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
