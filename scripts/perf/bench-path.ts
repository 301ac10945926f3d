import { uploadVectors, upsertFigures } from '../../src/bench/scenarios/upsert.js';
import { configSchema } from '../../src/config/schema.js';

export interface BenchPathResult {
  /** `upload_vps` that `taboot bench upsert` reports for the same workload into the same sink. */
  benchVps: number;
  /** `benchVps` over the fast path's figure: near 1 when both take the same path. */
  ratio: number;
}

/**
 * `taboot bench upsert`'s upload (generated vectors through `UpsertStage` and `GrpcPointSink`, as
 * `ingest` sends them) into the discard sink that measured the fast path, with the same count,
 * dimensions, batch size and requests in flight, so the two figures can be compared in one run: a
 * ratio near 1 says the benchmark measures the path ingest takes, not a faster or slower one. The
 * workloads differ where the benchmark must: its points carry its own small payload (`bucket`)
 * and are generated as it goes, where (a) cycles eight prepared batches with a chunk's payload.
 */
export async function benchUpsertPath(options: {
  url: string;
  count: number;
  dim: number;
  batch: number;
  parallel: number;
  /** The fast path's vectors per second, from `benchUpsert`. */
  fast: number;
}): Promise<BenchPathResult> {
  const config = configSchema.parse({ qdrant: { url: options.url } });
  const data = {
    count: options.count,
    dim: options.dim,
    distribution: 'uniform' as const,
    seed: 1,
    batchSize: options.batch,
    batchBytes: config.ingest.batchBytes,
    parallel: options.parallel,
    wait: false,
  };
  const quiet = { phase() {}, progress() {}, warn() {} };
  const upload = (count: number) =>
    uploadVectors(
      config.qdrant,
      { ...data, count, collection: 'bench', maxRetries: config.ingest.maxRetries },
      quiet,
    );
  // Warmed up as (a) warms up its clients: two rounds of batches, not measured.
  await upload(options.parallel * options.batch * 2);
  const measured = await upload(options.count);
  const benchVps = upsertFigures(data, measured, 0).upload_vps;
  return { benchVps, ratio: benchVps / options.fast };
}

/** (a)'s comparison line: `bench upsert` through the ingest path next to the fast path's figure. */
export async function benchPathLine(options: Parameters<typeof benchUpsertPath>[0]): Promise<string> {
  const { benchVps, ratio } = await benchUpsertPath(options);
  return (
    `    bench upsert     ${Math.round(benchVps).toLocaleString('en-US')} vec/s   ${ratio.toFixed(2)} of the fast ` +
    'path (UpsertStage and GrpcPointSink, as ingest sends)'
  );
}
