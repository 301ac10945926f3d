import type { EmbedBatchLimits } from '../../embed/batch-limits.js';
import type { Embedder, EmbedResult } from '../../embed/embedder.js';
import { errorMessage, isRejectedInput, TabootError } from '../../errors.js';
import { BatchDispatcher, HandedOverError, sendIsolatingRejects } from '../batch-dispatcher.js';
import { type RetryEvent, type RetryPolicy, withRetry } from '../retry.js';
import { type InFlight, track } from '../stats.js';
import type { ItemFailure, WorkItem } from '../work-item.js';

export interface EmbedStageOptions {
  limits: EmbedBatchLimits;
  concurrency: number;
  retry: RetryPolicy;
  /** Expected vector length: a different one is a fatal mismatch, never upserted. */
  dimensions: number;
  /** Cancels requests in flight (and retries). */
  signal?: AbortSignal;
  /** Lets requests in flight finish but starts no more retries: the drain after Ctrl-C. */
  stopRetries?: AbortSignal;
  /** Receives each embedded batch; awaited, so a slow upsert stage slows embedding down. */
  onEmbedded: (
    items: Array<WorkItem & { vector: Float32Array }>,
    result: EmbedResult,
    ms: number,
  ) => Promise<void>;
  onFailed: (failures: readonly ItemFailure[]) => void;
  onRetry: (event: RetryEvent) => void;
  /** Counts each request while TEI has it, for the progress display. */
  inFlight?: InFlight;
}

/**
 * Batches chunk texts into TEI requests bounded by inputs, tokens and body bytes, with
 * `concurrency` requests in flight so that TEI's own dynamic batcher stays full. Overload, outages
 * and lost connections are retried; a request TEI rejects as invalid is split until the offending
 * text is isolated and reported; TEI staying down past every retry is fatal.
 */
export class EmbedStage {
  private readonly dispatcher: BatchDispatcher<WorkItem>;

  constructor(
    private readonly embedder: Embedder,
    private readonly options: EmbedStageOptions,
  ) {
    this.dispatcher = new BatchDispatcher(options.limits, options.concurrency, (batch) =>
      sendIsolatingRejects(
        batch,
        (part) => this.send(part),
        isRejectedInput,
        (item, error) => options.onFailed([{ item, stage: 'embed', reason: errorMessage(error) }]),
      ),
    );
  }

  add(item: WorkItem): Promise<void> {
    return this.dispatcher.add(item, item.estimatedTokens, Buffer.byteLength(item.text) + 8);
  }

  finish(): Promise<void> {
    return this.dispatcher.finish();
  }

  get pending(): number {
    return this.dispatcher.pending;
  }

  /** Items never acknowledged because of a fatal error. */
  takeUnsent() {
    return this.dispatcher.takeUnsent();
  }

  private async send(batch: WorkItem[]): Promise<void> {
    const started = performance.now();
    const result = await withRetry(
      () =>
        track(this.options.inFlight, () =>
          this.embedder.embed(
            batch.map((item) => item.text),
            this.options.signal,
          ),
        ),
      this.options.retry,
      { signal: this.options.signal ?? this.options.stopRetries, onRetry: this.options.onRetry },
    );
    const ms = performance.now() - started;
    const embedded = batch.map((item, index) => {
      const vector = result.vectors[index]!;
      if (vector.length !== this.options.dimensions) {
        throw new TabootError(
          `the embedder returned ${vector.length}-dimensional embeddings, the collection takes ${this.options.dimensions}`,
        );
      }
      return { ...item, vector };
    });
    try {
      await this.options.onEmbedded(embedded, result, ms);
    } catch (error) {
      throw new HandedOverError(error);
    }
  }
}
