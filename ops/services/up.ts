import { loadConfig } from '../config.ts';
import { servicesUp } from './lifecycle.ts';

// `npm run services:up` — safe to run again and again; exits non-zero with the reason and the log to read.
try {
  await servicesUp(loadConfig());
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
