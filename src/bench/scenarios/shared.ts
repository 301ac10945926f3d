import { randomBytes } from 'node:crypto';
import type { Config } from '../../config/schema.js';
import { errorMessage, TabootError } from '../../errors.js';
import type { Qdrant } from '../../qdrant/client.js';
import { type CollectionSpec, specFromConfig } from '../../qdrant/collection-spec.js';
import { collectionExists, deleteCollection, ensureCollection } from '../../qdrant/collections.js';

/**
 * What a scenario tells the outside while it runs. Scenarios never print; `src/ui/bench-report.ts`
 * turns these calls into progress lines on stderr.
 */
export interface BenchEvents {
  /** A phase begins (`upload`, `index`, `exact search`, `search c=4 ef=128`, ...). */
  phase(name: string, detail?: string): void;
  /**
   * Progress of the current phase: `done` of `total` (undefined when unknown) `unit`s. Called as
   * often as work completes; the renderer throttles.
   */
  progress(done: number, total: number | undefined, unit: string): void;
  warn(message: string): void;
}

/** A fresh name for a throwaway collection: `taboot_bench_` and 8 random hex digits. */
export function benchCollectionName(): string {
  return `taboot_bench_${randomBytes(4).toString('hex')}`;
}

/**
 * The configured collection settings (HNSW, quantization, optimizers, shards, payload indexes)
 * with the benchmark's own vector size, plus an integer index on `bucket`, the payload field of
 * generated points (`id % 100`), so that `--filter bucket<10` selects a tenth of them.
 */
export function benchSpec(collection: Config['collection'], dim: number): CollectionSpec {
  const spec = specFromConfig(collection);
  return {
    ...spec,
    vectorSize: dim,
    payloadIndexes: { ...spec.payloadIndexes, bucket: { type: 'integer', isTenant: false } },
  };
}

/**
 * Creates a collection for a benchmark. It must not exist yet: a benchmark writes made-up points
 * and drops the collection afterwards, so it never touches a collection that has data.
 */
export async function createBenchCollection(
  qdrant: Qdrant,
  name: string,
  spec: CollectionSpec,
): Promise<void> {
  if (await collectionExists(qdrant, name)) {
    throw new TabootError(`collection ${name} already exists in Qdrant at ${qdrant.url}`, {
      hint: 'The benchmark writes into a new collection and drops it afterwards: name one that does not exist, or leave out --collection.',
    });
  }
  await ensureCollection(qdrant, name, spec, 'create');
}

/** Drops a benchmark's collection; a failure becomes a warning, so it never hides the result or the first error. */
export async function dropBenchCollection(qdrant: Qdrant, name: string, events: BenchEvents): Promise<void> {
  try {
    await deleteCollection(qdrant, name);
  } catch (error) {
    events.warn(`could not drop bench collection ${name}: ${errorMessage(error)}`);
  }
}

/**
 * Runs `task(0..count-1)` with `concurrency` workers, each taking the next index when it is done
 * with the last, so exactly `concurrency` tasks are in flight until the tail. The first failure
 * stops the workers from taking more and is rethrown once those in flight have settled.
 */
export async function runWorkers(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < count) {
      if (signal?.aborted) {
        failure = { error: signal.reason };
        return;
      }
      const index = next;
      next += 1;
      try {
        await task(index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  if (failure) throw failure.error;
}

/**
 * CPU time this process spent (user + system) over a wall-clock interval, as a fraction of one
 * core. Start with `cpuMeter()`, read with the returned function.
 */
export function cpuMeter(): () => number {
  const cpu = process.cpuUsage();
  const started = performance.now();
  return () => {
    const used = process.cpuUsage(cpu);
    const wallMs = performance.now() - started;
    return wallMs > 0 ? (used.user + used.system) / 1000 / wallMs : 0;
  };
}

/** Milliseconds to seconds, rounded to the millisecond (results stay readable in JSON). */
export function toSeconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/** Rounds a rate or latency to 3 significant decimals' worth for JSON. */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
