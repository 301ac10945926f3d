import type { Chunk } from '../chunking/markdown-chunker.js';
import { chunkMarkdown } from '../chunking/markdown-chunker.js';
import { estimateTokens } from '../chunking/tokens.js';
import type { Config } from '../config/schema.js';
import type { EmbedBatchLimits } from '../embed/batch-limits.js';
import type { Embedder } from '../embed/embedder.js';
import { TabootError, UsageError } from '../errors.js';
import { pointId } from '../qdrant/point-id.js';
import { type DiscoveredFile, discoverFiles } from '../sources/discover.js';
import type { SourceDocument, SourceProblem } from '../sources/document.js';
import { readDocuments } from '../sources/read.js';
import { EmbedStage } from './embed-stage.js';
import { asRetriedChunk, FailedChunkWriter, type RetriedChunk } from './failed-chunks.js';
import { buildPayload } from './payload.js';
import type { PointSink } from './point-sink.js';
import { defaultRetryPolicy, type RetryEvent, withRetry } from './retry.js';
import { IngestStats } from './stats.js';
import type { IngestedDocument, SurplusChunkDeleter } from './surplus-chunks.js';
import { UpsertStage } from './upsert-stage.js';
import type { ItemFailure, WorkItem } from './work-item.js';

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
  embedder: Embedder;
  sink: PointSink;
  limits: EmbedBatchLimits;
  dimensions: number;
  /** TEI's `max_input_length`: longer chunks are truncated by TEI. */
  maxInputTokens: number;
  /** Deletes chunks that documents no longer have; absent in `--dry-run`. */
  surplus?: SurplusChunkDeleter;
}

/** Documents per surplus-chunk delete request. */
const surplusBatch = 256;

export interface IngestEvents {
  onProblem(problem: SourceProblem): void;
  onFailure(failure: ItemFailure): void;
  onRetry(service: 'tei' | 'qdrant', event: RetryEvent): void;
  /** A line for the user that is neither bad input nor one chunk's failure. */
  onWarning?(line: string): void;
}

export interface IngestOutcome {
  stats: IngestStats;
  interrupted: boolean;
  /** The error that stopped the run, after in-flight work was drained. */
  fatal: unknown;
  failedOut: { path: string; count: number } | undefined;
}

/**
 * discover -> read -> chunk -> embed batches -> upsert batches (DESIGN section 4). Each stage is
 * bounded, so memory follows batch sizes and concurrency, never the corpus. Problems with the
 * input are reported through `events` and counted; a fatal error (a service down past every
 * retry) or a signal stops reading, drains what is in flight and returns the counts so far.
 */
