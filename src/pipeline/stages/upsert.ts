import { errorMessage, isRejectedInput } from '../../errors.js';
import type { PointSink } from '../../qdrant/point-sink.js';
import { BatchDispatcher, sendIsolatingRejects } from '../batch-dispatcher.js';
import { type RetryEvent, type RetryPolicy, withRetry } from '../retry.js';
import { type InFlight, track } from '../stats.js';
import { type ItemFailure, toPoint, type WorkItem } from '../work-item.js';

export interface UpsertStageOptions {
  batchSize: number;
  batchBytes: number;
  parallel: number;
  retry: RetryPolicy;
  /** Cancels requests in flight (and retries). */
  signal?: AbortSignal;
  /** Lets requests in flight finish but starts no more retries: the drain after Ctrl-C. */
  stopRetries?: AbortSignal;
  onUpserted: (items: readonly WorkItem[], bytes: number, ms: number) => void;
  onFailed: (failures: readonly ItemFailure[]) => void;
  onRetry: (event: RetryEvent) => void;
  /** Counts each request while Qdrant has it, for the progress display. */
  inFlight?: InFlight;
}

type Embedded = WorkItem & { vector: Float32Array };

/**
 * Upserts points in batches of at most `batchSize` points and `batchBytes` encoded bytes, with
 * `parallel` requests in flight; `add` waits while they are all busy. Transient failures are
 * retried; a batch the sink rejects as bad input (`rejectedInput`) is split until the offending
 * points are isolated, so one bad point never costs its neighbours. Any other failure (Qdrant down
 * past every retry, collection gone) is fatal: raised by the next `add` or by `finish`.
 */
export class UpsertStage {
  private readonly dispatcher: BatchDispatcher<Embedded>;

  constructor(
    private readonly sink: PointSink,
    private readonly options: UpsertStageOptions,
  ) {
    this.dispatcher = new BatchDispatcher(
      { maxInputs: options.batchSize, maxTokens: Infinity, maxBytes: options.batchBytes },
      options.parallel,
      (batch) =>
        sendIsolatingRejects(
          batch,
          (part) => this.send(part),
          isRejectedInput,
          (item, error) => options.onFailed([{ item, stage: 'upsert', reason: errorMessage(error) }]),
        ),
    );
  }

  add(item: Embedded): Promise<void> {
    return this.dispatcher.add(item, 0, this.sink.pointBytes(toPoint(item)));
  }

  /** Send what is buffered and wait for every request in flight. */
  finish(): Promise<void> {
    return this.dispatcher.finish();
  }

  /** Points waiting in the buffer or batches not yet acknowledged. */
  get pending(): number {
    return this.dispatcher.pending;
  }

  /**
   * Add each item in turn; when the stage has failed, the items not yet added are kept as unsent
   * with the one that met the failure, so none of them goes unreported.
   */
  async addAll(items: readonly Embedded[]): Promise<void> {
    for (let index = 0; index < items.length; index += 1) {
      try {
        await this.add(items[index]!);
      } catch (error) {
        this.dispatcher.keepUnsent(items.slice(index + 1));
        throw error;
      }
    }
  }

  /** Items never acknowledged because of a fatal error. */
  takeUnsent() {
    return this.dispatcher.takeUnsent();
  }

  private async send(batch: Embedded[]): Promise<void> {
    const started = performance.now();
    const bytes = await withRetry(
      () => track(this.options.inFlight, () => this.sink.upsert(batch.map(toPoint), this.options.signal)),
      this.options.retry,
      { signal: this.options.signal ?? this.options.stopRetries, onRetry: this.options.onRetry },
    );
    this.options.onUpserted(batch, bytes, performance.now() - started);
  }
}
