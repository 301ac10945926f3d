/** Timing helpers shared by the micro-benchmarks. They print nothing. */

export interface Rate {
  /** Units (vectors) per second over the measured runs. */
  perSecond: number;
  runs: number;
  seconds: number;
}

/**
 * Call `run` (which handles `units` units per call) until `minMs` have passed, after `warmupRuns`
 * unmeasured calls so the JIT has settled; returns the rate of the measured calls.
 */
export async function measure(
  run: () => unknown | Promise<unknown>,
  units: number,
  options: { minMs?: number; warmupRuns?: number } = {},
): Promise<Rate> {
  const minMs = options.minMs ?? 1500;
  for (let i = 0; i < (options.warmupRuns ?? 5); i++) await run();
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    await run();
    runs++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  const seconds = elapsed / 1000;
  return { perSecond: (runs * units) / seconds, runs, seconds };
}

/** Seeded PRNG (mulberry32), so every run benchmarks the same data. */
export { mulberry32 as seededRandom } from '../../src/bench/vectors.js';
