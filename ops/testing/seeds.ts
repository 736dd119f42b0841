/**
 * Seeds of the randomized tests. CI and `npm test` run fixed seeds, so a red run reproduces and a
 * green one means the same thing twice; `TEST_RANDOM_SEEDS=1` draws fresh ones (explore, then pin
 * what fails). A test's own variable (e.g. CRASH_SEED) wins over both. Each test prints its seed.
 */
export const RANDOM_SEEDS = process.env.TEST_RANDOM_SEEDS === '1';

export function testSeed(variable: string, fixed: number): number {
  const given = process.env[variable];
  if (given !== undefined && given !== '') return Number(given);
  return RANDOM_SEEDS ? Math.floor(Math.random() * 2 ** 31) : fixed;
}
