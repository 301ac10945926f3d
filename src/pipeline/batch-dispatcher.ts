import PQueue from 'p-queue';
import { BatchBuilder, type BatchLimits } from './batch-builder.js';
import { LengthSortedBatches } from './sorted-batches.js';

export interface BatchDispatcherOptions {
  /**
   * How long buffered items may wait for more when nothing is being added and a send slot is
   * free, in ms; then they go as a smaller batch. Default 200.
   */
  lingerMs?: number;
  /**
   * Sort each window of this many items by length before cutting them into batches
   * (`LengthSortedBatches`); default: batches in arrival order.
   */
  sortWindow?: number;
}

const defaultLingerMs = 200;

/** Items in, batches out: in arrival order, or sorted by length within a window. */
interface Batches<T> {
  readonly size: number;
  add(item: T, tokens: number, bytes: number): T[][];
  take(): T[][];
}

/**
 * Groups items into batches within `limits` and hands each full batch to `send`, with
 * `concurrency` sends running and as many waiting (p-queue). `add` waits while that queue is full:
 * that wait is the pipeline's backpressure. The first error a send throws is fatal: it is raised
 * by the next `add` or by `finish`, so that no more work is queued behind a broken service. Items
 * that were never acknowledged because of it (the failed batch, what was buffered, what arrived
 * after) are kept for `takeUnsent`, so the caller can report every one of them.
 *
 * A partial batch is not left behind while a send slot is free: when nothing has been added for
 * `lingerMs` (the producer is waiting on something else, or is slower than the sends), it is sent
 * as it is. So no connection sits idle while items wait here.
 */
export class BatchDispatcher<T> {
  private readonly queue: PQueue;
  private readonly batches: Batches<T>;
  private readonly lingerMs: number;
  private fatal: unknown;
  private unsent: T[] = [];
  private lastAddAt = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private finishing = false;

  constructor(
    limits: BatchLimits,
    concurrency: number,
    private readonly send: (batch: T[]) => Promise<void>,
    options: BatchDispatcherOptions = {},
  ) {
    const lingerMs = options.lingerMs ?? defaultLingerMs;
    if (!Number.isFinite(lingerMs) || lingerMs < 0) {
      throw new TypeError(`Expected \`lingerMs\` to be a non-negative number, got \`${lingerMs}\``);
    }
    this.lingerMs = lingerMs;
    this.queue = new PQueue({ concurrency });
    this.batches =
      options.sortWindow === undefined
        ? inArrivalOrder(new BatchBuilder<T>(limits))
        : new LengthSortedBatches<T>(limits, options.sortWindow);
  }

  /** Sends running at once, and batches queued behind them at most; may change between batches. */
  get concurrency(): number {
    return this.queue.concurrency;
  }

  set concurrency(value: number) {
    // p-queue starts queued sends at once when this grows; a lingering batch may fit now too.
    this.queue.concurrency = value;
    this.flushIfLingering();
  }

  /** Items buffered plus batches queued: what waits for a send to start. */
  get waiting(): number {
    return this.batches.size + this.queue.size;
  }

  /** Batches waiting for a free place: more than zero means the concurrency holds them back. */
  get backlog(): number {
    return this.queue.size;
  }

  async add(item: T, tokens: number, bytes: number): Promise<void> {
    if (this.fatal !== undefined) {
      this.unsent.push(item);
      throw this.fatal;
    }
    this.lastAddAt = performance.now();
    const full = this.batches.add(item, tokens, bytes);
    this.armLinger();
    await this.dispatchAll(full);
  }

  /**
   * Send what is buffered and wait for every send in flight, even after a fatal error: nothing may
   * still be running once this returns or throws.
   */
  async finish(): Promise<void> {
    this.finishing = true;
    this.disarmLinger();
    const rest = this.batches.take();
    try {
      await this.dispatchAll(rest);
    } finally {
      await this.queue.onIdle();
    }
    this.throwIfFailed();
  }

  /** Record items that can no longer be added because of the fatal error. */
  keepUnsent(items: readonly T[]): void {
    this.unsent.push(...items);
  }

  /** Items not acknowledged because of the fatal error (empty when there was none). */
  takeUnsent(): T[] {
    this.disarmLinger();
    const unsent = [...this.unsent, ...this.batches.take().flat()];
    this.unsent = [];
    return unsent;
  }

