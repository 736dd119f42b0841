import { loadConfig } from '../config.ts';
import { servicesDown } from './lifecycle.ts';

// `npm run services:down` — stops what services:up started (by PID file / marker), nothing else.
try {
  await servicesDown(loadConfig());
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