export async function runIngest(
  options: IngestOptions,
  services: IngestServices,
  events: IngestEvents,
  stats = new IngestStats(),
): Promise<IngestOutcome> {
  const { config, signal } = options;
  const files = await discoverFiles([...options.paths], {
    include: config.ingest.include,
    exclude: config.ingest.exclude,
  });
  refuseCollidingPaths(files);
  const fileIndex = new Map(files.map((file, index) => [file.relative, index]));
  const bytesBefore: number[] = [];
  files.reduce((sum, file, index) => {
    bytesBefore[index] = sum;
    return sum + file.size;
  }, 0);
  stats.filesTotal = files.length;
  stats.bytesTotal = files.reduce((sum, file) => sum + file.size, 0);

  const failedOut = options.failedOut
    ? new FailedChunkWriter(
        options.failedOut,
        { idField: config.ingest.idField, textField: config.ingest.textField },
        files.map((file) => file.absolute),
      )
    : undefined;
  const fail = (failure: ItemFailure) => {
    stats.failed += 1;
    failedOut?.write(failure);
    events.onFailure(failure);
  };
  const retryPolicy = { ...defaultRetryPolicy };
  const upserts = new UpsertStage(services.sink, {
    batchSize: config.ingest.batchSize,
    batchBytes: config.ingest.batchBytes,
    parallel: config.ingest.parallel,
    retry: { ...retryPolicy, maxRetries: config.ingest.maxRetries },
    stopRetries: signal,
    onUpserted: (items, bytes, ms) => stats.recordUpsert(items.length, bytes, ms),
    onFailed: (failures) => failures.forEach(fail),
    onRetry: (event) => {
      stats.retries += 1;
      events.onRetry('qdrant', event);
    },
  });
  const embeds = new EmbedStage(services.embedder, {
    limits: services.limits,
    concurrency: config.tei.concurrency,
    retry: { ...retryPolicy, maxRetries: config.tei.maxRetries },
    dimensions: services.dimensions,
    stopRetries: signal,
    onEmbedded: async (items, result, ms) => {
      stats.chunksEmbedded += items.length;
      stats.embedMs += ms;
      stats.tokensCounted += result.tokens ?? 0;
      stats.teiQueueMs += result.queueMs ?? 0;
      stats.teiInferenceMs += result.inferenceMs ?? 0;
      await upserts.addAll(items);
    },
    onFailed: (failures) => failures.forEach(fail),
    onRetry: (event) => {
      stats.retries += 1;
      events.onRetry('tei', event);
    },
  });

  const ingested: IngestedDocument[] = [];
  const deleteSurplus = async () => {
    const documents = ingested.splice(0);
    if (!services.surplus || documents.length === 0) return;
    await withRetry(
      () => services.surplus!.deleteSurplus(documents),
      { ...retryPolicy, maxRetries: config.ingest.maxRetries },
      {
        signal,
        onRetry: (event) => {
          stats.retries += 1;
          events.onRetry('qdrant', event);
        },
      },
    );
  };

  let fatal: unknown;
  try {
    await feed();
    await deleteSurplus();
  } catch (error) {
    fatal = error;
  }
  // Drain: whatever was read is embedded and upserted unless a stage is itself broken. The embed
  // stage finishes first (its last batches feed the upsert stage); both wait for every request in
  // flight even after a fatal error.
  for (const stage of [embeds, upserts]) {
    try {
      await stage.finish();
    } catch (error) {
      fatal ??= error;
    }
  }
  // What a fatal error kept from Qdrant is reported and goes to --failed-out, never silently lost.
  if (fatal !== undefined) {
    const reason = `not ingested: the run stopped (${(fatal as Error).message ?? String(fatal)})`;
    const unsent = [
      ...embeds.takeUnsent().map((item) => ({ item, stage: 'embed' as const, reason })),
      ...upserts.takeUnsent().map((item) => ({ item, stage: 'upsert' as const, reason })),
    ];
    // Counted and written to --failed-out one by one, but told in one line: they share one cause.
    for (const failure of unsent) {
      stats.failed += 1;
      failedOut?.write(failure);
    }
    if (unsent.length > 0) {
      const where = failedOut ? `; they are in ${failedOut.path}` : '; --failed-out would keep them';
      events.onWarning?.(`${unsent.length} chunk(s) read but not ingested because the run stopped${where}`);
    }
  }
  await failedOut?.close();
  return {
    stats,
    interrupted: signal.aborted,
    fatal,
    failedOut: failedOut ? { path: failedOut.path, count: failedOut.count } : undefined,
  };

  async function feed(): Promise<void> {
    let currentFile: string | undefined;
    let readStarted = performance.now();
    const reader = readDocuments(files, {
      textField: config.ingest.textField,
      idField: config.ingest.idField,
      maxLineBytes: config.ingest.maxLineBytes,
    });
    for await (const event of reader) {
      stats.readMs += performance.now() - readStarted;
      if (signal.aborted) break;
      if (event.kind === 'problem') {
        reportProblem(event.problem);
      } else {
        const document = event.document;
        if (document.file !== currentFile) trackFile(document.file);
        currentFile = document.file;
        await ingestDocument(document);
      }
      readStarted = performance.now();
    }
    stats.filesDone = stats.filesTotal;
    stats.bytesDone = stats.bytesTotal;
  }

  function trackFile(file: string): void {
    const index = fileIndex.get(file);
    if (index === undefined) return;
    stats.filesDone = index;
    stats.bytesDone = bytesBefore[index] ?? 0;
  }

  function reportProblem(problem: SourceProblem): void {
    if (problem.severity === 'warning') stats.warnings += 1;
    else stats.skipped += 1;
    events.onProblem(problem);
    if (problem.severity === 'error' && options.onError === 'fail') {
      const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
      throw new TabootError(`${where}: ${problem.reason}`, { hint: 'Stopped by --on-error fail.' });
    }
  }

  async function ingestDocument(document: SourceDocument): Promise<void> {
    stats.documents += 1;
    const chunkStarted = performance.now();
    const retried = asRetriedChunk(document);
    const items = workItemsFor(document, retried);
    stats.chunkMs += performance.now() - chunkStarted;
    // A chunk read back from --failed-out is one chunk of its document, not all of it.
    if (items.length > 0 && !retried) {
      ingested.push({ docId: document.docId, chunkCount: items.length });
      if (ingested.length >= surplusBatch) await deleteSurplus();
    }
    for (const item of items) {
      stats.chunks += 1;
      stats.tokensEstimated += item.estimatedTokens;
      if (item.estimatedTokens > services.maxInputTokens) stats.truncated += 1;
      if (item.vector) {
        if (item.vector.length !== services.dimensions) {
          reportProblem({
            file: item.file,
            line: item.line,
            field: 'vector',
            reason: `vector has ${item.vector.length} dimensions, the collection takes ${services.dimensions}`,
            severity: 'error',
          });
          continue;
        }
        stats.chunksPrecomputed += 1;
        await upserts.add(item as WorkItem & { vector: Float32Array });
      } else {
        await embeds.add(item);
      }
    }
  }

  function workItemsFor(document: SourceDocument, retried: RetriedChunk | undefined): WorkItem[] {
    if (retried) {
      const restored = {
        ...document,
        source: retried.source,
        docHash: retried.docHash,
        metadata: retried.metadata,
      };
      const chunk = { chunkIndex: retried.chunkIndex, text: document.text, section: retried.section };
      return [workItem(restored, chunk, retried.chunkCount, estimateTokens(document.text))];
    }
    // A precomputed vector belongs to the whole text: it is one point, never re-chunked.
    if (document.vector) {
      const chunk = { chunkIndex: 0, text: document.text, section: '' };
      return [workItem(document, chunk, 1, estimateTokens(document.text))];
    }
    const chunks: Chunk[] = chunkMarkdown(document.text, {
      chunkTokens: config.ingest.chunkTokens,
      chunkOverlap: config.ingest.chunkOverlap,
      format: document.format,
    });
    return chunks.map((chunk) => workItem(document, chunk, chunks.length, chunk.estimatedTokens));
  }

  function workItem(
    document: SourceDocument,
    chunk: Pick<Chunk, 'chunkIndex' | 'text' | 'section'>,
    chunkCount: number,
    estimatedTokens: number,
  ): WorkItem {
    return {
      file: document.file,
      line: document.line,
      docId: document.docId,
      chunkIndex: chunk.chunkIndex,
      text: chunk.text,
      payload: buildPayload(document, chunk, chunkCount),
      pointId: pointId(document.docId, chunk.chunkIndex),
      estimatedTokens,
      vector: document.vector,
    };
  }
}

/**
 * A document without an id of its own is named by its path relative to its ingest root, and its
 * point ids derive from that name: two roots holding the same relative path would overwrite each
 * other's points. Refuse before reading rather than lose one of them.
 */
function refuseCollidingPaths(files: readonly DiscoveredFile[]): void {
  const seen = new Map<string, DiscoveredFile>();
  for (const file of files) {
    const earlier = seen.get(file.relative);
    if (earlier && earlier.absolute !== file.absolute) {
      throw new UsageError(
        `${earlier.absolute} and ${file.absolute} are both \`${file.relative}\` under their ingest roots, ` +
          'so they would get the same document id and overwrite each other',
        {
          hint: 'Ingest their common parent folder instead, or give the documents ids (front matter doc_id, JSONL id).',
        },
      );
    }
    seen.set(file.relative, file);
  }
}
