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
  embedCalls = 0;
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
  /**
   * Time chunks waited in the embed stage with no embedding request in flight, ms: the embedder had
   * nothing of this run to work on although there was work, so taboot, not the embedder, set the pace.
   */
  embedWaitMs = 0;
  /** The most embedding requests allowed in flight at once (`tei.concurrency: auto` raises it). */
  embedConcurrencyPeak = 0;
  /** TEI's own queue and inference time, ms, summed over requests. */
  teiQueueMs = 0;
  teiInferenceMs = 0;
  /**
   * Responses that carried TEI's timing headers (`x-queue-time`, `x-inference-time`): without
   * any, the two sums above are unknown rather than zero (another server, or only precomputed
   * vectors). `recordTeiTimings` keeps it.
   */
  teiTimingsReported = 0;
  /** Upsert requests sent to Qdrant and not yet answered (a retry's backoff is not a request). */
  readonly upsertRequests = new InFlight();
  /** Embedding requests sent to TEI and not yet answered. */
  readonly embedRequests = new InFlight();
  private readonly upsertMarks: Array<[ms: number, vectors: number]> = [];

  /** Adds one TEI response's queue and inference times (ms), where it reported them. */
  recordTeiTimings(queueMs: number | undefined, inferenceMs: number | undefined): void {
    if (queueMs === undefined && inferenceMs === undefined) return;
    this.teiTimingsReported += 1;
    this.teiQueueMs += queueMs ?? 0;
    this.teiInferenceMs += inferenceMs ?? 0;
  }

  recordUpsert(vectors: number, bytes: number, busyMs: number): void {
    this.vectorsUpserted += vectors;
    this.bytesUpserted += bytes;
    this.upsertMs += busyMs;
    this.upsertMarks.push([performance.now(), vectors]);
  }

  elapsedMs(now = performance.now()): number {
    return now - this.startedAt;
  }

  /** When Qdrant acknowledged each upsert and how many vectors it held, in order: for rates. */
  get acknowledgements(): ReadonlyArray<readonly [ms: number, vectors: number]> {
    return this.upsertMarks;
  }

  /** The best rate over any window of `peakWindowMs(run length)` within the run; see `peakRate`. */
  peakRate(now = performance.now()): number {
    const runMs = this.elapsedMs(now);
    return peakRate(this.upsertMarks, this.startedAt, now, peakWindowMs(runMs));
  }

  meanRate(now = performance.now()): number {
    const seconds = this.elapsedMs(now) / 1000;
    return seconds > 0 ? this.vectorsUpserted / seconds : 0;
  }
}

/**
 * The window the peak rate is measured over: a tenth of the run in whole seconds, between 5 s and
 * 60 s. A shorter window would measure how acknowledgements bunch up (a batch of 500 points is
 * acknowledged at once, several batches at the end of a short run) rather than a rate that could
 * be sustained.
 */
export function peakWindowMs(runMs: number): number {
  return Math.min(60_000, Math.max(5_000, Math.round(runMs / 10_000) * 1000));
}

/**
 * The highest rate (per second) of `marks` ([time ms, count]) over any window of `windowMs` lying
 * within [startMs, endMs]. A run no longer than the window has one window, so its peak is its
 * mean. Only windows that start at a mark or end at `endMs` need checking: sliding any other window
 * right until its start meets a mark never lowers its count.
 */
export function peakRate(
  marks: ReadonlyArray<readonly [ms: number, count: number]>,
  startMs: number,
  endMs: number,
  windowMs: number,
): number {
  const runMs = endMs - startMs;
  if (runMs <= 0) return 0;
  const total = marks.reduce((sum, [, count]) => sum + count, 0);
  if (runMs <= windowMs) return (total * 1000) / runMs;
  const lastStart = endMs - windowMs;
  let best = 0;
  let end = 0;
  let inWindow = 0;
  for (let start = 0; start < marks.length && marks[start]![0] <= lastStart; start += 1) {
    while (end < marks.length && marks[end]![0] < marks[start]![0] + windowMs) {
      inWindow += marks[end]![1];
      end += 1;
    }
    best = Math.max(best, inWindow);
    inWindow -= marks[start]![1];
  }
  const last = marks.reduce((sum, [at, count]) => (at >= lastStart ? sum + count : sum), 0);
  best = Math.max(best, last);
  return (best * 1000) / windowMs;
}

/**
 * Requests in flight to one service, for the progress display: how many, and since when the
 * oldest has been waiting, so that a slow server can be told from a stuck client.
 */
export class InFlight {
  private readonly started = new Map<number, number>();
  private next = 0;

  /** Requests sent and not yet answered. */
  get count(): number {
    return this.started.size;
  }

  /** `performance.now()` when the oldest request still waiting was sent; undefined when none is. */
  get oldestStartedAt(): number | undefined {
    // Map keeps insertion order, and requests are inserted as they start.
    for (const at of this.started.values()) return at;
    return undefined;
  }

  /** Marks a request sent; call the returned function when it is answered or fails. */
  begin(now = performance.now()): () => void {
    const id = this.next;
    this.next += 1;
    this.started.set(id, now);
    return () => {
      this.started.delete(id);
    };
  }
}

/** `request` counted in `inFlight` (when there is one) while it runs. */
export async function track<T>(inFlight: InFlight | undefined, request: () => Promise<T>): Promise<T> {
  const end = inFlight?.begin();
  try {
    return await request();
  } finally {
    end?.();
  }
}
