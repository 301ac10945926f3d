import type { ChunkDistribution } from '../chunking/chunk-stats.js';
import type { Config } from '../config/schema.js';
import type { Embedder, EmbedderInfo } from '../embed/embedder.js';
import { TabootError } from '../errors.js';
import type { DocumentStore } from '../qdrant/document-store.js';
import type { PointSink } from '../qdrant/point-sink.js';
import { ChunkReport } from './chunk-report.js';
import { DocumentLedger } from './document-ledger.js';
import { FailedChunkWriter } from './failed-chunks.js';
import { type IngestEvents, IngestRun } from './ingest-run.js';
import { prefetched } from './prefetch.js';
import { withRetry } from './retry.js';
import { chunkStage } from './stages/chunk.js';
import { discoverStage } from './stages/discover.js';
import { EmbedStage } from './stages/embed.js';
import { groupShare, planStage } from './stages/plan.js';
import { pruneStage } from './stages/prune.js';
import { readStage } from './stages/read.js';
import { prepareStage, Reconciler } from './stages/reconcile.js';
import { UpsertStage } from './stages/upsert.js';
import { IngestStats } from './stats.js';
import type { SyncState } from './sync-state.js';
import type { ItemFailure, WorkItem } from './work-item.js';

export type { IngestEvents } from './ingest-run.js';

export interface IngestOptions {
  paths: readonly string[];
  config: Config;
  /** Stop at the first bad input instead of reporting it and going on. */
  onError: 'skip' | 'fail';
  failedOut: string | undefined;
  /** Rewrite every document, unchanged ones included (`--reembed`). */
  reembed?: boolean;
  /** Delete stored documents of the sources read that the run did not read (`--prune`). */
  prune?: boolean;
  /** Defer index building during the load, restore it after and wait for the index (`--bulk`). */
  bulk?: boolean;
  /** Measure the chunks' sizes (`--dry-run`), and write each chunk to this JSONL (`--chunks-out`). */
  chunkReport?: { path: string | undefined };
  /**
   * Aborting stops reading and retrying; requests already in flight still complete (that is the
   * drain), so the signal never cancels a request.
   */
  signal: AbortSignal;
  /** Cancels the embed and upsert requests in flight: the end of the drain time after a signal. */
  cancel?: AbortSignal;
}

/** What the pipeline needs from the outside world; `prepareIngest` connects the real ones. */
export interface IngestServices {
  /** Asked (`describe`) only when the first chunk needs embedding. */
  embedder: Embedder;
  sink: PointSink;
  /** The collection's vector size: embeddings and precomputed vectors must have it. */
  dimensions: number;
  /** Qdrant's side of sync: manifests, deletes, the end-of-run barrier. Absent in `--dry-run`. */
  store?: DocumentStore;
  /** The collection held no points at preflight, so there are no manifests to read. */
  startedEmpty?: boolean;
  /** The model and per-source markers kept in the collection's metadata. Absent in `--dry-run`. */
  syncState?: SyncState;
  /** In `--dry-run --prune`, lists stored documents (nothing is deleted). */
  listing?: Pick<DocumentStore, 'documentPage'>;
}

export interface IngestOutcome {
  stats: IngestStats;
  /** With `options.chunkReport`: the size distribution of the chunks this run cut. */
  chunks: ChunkDistribution | undefined;
  interrupted: boolean;
  /** The error that stopped the run, after in-flight work was drained. */
  fatal: unknown;
  failedOut: { path: string; count: number } | undefined;
}

type Embedded = WorkItem & { vector: Float32Array };

