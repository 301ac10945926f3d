import type { Config } from '../config/schema.js';
import type { Embedder, EmbedderInfo } from '../embed/embedder.js';
import { TabootError } from '../errors.js';
import type { PointSink } from '../qdrant/point-sink.js';
import type { SurplusChunkDeleter } from '../qdrant/surplus-deleter.js';
import { FailedChunkWriter } from './failed-chunks.js';
import { type IngestEvents, IngestRun } from './ingest-run.js';
import { chunkStage } from './stages/chunk.js';
import { discoverStage } from './stages/discover.js';
import { EmbedStage } from './stages/embed.js';
import { planStage } from './stages/plan.js';
import { readStage } from './stages/read.js';
import { Reconciler } from './stages/reconcile.js';
import { UpsertStage } from './stages/upsert.js';
import { IngestStats } from './stats.js';
import type { WorkItem } from './work-item.js';

export type { IngestEvents } from './ingest-run.js';

export interface IngestOptions {
  paths: readonly string[];
  config: Config;
  /** Stop at the first bad input instead of reporting it and going on. */
  onError: 'skip' | 'fail';
  failedOut: string | undefined;
  /**
   * Aborting stops reading and retrying; requests already in flight still complete (that is the
   * drain), so the signal never cancels a request.
   */
  signal: AbortSignal;
}

/** What the pipeline needs from the outside world; `prepareIngest` connects the real ones. */
export interface IngestServices {
  /** Asked (`describe`) only when the first chunk needs embedding. */
  embedder: Embedder;
  sink: PointSink;
  /** The collection's vector size: embeddings and precomputed vectors must have it. */
  dimensions: number;
  /** Deletes chunks that documents no longer have; absent in `--dry-run`. */
  surplus?: SurplusChunkDeleter;
}

export interface IngestOutcome {
  stats: IngestStats;
  interrupted: boolean;
  /** The error that stopped the run, after in-flight work was drained. */
  fatal: unknown;
  failedOut: { path: string; count: number } | undefined;
}

/**
 * discover -> read -> plan -> chunk -> embed -> upsert -> reconcile (DESIGN section 4). Each stage
 * is bounded, so memory follows batch sizes and concurrency, never the corpus. Problems with the
 * input are counted and reported through `events`; a fatal error (a service down past every
 * retry) or a signal stops reading, drains what is in flight and returns the counts so far.
 */
