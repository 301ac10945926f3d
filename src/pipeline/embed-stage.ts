import PQueue from 'p-queue';
import type { EmbedBatchLimits } from '../embed/batch-limits.js';
import type { Embedder, EmbedResult } from '../embed/embedder.js';
import { ServiceError, TabootError } from '../errors.js';
import { BatchBuilder } from './batch-builder.js';
import { type RetryEvent, type RetryPolicy, withRetry } from './retry.js';
import type { ItemFailure, WorkItem } from './work-item.js';

export interface EmbedStageOptions {
  limits: EmbedBatchLimits;
  concurrency: number;
  retry: RetryPolicy;
  /** Expected vector length: a different one is a fatal mismatch, never upserted. */
  dimensions: number;
  signal?: AbortSignal;
  /** Receives each embedded batch; awaited, so a slow upsert stage slows embedding down. */
  onEmbedded: (
    items: Array<WorkItem & { vector: Float32Array }>,
    result: EmbedResult,
    ms: number,
  ) => Promise<void>;
  onFailed: (failures: readonly ItemFailure[]) => void;
  onRetry: (event: RetryEvent) => void;
}

/**
 * Batches chunk texts into TEI requests bounded by inputs, tokens and body bytes, with
 * `concurrency` requests in flight so that TEI's own dynamic batcher stays full. Overload, outages
 * and lost connections are retried; a request TEI rejects as invalid is split until the offending
 * text is isolated and reported; TEI staying down past every retry is fatal.
 */
export class EmbedStage {
  private readonly queue: PQueue;
  private readonly batches: BatchBuilder<WorkItem>;
  private fatal: unknown;

  constructor(
    private readonly embedder: Embedder,
    private readonly options: EmbedStageOptions,
  ) {
    this.queue = new PQueue({ concurrency: options.concurrency });
    this.batches = new BatchBuilder(options.limits);
  }

  async add(item: WorkItem): Promise<void> {
    this.throwIfFailed();
    const bytes = Buffer.byteLength(item.text) + 8;
    const full = this.batches.add(item, item.estimatedTokens, bytes);
    if (full) await this.dispatch(full);
  }

  async finish(): Promise<void> {
    const rest = this.batches.take();
    if (rest.length > 0) await this.dispatch(rest);
    await this.queue.onIdle();
    this.throwIfFailed();
  }

  get pending(): number {
    return this.batches.size + this.queue.size + this.queue.pending;
  }

  private async dispatch(batch: WorkItem[]): Promise<void> {
    await this.queue.onSizeLessThan(this.options.concurrency);
    this.throwIfFailed();
    this.queue
      .add(() => this.send(batch))
      .catch((error: unknown) => {
        this.fatal ??= error;
      });
  }

  private async send(batch: WorkItem[]): Promise<void> {
    const started = performance.now();
    let result: EmbedResult;
    try {
      result = await withRetry(
        () =>
          this.embedder.embed(
            batch.map((item) => item.text),
            this.options.signal,
          ),
        this.options.retry,
        { signal: this.options.signal, onRetry: this.options.onRetry },
      );
    } catch (error) {
      if (!isRejectedInput(error)) throw error;
      if (batch.length === 1) {
        this.options.onFailed([{ item: batch[0]!, stage: 'embed', reason: (error as ServiceError).message }]);
        return;
      }
      const middle = Math.ceil(batch.length / 2);
      await this.send(batch.slice(0, middle));
      await this.send(batch.slice(middle));
      return;
    }
    const ms = performance.now() - started;
    const embedded = batch.map((item, index) => {
      const vector = result.vectors[index]!;
      if (vector.length !== this.options.dimensions) {
        throw new TabootError(
          `TEI returned ${vector.length}-dimensional embeddings, the collection takes ${this.options.dimensions}`,
        );
      }
      return { ...item, vector };
    });
    await this.options.onEmbedded(embedded, result, ms);
  }

  private throwIfFailed(): void {
    if (this.fatal !== undefined) throw this.fatal;
  }
}

/** 413 (body too large) and 422 (validation) say this request, not TEI, is the problem. */
function isRejectedInput(error: unknown): boolean {
  return (
    error instanceof ServiceError && error.service === 'tei' && (error.code === '413' || error.code === '422')
  );
}