/**
 * discover -> read -> plan -> chunk -> embed -> upsert -> reconcile (DESIGN section 4). Each stage
 * is bounded, so memory follows batch sizes and concurrency, never the corpus. Problems with the
 * input are counted and reported through `events`; a fatal error (a service down past every
 * retry) or a signal stops reading, drains what is in flight and returns the counts so far. When
 * the run drained cleanly, one last request waits until Qdrant has applied every write, so that a
 * search issued after the run sees all of it.
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
  const chunkReport = options.chunkReport
    ? new ChunkReport(run.chunking, options.chunkReport.path)
    : undefined;
  const ledger = new DocumentLedger();
  const store = services.store;
  const upserts = upsertStage(run, services.sink, options.cancel, {
    acknowledged: (items) => reconciler.acknowledged(items),
    failed: (failure) => reconciler.failed(failure),
  });
  const syncState = services.syncState;
  const reconciler = new Reconciler({
    run,
    store,
    ledger,
    recovering: (source) => syncState?.recovering(source) ?? false,
    beginSource: (source) => syncState?.beginSource(source),
    upsert: (item) => upserts.add(item),
  });
  // Made when the first chunk needs embedding: a run of precomputed vectors never asks the embedder.
  let embeds: { stage: EmbedStage; info: EmbedderInfo } | undefined;
  // Items of a document that were counted but never handed to a stage because a fatal error came first.
  const neverSent: WorkItem[] = [];

  let fatal: unknown;
  try {
    const planned = planStage(readStage(files, run), {
      run,
      ledger,
      readManifests:
        store && !services.startedEmpty ? (ids) => retried(() => store.readManifests(ids)) : undefined,
      model: () => modelOf(services, options, run),
      rewriteAll: options.reembed ?? false,
    });
    const groups = prepareStage(chunkStage(planned, run), reconciler);
    for await (const group of prefetched(groups, { weight: groupShare, budget: 1 })) {
      for (const chunked of group) {
        if (refusesVector(chunked.items)) continue;
        if (chunked.duplicateOf) {
          // The earlier occurrence must be settled first, so that this one is written last.
          await drain();
          await reconciler.prepareDuplicate(chunked);
        }
        reconciler.begin(chunked);
        stats.chunks += chunked.items.length;
        for (const item of chunked.items) chunkReport?.add(item, chunked.document.format);
        for (const [index, item] of chunked.items.entries()) {
          try {
            await send(item);
          } catch (error) {
            neverSent.push(...chunked.items.slice(index + 1));
            throw error;
          }
        }
      }
      if (reconciler.fatal !== undefined) throw reconciler.fatal;
    }
    await drain();
    if (reconciler.fatal !== undefined) throw reconciler.fatal;
    const pruning = store ?? services.listing;
    if (options.prune && pruning) {
      await pruneStage(
        pruning,
        reconciler.sourcesRead,
        ledger,
        run,
        (source) => syncState?.recovering(source) ?? false,
      );
    }
  } catch (error) {
    fatal = error;
  }
  // Drain after a fatal error: whatever was read is embedded and upserted unless a stage is itself
  // broken; every request in flight is waited for.
  if (fatal !== undefined) {
    for (const finish of [() => embeds?.stage.finish(), () => upserts.finish(), () => reconciler.flush()]) {
      try {
        await finish();
      } catch (error) {
        fatal ??= error;
      }
    }
    // What a fatal error kept from Qdrant is reported and goes to --failed-out, never silently lost.
    run.reportUnsent(
      [
        ...(embeds?.stage.takeUnsent() ?? []).map((item) => ({ item, stage: 'embed' as const })),
        ...upserts.takeUnsent().map((item) => ({ item, stage: 'upsert' as const })),
        ...reconciler.takeHeld().map((item) => ({ item, stage: 'upsert' as const })),
        ...neverSent.map((item) => ({ item, stage: item.vector ? ('upsert' as const) : ('embed' as const) })),
      ],
      fatal,
    );
  }
  // What the summary counts as written is searchable once the run returns, however it ended:
  // one request that returns when Qdrant has applied every acknowledged write. After a fatal
  // error it is tried once, without retries, so that a server that is down does not hold the exit.
  if (store && !config.ingest.wait && stats.vectorsUpserted + stats.deleteRequests > 0) {
    try {
      await (fatal === undefined ? retried(() => store.barrier()) : store.barrier());
    } catch (error) {
      fatal ??= error;
    }
  }
  // Whole again only when everything read is in Qdrant: otherwise the next run looks for strays.
  if (fatal === undefined && stats.failed === 0) {
    try {
      await syncState?.finishSources(signal.aborted ? [] : reconciler.sourcesRead);
    } catch (error) {
      fatal = error;
    }
  }
  await failedOut?.close();
  await chunkReport?.close();
  return {
    stats,
    chunks: chunkReport?.distribution(),
    interrupted: signal.aborted,
    fatal,
    failedOut: failedOut ? { path: failedOut.path, count: failedOut.count } : undefined,
  };

  /**
   * A precomputed vector of another size than the collection's: its line is skipped, as a
   * malformed one is, before anything of its document is counted or touched (a stored earlier
   * version stays as it is). Reported with `file:line`.
   */
  function refusesVector(items: readonly WorkItem[]): boolean {
    // A precomputed vector is its document's one item.
    const item = items[0];
    if (!item?.vector || item.vector.length === services.dimensions) return false;
    run.problem({
      file: run.displayFile(item.file),
      line: item.line,
      field: 'vector',
      reason: `vector has ${item.vector.length} dimensions, the collection takes ${services.dimensions}`,
      severity: 'error',
    });
    return true;
  }

  /** Precomputed vectors go straight on (their size checked before); the rest to the embedder. */
  async function send(item: WorkItem): Promise<void> {
    if (!item.vector) {
      embeds ??= await startEmbedding(run, services, options.cancel, {
        onward: (items) => routeAll(items),
        failed: (failure) => reconciler.failed(failure),
      });
      stats.tokensEstimated += item.estimatedTokens;
      if (item.estimatedTokens > embeds.info.maxInputTokens) stats.truncated += 1;
      return embeds.stage.add(item);
    }
    stats.chunksPrecomputed += 1;
    await reconciler.route(item as Embedded);
  }

  /** Embedded batches on to the upsert stage; on a fatal error the rest are kept as unsent. */
  async function routeAll(items: readonly Embedded[]): Promise<void> {
    for (const [index, item] of items.entries()) {
      try {
        await reconciler.route(item);
      } catch (error) {
        neverSent.push(...items.slice(index + 1));
        throw error;
      }
    }
  }

  /** Sends everything read and waits until every document is settled. */
  async function drain(): Promise<void> {
    do {
      await embeds?.stage.finish();
      await upserts.finish();
      await reconciler.flush();
    } while (reconciler.busy || upserts.pending > 0);
  }

  function retried<T>(operation: () => Promise<T>): Promise<T> {
    return withRetry(operation, run.retryPolicy(config.ingest.maxRetries), {
      signal,
      onRetry: (event) => run.retried('qdrant', event),
    });
  }
}