export async function runIngest(
  options: IngestOptions,
  services: IngestServices,
  events: IngestEvents,
  stats = new IngestStats(),
): Promise<IngestOutcome> {
  const { config, signal } = options;
  const files = await discoverStage(options.paths, config, stats);
  const failedOut = options.failedOut
    ? new FailedChunkWriter(
        options.failedOut,
        { idField: config.ingest.idField, textField: config.ingest.textField },
        files.map((file) => file.absolute),
      )
    : undefined;
  const run = new IngestRun(config, stats, events, signal, options.onError, failedOut);
  const upserts = upsertStage(run, services.sink);
  // Made when the first chunk needs embedding: a run of precomputed vectors never asks the embedder.
  let embeds: { stage: EmbedStage; info: EmbedderInfo } | undefined;
  const reconciler = new Reconciler(services.surplus, run);

  // Items of a document that were counted but never handed to a stage because a fatal error came first.
  const neverSent: WorkItem[] = [];
  let fatal: unknown;
  try {
    const planned = planStage(readStage(files, run));
    for await (const chunked of chunkStage(planned, run)) {
      await reconciler.track(chunked);
      for (const [index, item] of chunked.items.entries()) {
        try {
          await send(item);
        } catch (error) {
          neverSent.push(...chunked.items.slice(index + 1));
          throw error;
        }
      }
    }
    await reconciler.flush();
  } catch (error) {
    fatal = error;
  }
  // Drain: whatever was read is embedded and upserted unless a stage is itself broken. The embed
  // stage finishes first (its last batches feed the upsert stage); both wait for every request in
  // flight even after a fatal error.
  for (const stage of [embeds?.stage, upserts]) {
    try {
      await stage?.finish();
    } catch (error) {
      fatal ??= error;
    }
  }
  // What a fatal error kept from Qdrant is reported and goes to --failed-out, never silently lost.
  if (fatal !== undefined) {
    run.reportUnsent(
      [
        ...(embeds?.stage.takeUnsent() ?? []).map((item) => ({ item, stage: 'embed' as const })),
        ...upserts.takeUnsent().map((item) => ({ item, stage: 'upsert' as const })),
        ...neverSent.map((item) => ({ item, stage: item.vector ? ('upsert' as const) : ('embed' as const) })),
      ],
      fatal,
    );
  }
  await failedOut?.close();
  return {
    stats,
    interrupted: signal.aborted,
    fatal,
    failedOut: failedOut ? { path: failedOut.path, count: failedOut.count } : undefined,
  };

  /** Precomputed vectors go straight to Qdrant, after a size check; the rest to the embedder. */
  async function send(item: WorkItem): Promise<void> {
    if (!item.vector) {
      embeds ??= await startEmbedding(run, services, upserts);
      if (item.estimatedTokens > embeds.info.maxInputTokens) stats.truncated += 1;
      return embeds.stage.add(item);
    }
    if (item.vector.length !== services.dimensions) {
      run.problem({
        file: item.file,
        line: item.line,
        field: 'vector',
        reason: `vector has ${item.vector.length} dimensions, the collection takes ${services.dimensions}`,
        severity: 'error',
      });
      return;
    }
    stats.chunksPrecomputed += 1;
    await upserts.add(item as WorkItem & { vector: Float32Array });
  }
}

function upsertStage(run: IngestRun, sink: PointSink): UpsertStage {
  const { config, stats } = run;
  return new UpsertStage(sink, {
    batchSize: config.ingest.batchSize,
    batchBytes: config.ingest.batchBytes,
    parallel: config.ingest.parallel,
    retry: run.retryPolicy(config.ingest.maxRetries),
    stopRetries: run.signal,
    onUpserted: (items, bytes, ms) => stats.recordUpsert(items.length, bytes, ms),
    onFailed: (failures) => {
      for (const failure of failures) run.fail(failure);
    },
    onRetry: (event) => run.retried('qdrant', event),
  });
}

/**
 * Connects to the embedder and checks that its vectors fit the collection, before the first
 * request: a mismatch stops the run with both sizes named.
 */
async function startEmbedding(
  run: IngestRun,
  services: IngestServices,
  upserts: UpsertStage,
): Promise<{ stage: EmbedStage; info: EmbedderInfo }> {
  const { config, stats } = run;
  const info = await services.embedder.describe(run.signal);
  for (const line of services.embedder.warnings) run.events.onWarning?.(line);
  if (info.dimensions !== services.dimensions) {
    throw new TabootError(
      `the embedder (${info.modelId}, ${info.route}) makes ${info.dimensions}-dimensional embeddings, but ` +
        `collection ${config.collection.name} takes ${services.dimensions}`,
      {
        hint: 'Point tei.url at the model the collection was made for, set tei.dimensions, or create a new collection.',
      },
    );
  }
  const stage = new EmbedStage(services.embedder, {
    limits: info.limits,
    concurrency: config.tei.concurrency,
    retry: run.retryPolicy(config.tei.maxRetries),
    dimensions: services.dimensions,
    stopRetries: run.signal,
    onEmbedded: async (items, result, ms) => {
      stats.chunksEmbedded += items.length;
      stats.embedMs += ms;
      stats.tokensCounted += result.tokens ?? 0;
      stats.teiQueueMs += result.queueMs ?? 0;
      stats.teiInferenceMs += result.inferenceMs ?? 0;
      await upserts.addAll(items);
    },
    onFailed: (failures) => {
      for (const failure of failures) run.fail(failure);
    },
    onRetry: (event) => run.retried('tei', event),
  });
  return { stage, info };
}
