import type { CollectionEstimate, LargestChunk } from './dry-run.js';
import type { IngestStats } from './stats.js';

/** The end-of-run summary: what `--json` prints, and what the table shows. */
export interface IngestSummary {
  collection: string;
  dry_run: boolean;
  interrupted: boolean;
  files: number;
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
  peak_vps: number;
  /** Busy seconds per stage; embed and upsert sum over concurrent requests. */
  stage_seconds: {
    read: number;
    chunk: number;
    embed: number;
    upsert: number;
    delete: number;
    tei_queue: number;
    tei_inference: number;
  };
  failed_out: { path: string; count: number } | undefined;
  /** The process's peak resident memory so far, MiB (bounded by batch sizes, not corpus size). */
  peak_rss_mb: number;
  /** `--dry-run` only. */
  estimate?: {
    request_bytes: number;
    largest_request_bytes: number;
    collection: CollectionEstimate;
    largest_chunks: LargestChunk[];
  };
}

const seconds = (ms: number) => Math.round(ms) / 1000;

export function summarize(
  stats: IngestStats,
  context: {
    collection: string;
    dryRun: boolean;
    interrupted: boolean;
    failedOut: IngestSummary['failed_out'];
  },
): IngestSummary {
  return {
    collection: context.collection,
    dry_run: context.dryRun,
    interrupted: context.interrupted,
    files: stats.filesTotal,
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
    embed_requests: context.dryRun ? 0 : stats.embedRequests,
    chunks_deleted: stats.chunksDeleted,
    delete_requests: stats.deleteRequests,
    skipped: stats.skipped,
    failed: stats.failed,
    warnings: stats.warnings,
    retries: stats.retries,
    tokens_estimated: stats.tokensEstimated,
    tokens_counted: stats.tokensCounted,
    truncated: stats.truncated,
    wall_seconds: seconds(stats.elapsedMs()),
    mean_vps: context.dryRun ? 0 : Math.round(stats.meanRate()),
    peak_vps: context.dryRun ? 0 : Math.round(stats.peakRate()),
    stage_seconds: {
      read: seconds(stats.readMs),
      chunk: seconds(stats.chunkMs),
      embed: seconds(stats.embedMs),
      upsert: seconds(stats.upsertMs),
      delete: seconds(stats.deleteMs),
      tei_queue: seconds(stats.teiQueueMs),
      tei_inference: seconds(stats.teiInferenceMs),
    },
    failed_out: context.failedOut,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
