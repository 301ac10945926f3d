import type { Config } from '../../config/schema.js';
import { createEmbedder } from '../../embed/create-embedder.js';
import { ingestJob } from '../../pipeline/ingest-job.js';
import { IngestStats } from '../../pipeline/stats.js';
import type { Qdrant } from '../../qdrant/client.js';
import { formatProblem } from '../../sources/document.js';
import { INGEST_STAGES, type IngestResult, type IngestStage } from '../result.js';
import { type BenchEvents, round3 } from './shared.js';
import { readTeiBusySeconds, teiBusyShare } from './tei-busy.js';
import { waitForIndex } from './upsert.js';

/**
 * Which stage held the pipeline back, from busy times (any one unit). Each stage's busy time is divided by the
 * requests it may have in flight (read and chunk 1, embed `tei.concurrency`, upsert
 * `ingest.parallel`), giving how long its slots were all taken; a stage's share is that over the
 * sum across stages. A stage whose slots are busy the largest share of the time is the one the
 * others wait on: with embed at 4 requests busy 40 s and upsert at 4 busy 8 s, embed's share is
 * 0.83. Stages with no busy time share equally (a run too short to tell).
 */
export function bottleneckShares(
  busy: Record<IngestStage, number>,
  slots: Record<IngestStage, number>,
): Record<IngestStage, number> {
  const occupied = INGEST_STAGES.map((stage) => busy[stage] / Math.max(1, slots[stage]));
  const sum = occupied.reduce((total, value) => total + value, 0);
  const shares = {} as Record<IngestStage, number>;
  INGEST_STAGES.forEach((stage, index) => {
    shares[stage] = sum > 0 ? occupied[index]! / sum : 1 / INGEST_STAGES.length;
  });
  return shares;
}

export interface IngestScenarioOptions {
  paths: readonly string[];
  /** The throwaway collection, created by this scenario with the model's vector size. */
  collection: string;
  indexTimeoutMs: number;
  /** Creates the collection once its vector size is known (the caller owns its lifecycle). */
  createCollection: (dim: number) => Promise<void>;
}

/**
 * `bench ingest`: `taboot ingest` of the user's files, end to end, into a new collection sized to
 * TEI's embeddings, then until Qdrant has indexed it. Rates are over the pipeline's wall time
 * (from preflight to the last acknowledged upsert), without the index wait; `total_seconds` adds
 * it. Stage times are the ingest summary's (`summarize`), and TEI's busy share is reported where
 * its `/metrics` exports `te_backend_busy_seconds` (see `tei-busy.ts`). Input problems are
 * warnings here: the benchmark reports what it could ingest.
 */
export async function runIngestScenario(
  qdrant: Qdrant,
  config: Config,
  options: IngestScenarioOptions,
  events: BenchEvents,
  signal: AbortSignal,
): Promise<IngestResult> {
  const embedder = createEmbedder(config.tei, { concurrency: 1 });
  let dim: number;
  try {
    dim = await embedder.dimensions(signal);
  } finally {
    await embedder.close();
  }
  await options.createCollection(dim);
  const benchConfig: Config = {
    ...config,
    collection: { ...config.collection, name: options.collection, vectorSize: dim },
  };

  events.phase('ingest', `${options.paths.join(', ')} into ${options.collection}`);
  // Read before the stats start the clock: the request is not part of the run.
  const busyBefore = await readTeiBusySeconds(config.tei, signal);
  const stats = new IngestStats();
  const timer = setInterval(() => events.progress(stats.vectorsUpserted, stats.chunks, 'vectors'), 250);
  let job: Awaited<ReturnType<typeof ingestJob>>;
  try {
    job = await ingestJob(
      {
        paths: options.paths,
        config: benchConfig,
        dryRun: false,
        onError: 'skip',
        failedOut: undefined,
        signal,
      },
      {
        onProblem: (problem) => events.warn(formatProblem(problem)),
        onFailure: (failure) => events.warn(`${failure.location}: ${failure.reason}`),
        onRetry: (service, event) => events.warn(`${service} retry ${event.attempt}: ${event.error.message}`),
      },
      stats,
    );
  } finally {
    clearInterval(timer);
  }
  events.progress(stats.vectorsUpserted, stats.chunks, 'vectors');
  if (job.fatal) throw job.fatal;
  signal.throwIfAborted();
  const { summary } = job;
  const wallSeconds = summary.wall_seconds;
  const busyShare = teiBusyShare(busyBefore, await readTeiBusySeconds(config.tei, signal), wallSeconds);

  const indexSeconds = await waitForIndex(
    qdrant,
    benchConfig,
    {
      collection: options.collection,
      count: stats.vectorsUpserted,
      dim,
      indexTimeoutMs: options.indexTimeoutMs,
    },
    events,
    signal,
  );

  const { stage_seconds: seconds } = summary;
  const shares = bottleneckShares(seconds, {
    read: 1,
    chunk: 1,
    embed: config.tei.concurrency === 'auto' ? stats.embedConcurrencyPeak : config.tei.concurrency,
    upsert: config.ingest.parallel,
  });
  const stages = {} as IngestResult['stages'];
  for (const stage of INGEST_STAGES) {
    stages[stage] = { seconds: seconds[stage], bottleneck_share: round3(shares[stage]) };
  }
  return {
    documents: stats.documents,
    chunks: stats.chunks,
    docs_per_second: round3(stats.documents / wallSeconds),
    chunks_per_second: round3(stats.chunks / wallSeconds),
    vps: round3(stats.vectorsUpserted / wallSeconds),
    stages,
    ...(seconds.tei_queue === null ? {} : { tei_queue_seconds: seconds.tei_queue }),
    ...(seconds.tei_inference === null ? {} : { tei_inference_seconds: seconds.tei_inference }),
    ...(busyShare === undefined ? {} : { tei_busy_share: round3(busyShare) }),
    index_seconds: round3(indexSeconds),
    total_seconds: round3(wallSeconds + indexSeconds),
  };
}