  /** Items buffered plus batches queued or running. */
  get pending(): number {
    return this.batches.size + this.queue.size + this.queue.pending;
  }

  /** Dispatch each batch in turn; after a fatal error the ones not reached are kept as unsent too. */
  private async dispatchAll(batches: T[][]): Promise<void> {
    for (let index = 0; index < batches.length; index += 1) {
      try {
        await this.dispatch(batches[index]!);
      } catch (error) {
        for (const rest of batches.slice(index + 1)) this.unsent.push(...rest);
        throw error;
      }
    }
  }

  private async dispatch(batch: T[]): Promise<void> {
    // Every waiter wakes on the same event; re-check, so that concurrent producers (the embed
    // stage's sends all feed this stage) take the freed places one each instead of all at once.
    while (this.queue.size >= this.concurrency) await this.queue.onSizeLessThan(this.concurrency);
    if (this.fatal !== undefined) {
      this.unsent.push(...batch);
      throw this.fatal;
    }
    this.enqueue(batch);
  }

  /** Hands `batch` to the queue at once; callers have checked that there is room. */
  private enqueue(batch: T[]): void {
    this.queue
      .add(() => this.send(batch))
      .catch((error: unknown) => {
        if (error instanceof HandedOverError) {
          // The batch had been passed on to the next stage, which now answers for its items.
          this.fatal ??= error.cause;
          return;
        }
        this.fatal ??= error;
        this.unsent.push(...batch);
      })
      // A freed slot may be what a lingering partial batch waits for.
      .finally(() => this.flushIfLingering());
  }

  private armLinger(): void {
    if (this.lingerTimer !== undefined || this.batches.size === 0 || this.finishing) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.flushIfLingering();
    }, this.lingerMs);
  }

  private disarmLinger(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  /**
   * Send the buffered items as a batch of their own if nothing was added for `lingerMs` and a send
   * can start now; otherwise look again when the linger is up or a send ends.
   */
  private flushIfLingering(): void {
    if (this.finishing || this.fatal !== undefined || this.batches.size === 0) return;
    const idleMs = performance.now() - this.lastAddAt;
    if (idleMs < this.lingerMs) {
      this.disarmLinger();
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.flushIfLingering();
      }, this.lingerMs - idleMs);
      return;
    }
    // Only into a free slot: a partial batch must not queue behind full ones, it would only grow.
    if (this.queue.pending >= this.concurrency || this.queue.size > 0) return;
    this.disarmLinger();
    for (const batch of this.batches.take()) this.enqueue(batch);
  }

  private throwIfFailed(): void {
    if (this.fatal !== undefined) throw this.fatal;
  }
}

function inArrivalOrder<T>(builder: BatchBuilder<T>): Batches<T> {
  return {
    get size() {
      return builder.size;
    },
    add: (item, tokens, bytes) => {
      const full = builder.add(item, tokens, bytes);
      return full ? [full] : [];
    },
    take: () => {
      const rest = builder.take();
      return rest.length > 0 ? [rest] : [];
    },
  };
}

/**
 * Thrown by a send whose batch was already handed to the next stage when that stage failed: the
 * batch must not be reported as unsent here too.
 */
export class HandedOverError extends Error {
  constructor(cause: unknown) {
    super('the next stage failed', { cause });
    this.name = 'HandedOverError';
  }
}

/**
 * Send `batch`; when `isRejected` says the receiver refused it as bad input, split it in halves
 * until the offending items are isolated and report those alone through `onRejected`. When every
 * item of a batch is refused, the fault is not in the items (a schema or size that changed under
 * the run): that is raised as fatal instead of failing the whole corpus one item at a time.
 */
export async function sendIsolatingRejects<T>(
  batch: T[],
  send: (batch: T[]) => Promise<void>,
  isRejected: (error: unknown) => boolean,
  onRejected: (item: T, error: unknown) => void,
): Promise<void> {
  const rejected: Array<[T, unknown]> = [];
  await isolate(batch, send, isRejected, (item, error) => rejected.push([item, error]));
  if (batch.length > 1 && rejected.length === batch.length) throw rejected[0]![1];
  for (const [item, error] of rejected) onRejected(item, error);
}

async function isolate<T>(
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
    await isolate(batch.slice(0, middle), send, isRejected, onRejected);
    await isolate(batch.slice(middle), send, isRejected, onRejected);
  }
}
