import PQueue from 'p-queue';
import { ServiceError } from '../errors.js';
import { estimatePointBytes } from '../qdrant/point-encoder.js';
import { BatchBuilder } from './batch-builder.js';
import type { PointSink } from './point-sink.js';
import { type RetryEvent, type RetryPolicy, withRetry } from './retry.js';
import { type ItemFailure, toPoint, type WorkItem } from './work-item.js';

export interface UpsertStageOptions {
  batchSize: number;
  batchBytes: number;
  parallel: number;
  retry: RetryPolicy;
  signal?: AbortSignal;
  onUpserted: (items: readonly WorkItem[], bytes: number, ms: number) => void;
  onFailed: (failures: readonly ItemFailure[]) => void;
  onRetry: (event: RetryEvent) => void;
}

type Embedded = WorkItem & { vector: Float32Array };

/**
 * Upserts points in batches of at most `batchSize` points and `batchBytes` encoded bytes, with
 * `parallel` requests in flight (p-queue). `add` waits while the queue is full: that wait is the
 * pipeline's backpressure. Transient failures are retried; a batch Qdrant rejects as bad input is
 * split in halves until the offending points are isolated, so one bad point never costs its
 * neighbours. Any other failure (Qdrant down past every retry, collection gone) is fatal: it is
 * raised by the next `add` or by `finish`.
 */
export class UpsertStage {
  private readonly queue: PQueue;
  private readonly batches: BatchBuilder<Embedded>;
  private fatal: unknown;

  constructor(
    private readonly sink: PointSink,
    private readonly options: UpsertStageOptions,
  ) {
    this.queue = new PQueue({ concurrency: options.parallel });
    this.batches = new BatchBuilder({
      maxInputs: options.batchSize,
      maxTokens: Infinity,
      maxBytes: options.batchBytes,
    });
  }

  async add(item: Embedded): Promise<void> {
    this.throwIfFailed();
    const full = this.batches.add(item, 0, estimatePointBytes(toPoint(item)));
    if (full) await this.dispatch(full);
  }

  /** Send what is buffered and wait for every request in flight. */
  async finish(): Promise<void> {
    const rest = this.batches.take();
    if (rest.length > 0) await this.dispatch(rest);
    await this.queue.onIdle();
    this.throwIfFailed();
  }

  /** Points waiting in the buffer or in requests not yet acknowledged. */
  get pending(): number {
    return this.batches.size + this.queue.size + this.queue.pending;
  }

  private async dispatch(batch: Embedded[]): Promise<void> {
    // Backpressure: at most `parallel` requests running and as many waiting.
    await this.queue.onSizeLessThan(this.options.parallel);
    this.throwIfFailed();
    this.queue
      .add(() => this.send(batch))
      .catch((error: unknown) => {
        this.fatal ??= error;
      });
  }

  private async send(batch: Embedded[]): Promise<void> {
    const started = performance.now();
    try {
      const bytes = await withRetry(
        () => this.sink.upsert(batch.map(toPoint), this.options.signal),
        this.options.retry,
        { signal: this.options.signal, onRetry: this.options.onRetry },
      );
      this.options.onUpserted(batch, bytes, performance.now() - started);
    } catch (error) {
      if (!isBadInput(error)) throw error;
      if (batch.length === 1) {
        this.options.onFailed([
          { item: batch[0]!, stage: 'upsert', reason: (error as ServiceError).message },
        ]);
        return;
      }
      const middle = Math.ceil(batch.length / 2);
      await this.send(batch.slice(0, middle));
      await this.send(batch.slice(middle));
    }
  }

  private throwIfFailed(): void {
    if (this.fatal !== undefined) throw this.fatal;
  }
}

function isBadInput(error: unknown): boolean {
  return error instanceof ServiceError && error.code === 'INVALID_ARGUMENT';
}