function upsertStage(
  run: IngestRun,
  sink: PointSink,
  cancel: AbortSignal | undefined,
  reconcile: Pick<Reconciler, 'acknowledged' | 'failed'>,
): UpsertStage {
  const { config, stats } = run;
  return new UpsertStage(sink, {
    batchSize: config.ingest.batchSize,
    batchBytes: config.ingest.batchBytes,
    parallel: config.ingest.parallel,
    retry: run.retryPolicy(config.ingest.maxRetries),
    stopRetries: run.signal,
    signal: cancel,
    inFlight: stats.upsertRequests,
    onUpserted: (items, bytes, ms) => {
      stats.recordUpsert(items.length, bytes, ms);
      reconcile.acknowledged(items);
    },
    onFailed: (failures) => {
      for (const failure of failures) {
        run.fail(failure);
        reconcile.failed(failure);
      }
    },
    onRetry: (event) => run.retried('qdrant', event),
  });
}

/**
 * The model part of text documents' fingerprints, checked against the model the collection was
 * made with (a different one is refused unless `--reembed`).
 */
async function modelOf(services: IngestServices, options: IngestOptions, run: IngestRun): Promise<string> {
  const info = await services.embedder.describe(run.signal);
  const model = { id: info.modelId, dimensions: services.dimensions };
  await services.syncState?.checkModel(model, options.config.collection.name, options.reembed ?? false);
  return `${model.id}@${model.dimensions}`;
}

/**
 * Connects to the embedder and checks that its vectors fit the collection, before the first
 * request: a mismatch stops the run with both sizes named.
 */
async function startEmbedding(
  run: IngestRun,
  services: IngestServices,
  cancel: AbortSignal | undefined,
  next: { onward(items: Embedded[]): Promise<void>; failed(failure: ItemFailure): void },
): Promise<{ stage: EmbedStage; info: EmbedderInfo }> {
  const { config, stats } = run;
  const info = await services.embedder.describe(run.signal);
  for (const line of services.embedder.warnings) run.events.onWarning?.(line);
  const dimensions = await services.embedder.dimensions(run.signal);
  if (dimensions !== services.dimensions) {
    throw new TabootError(
      `the embedder (${info.modelId}, ${info.route}) makes ${dimensions}-dimensional embeddings, but ` +
        `collection ${config.collection.name} takes ${services.dimensions}`,
      {
        hint: 'Point tei.url at the model the collection was made for, set tei.dimensions, or create a new collection.',
      },
    );
  }
  const stage = new EmbedStage(services.embedder, {
    limits: info.limits,
    concurrency: config.tei.concurrency,
    maxInFlight: info.maxInFlight,
    retry: run.retryPolicy(config.tei.maxRetries),
    dimensions: services.dimensions,
    stopRetries: run.signal,
    signal: cancel,
    inFlight: stats.embedRequests,
    onEmbedded: async (items, result, ms) => {
      stats.embedCalls += 1;
      stats.chunksEmbedded += items.length;
      stats.embedMs += ms;
      stats.tokensCounted += result.tokens ?? 0;
      stats.recordTeiTimings(result.queueMs, result.inferenceMs);
      await next.onward(items);
    },
    onFailed: (failures) => {
      for (const failure of failures) {
        run.fail(failure);
        next.failed(failure);
      }
    },
    onRetry: (event) => run.retried('tei', event),
    onStarved: (ms) => {
      stats.embedWaitMs += ms;
    },
    onConcurrency: (limit) => {
      stats.embedConcurrencyPeak = Math.max(stats.embedConcurrencyPeak, limit);
    },
  });
  stats.embedConcurrencyPeak = Math.max(stats.embedConcurrencyPeak, stage.concurrency);
  return { stage, info };
}
