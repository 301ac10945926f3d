import type { ChunkDistribution } from '../chunking/chunk-stats.js';
import type { CollectionEstimate, LargestChunk } from './dry-run.js';
import { type IngestStats, peakWindowMs } from './stats.js';

/** The end-of-run summary: what `--json` prints, and what the table shows. */
export interface IngestSummary {
  collection: string;
  dry_run: boolean;
  interrupted: boolean;
  /** The run stopped early on an error (after draining): not every file was read. */
  stopped: boolean;
  /** Files found, and files read to the end. */
  files: number;
  files_read: number;
  /** Documents read, and what became of them (see DESIGN section 4, sync). */
  documents: number;
  new: number;
  changed: number;
  /** Skipped: Qdrant already held exactly these. */
  unchanged: number;
  /** No text to index: whatever Qdrant held of them was deleted. */
  empty: number;
  /** Document ids read more than once; the last occurrence is what Qdrant holds. */
  duplicates: number;
  /** Stored documents no longer in the input, deleted by --prune. */
  pruned: number;
  chunks: number;
  vectors: number;
  /** Chunks that came with a vector, and chunks sent to the embedder and answered. */
  precomputed: number;
  embedded: number;
  /** Requests to the embedder. */
  embed_requests: number;
  /** Stored chunks deleted (surplus of shrunk documents, chunks of emptied ones). */
  chunks_deleted: number;
  /** Delete, mark and prune requests sent to Qdrant. */
  delete_requests: number;
  /** Input that could not be read (bad lines, files); reported with file:line. */
  skipped: number;
  /** Chunks that were read but could not be embedded or upserted. */
  failed: number;
  warnings: number;
  retries: number;
  /** Estimated tokens of the chunks sent to the embedder. */
  tokens_estimated: number;
  /** Tokens TEI counted, from its `x-compute-tokens` headers. */
  tokens_counted: number;
  /** Chunks estimated longer than TEI's max_input_length, which TEI truncated. */
  truncated: number;
  wall_seconds: number;
  mean_vps: number;
  /** The best rate over any `peak_window_s` of the run; the mean when the run is not longer. */
  peak_vps: number;
  /** A tenth of the run, between 5 and 60 s: shorter windows measure how acknowledgements bunch. */
  peak_window_s: number;
  /**
   * Busy seconds per stage, not wall time: embed and upsert sum over their concurrent requests,
   * so they may exceed `wall_seconds`. TEI's queue and inference times are null when TEI did not
   * report them (no timing headers, or nothing was embedded).
   */
  stage_seconds: {
    read: number;
    chunk: number;
    embed: number;
    upsert: number;
    delete: number;
    tei_queue: number | null;
    tei_inference: number | null;
  };
  /**
   * Seconds during which chunks were ready for the embedder and no embedding request was in
   * flight: near 0, the embedder set the pace; large, taboot did (it could not feed it fast enough).
   */
  embed_wait_seconds: number;
  failed_out: { path: string; count: number } | undefined;
  /** The process's peak resident memory so far, MiB (bounded by batch sizes, not corpus size). */
  peak_rss_mb: number;
  /** `--bulk`: seconds from the end of the load until Qdrant had built the index. */
  index_seconds?: number;
  /** `taboot reindex`: the collection built, and what became of the alias. */
  reindex?: {
    alias: string;
    collection: string;
    switched: boolean;
    /** The collection the alias pointed at before (null: the alias is new). */
    previous: string | null;
    deleted: string[];
  };
  /** `--dry-run` only. */
  estimate?: {
    request_bytes: number;
    largest_request_bytes: number;
    collection: CollectionEstimate;
    largest_chunks: LargestChunk[];
    /** Sizes of the chunks, in estimated tokens, and the counts of suspicious ones. */
    chunks: ChunkDistribution;
  };
}

const seconds = (ms: number) => Math.round(ms) / 1000;

export function summarize(
  stats: IngestStats,
  context: {
    collection: string;
    dryRun: boolean;
    interrupted: boolean;
    stopped?: boolean;
    failedOut: IngestSummary['failed_out'];
  },
): IngestSummary {
  const now = performance.now();
  // A positive sum can only come from a report, also where the count of reports is not kept.
  const teiReported = stats.teiTimingsReported > 0 || stats.teiQueueMs + stats.teiInferenceMs > 0;
  return {
    collection: context.collection,
    dry_run: context.dryRun,
    interrupted: context.interrupted,
    stopped: context.stopped ?? false,
    files: stats.filesTotal,
    files_read: stats.filesDone,
    documents: stats.documents,
    new: stats.documentsNew,
    changed: stats.documentsChanged,
    unchanged: stats.documentsUnchanged,
    empty: stats.documentsEmpty,
    duplicates: stats.duplicates,
    pruned: stats.documentsPruned,
    chunks: stats.chunks,
    // A dry run measures with a stand-in sink: nothing was sent, so nothing counts as upserted.
    vectors: context.dryRun ? 0 : stats.vectorsUpserted,
    precomputed: stats.chunksPrecomputed,
    embedded: context.dryRun ? 0 : stats.chunksEmbedded,
    embed_requests: context.dryRun ? 0 : stats.embedCalls,
    chunks_deleted: stats.chunksDeleted,
    delete_requests: stats.deleteRequests,
    skipped: stats.skipped,
    failed: stats.failed,
    warnings: stats.warnings,
    retries: stats.retries,
    tokens_estimated: stats.tokensEstimated,
    tokens_counted: stats.tokensCounted,
    truncated: stats.truncated,
    wall_seconds: seconds(stats.elapsedMs(now)),
    mean_vps: context.dryRun ? 0 : Math.round(stats.meanRate(now)),
    peak_vps: context.dryRun ? 0 : Math.round(stats.peakRate(now)),
    peak_window_s: seconds(peakWindowMs(stats.elapsedMs(now))),
    stage_seconds: {
      read: seconds(stats.readMs),
      chunk: seconds(stats.chunkMs),
      embed: seconds(stats.embedMs),
      upsert: seconds(stats.upsertMs),
      delete: seconds(stats.deleteMs),
      tei_queue: teiReported ? seconds(stats.teiQueueMs) : null,
      tei_inference: teiReported ? seconds(stats.teiInferenceMs) : null,
    },
    embed_wait_seconds: seconds(stats.embedWaitMs),
    failed_out: context.failedOut,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
