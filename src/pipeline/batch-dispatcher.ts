import PQueue from 'p-queue';
import { BatchBuilder, type BatchLimits } from './batch-builder.js';

/**
 * Groups items into batches within `limits` and hands each full batch to `send`, with
 * `concurrency` sends running and as many waiting (p-queue). `add` waits while that queue is full:
 * that wait is the pipeline's backpressure. The first error a send throws is fatal: it is raised
 * by the next `add` or by `finish`, so that no more work is queued behind a broken service.
 */
export class BatchDispatcher<T> {
  private readonly queue: PQueue;
  private readonly batches: BatchBuilder<T>;
  private fatal: unknown;

  constructor(
    limits: BatchLimits,
    private readonly concurrency: number,
    private readonly send: (batch: T[]) => Promise<void>,
  ) {
    this.queue = new PQueue({ concurrency });
    this.batches = new BatchBuilder(limits);
  }

  async add(item: T, tokens: number, bytes: number): Promise<void> {
    this.throwIfFailed();
    const full = this.batches.add(item, tokens, bytes);
    if (full) await this.dispatch(full);
  }

  /** Send what is buffered and wait for every send in flight. */
  async finish(): Promise<void> {
    const rest = this.batches.take();
    if (rest.length > 0) await this.dispatch(rest);
    await this.queue.onIdle();
    this.throwIfFailed();
  }

  /** Items buffered plus batches queued or running. */
  get pending(): number {
    return this.batches.size + this.queue.size + this.queue.pending;
  }

  private async dispatch(batch: T[]): Promise<void> {
    await this.queue.onSizeLessThan(this.concurrency);
    this.throwIfFailed();
    this.queue
      .add(() => this.send(batch))
      .catch((error: unknown) => {
        this.fatal ??= error;
      });
  }

  private throwIfFailed(): void {
    if (this.fatal !== undefined) throw this.fatal;
  }
}

/**
 * Send `batch`; when `isRejected` says the receiver refused it as bad input, split it in halves
 * until the offending items are isolated and report those alone through `onRejected`.
 */
export async function sendIsolatingRejects<T>(
  batch: T[],
  send: (batch: T[]) => Promise<void>,
  isRejected: (error: unknown) => boolean,
  onRejected: (item: T, error: unknown) => void,
): Promise<void> {
  try {
    await send(batch);
  } catch (error) {
    if (!isRejected(error)) throw error;
    if (batch.length === 1) {
      onRejected(batch[0]!, error);
      return;
    }
    const middle = Math.ceil(batch.length / 2);
    await sendIsolatingRejects(batch.slice(0, middle), send, isRejected, onRejected);
    await sendIsolatingRejects(batch.slice(middle), send, isRejected, onRejected);
  }
}
