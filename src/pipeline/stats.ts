/**
 * Counters of one ingest run. The pipeline only increments them; the progress renderer reads them
 * on its own timer, so the hot path never pays for rendering.
 */
export class IngestStats {
  readonly startedAt = performance.now();
  filesTotal = 0;
  bytesTotal = 0;
  filesDone = 0;
  bytesDone = 0;
  /** Documents read (duplicates included), and what became of them. */
  documents = 0;
  documentsNew = 0;
  documentsChanged = 0;
  /** Skipped: Qdrant already held exactly what this run would write. */
  documentsUnchanged = 0;
  /** No text to index (front matter only, whitespace): whatever Qdrant held of them is deleted. */
  documentsEmpty = 0;
  /** Document ids read more than once; each later occurrence replaced the earlier. */
  duplicates = 0;
  /** Stored documents marked as being rewritten before their new chunks were sent. */
  documentsMarked = 0;
  /** Stored documents of the ingested sources that were not read, deleted by `--prune`. */
  documentsPruned = 0;
  chunks = 0;
  /** Stored chunks deleted: surplus chunks of shrunk documents, chunks of emptied ones. */
  chunksDeleted = 0;
  /** Delete, mark and prune requests to Qdrant, and their time (ms, one at a time). */
  deleteRequests = 0;
  deleteMs = 0;
  /** Requests sent to the embedder and answered. */
  embedRequests = 0;
  /** Chunks sent to TEI and answered. */
  chunksEmbedded = 0;
  /** Chunks that arrived with a precomputed vector. */
  chunksPrecomputed = 0;
  vectorsUpserted = 0;
  bytesUpserted = 0;
  /** Input skipped as unreadable (lines, files) and chunks that could not be ingested. */
  skipped = 0;
  failed = 0;
  warnings = 0;
  retries = 0;
  /** Estimated tokens of the chunks sent to the embedder (precomputed vectors have none). */
  tokensEstimated = 0;
  /** Tokens TEI reported counting (`x-compute-tokens`), where it said. */
  tokensCounted = 0;
  /** Chunks whose estimated length exceeds TEI's `max_input_length`: TEI truncated them. */
  truncated = 0;
  /** Busy time per stage, ms (summed over concurrent requests for embed and upsert). */
  readMs = 0;
  chunkMs = 0;
  embedMs = 0;
  upsertMs = 0;
  /** TEI's own queue and inference time, ms, summed over requests. */
  teiQueueMs = 0;
  teiInferenceMs = 0;
  private readonly upsertMarks: Array<[ms: number, vectors: number]> = [];

  recordUpsert(vectors: number, bytes: number, busyMs: number): void {
    this.vectorsUpserted += vectors;
    this.bytesUpserted += bytes;
    this.upsertMs += busyMs;
    this.upsertMarks.push([performance.now(), vectors]);
  }

  elapsedMs(now = performance.now()): number {
    return now - this.startedAt;
  }

  /** Vectors per second over the last `windowMs` (a moving average for the progress display). */
  recentRate(windowMs: number, now = performance.now()): number {
    let vectors = 0;
    for (let index = this.upsertMarks.length - 1; index >= 0; index -= 1) {
      const [at, count] = this.upsertMarks[index]!;
      if (at < now - windowMs) break;
      vectors += count;
    }
    const span = Math.min(windowMs, this.elapsedMs(now));
    return span > 0 ? (vectors * 1000) / span : 0;
  }

  /** The best rate over any one-second window of the run. */
  peakRate(): number {
    let peak = 0;
    let windowVectors = 0;
    let start = 0;
    for (let end = 0; end < this.upsertMarks.length; end += 1) {
      const [at, count] = this.upsertMarks[end]!;
      windowVectors += count;
      while (this.upsertMarks[start]![0] < at - 1000) {
        windowVectors -= this.upsertMarks[start]![1];
        start += 1;
      }
      peak = Math.max(peak, windowVectors);
    }
    // A run shorter than a second: its mean is its peak.
    return Math.max(peak, this.meanRate());
  }

  meanRate(now = performance.now()): number {
    const seconds = this.elapsedMs(now) / 1000;
    return seconds > 0 ? this.vectorsUpserted / seconds : 0;
  }
}
