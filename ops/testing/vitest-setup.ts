/** Every test file: fast-check properties without an explicit seed run a fixed one unless TEST_RANDOM_SEEDS=1 (ops/testing/seeds.ts). */
import fc from 'fast-check';
import { RANDOM_SEEDS, testSeed } from './seeds.ts';

if (!RANDOM_SEEDS) fc.configureGlobal({ seed: testSeed('FC_SEED', 20261202) });
