/** What one answered embedding request says about the embedder's queue. */
export interface ConcurrencyObservation {
  /** `round` when the request was sent: answers to requests sent under another limit are ignored. */
  round: number;
  /** The server's queue time for the request (TEI's `x-queue-time`), ms; undefined when it did not say. */
  queueMs: number | undefined;
  /** Batches were waiting for a free place when the answer came: the limit was what held them back. */
  backlog: boolean;
}

export interface AdaptiveConcurrencyOptions {
  /** Requests in flight to start with, and the least the queue time may lower it to. */
  initial: number;
  /** The most: what the server admits before it answers 429 (TEI: `max_concurrent_requests / max_client_batch_size`). */
  max: number;
  /** Raise while the median queue time of a round stays below this, ms. Default 100. */
  lowQueueMs?: number;
  /** Lower (not below `initial`) while it stays above this, ms. Default 500. */
  highQueueMs?: number;
  /** Told each new limit. */
  onChange?: (limit: number) => void;
}

const defaultLowQueueMs = 100;
const defaultHighQueueMs = 500;

/**
 * How many embedding requests to keep in flight, learned from the embedder's own queue time. A GPU
 * runs one batch at a time; it stays busy only while its queue holds the next batch when the
 * current one ends, and the queue must hold enough to ride over the client's pauses (a garbage
 * collection, a slice of chunking). How many requests that takes depends on the GPU: four keep an
 * RTX 4070 busy for a second, but a data-centre GPU empties the same queue ten times sooner.
 *
 * So, once per round (as many answers as the limit, all sent under it): while the median queue time
 * is below `lowQueueMs` and batches were waiting for a place, one more request goes in flight (a
 * quarter more while it is below a quarter of that: the queue is all but empty);
 * above `highQueueMs`, one fewer (never below `initial`), since more only adds waiting and holds
 * the server's permits from other clients. Without queue times (a server that does not report
 * them) the limit stays where it is. A 429 (the server's permits are all taken) halves the limit
 * at once and caps it below where the 429 came.
 */
export class AdaptiveConcurrency {
  private current: number;
  private ceiling: number;
  private counter = 0;
  private answers = 0;
  private queueTimes: number[] = [];
  private backlog = false;
  private readonly lowQueueMs: number;
  private readonly highQueueMs: number;

  constructor(private readonly options: AdaptiveConcurrencyOptions) {
    const { initial, max } = options;
    positiveInteger('initial', initial);
    positiveInteger('max', max);
    this.lowQueueMs = options.lowQueueMs ?? defaultLowQueueMs;
    this.highQueueMs = options.highQueueMs ?? defaultHighQueueMs;
    if (!(this.lowQueueMs >= 0 && this.highQueueMs > this.lowQueueMs)) {
      throw new TypeError(
        `Expected \`highQueueMs\` (${this.highQueueMs}) to be above \`lowQueueMs\` (${this.lowQueueMs}), both non-negative`,
      );
    }
    this.ceiling = max;
    this.current = Math.min(initial, max);
  }

  get limit(): number {
    return this.current;
  }

  /** Changes with every new limit; tag each request with it when sending. */
  get round(): number {
    return this.counter;
  }

  observe(observation: ConcurrencyObservation): void {
    if (observation.round !== this.counter) return;
    this.answers += 1;
    if (observation.queueMs !== undefined) this.queueTimes.push(observation.queueMs);
    this.backlog ||= observation.backlog;
    if (this.answers < this.current) return;
    const queueMs = median(this.queueTimes);
    const floor = Math.min(this.options.initial, this.ceiling);
    if (queueMs !== undefined && queueMs < this.lowQueueMs && this.backlog && this.current < this.ceiling) {
      // Nearly empty: a quarter more, so that a fast GPU is reached in a few rounds; else one more.
      const step = queueMs < this.lowQueueMs / 4 ? Math.ceil(this.current / 4) : 1;
      this.set(Math.min(this.ceiling, this.current + step));
    } else if (queueMs !== undefined && queueMs > this.highQueueMs && this.current > floor) {
      this.set(this.current - 1);
    } else {
      this.newRound();
    }
  }

  /** The server answered 429 to a request sent in `round`; later ones of that round are the same overload. */
  overloaded(round: number): void {
    if (round !== this.counter) return;
    this.ceiling = Math.max(1, this.current - 1);
    this.set(Math.max(1, Math.floor(this.current / 2)));
  }

  private set(limit: number): void {
    this.newRound();
    if (limit === this.current) return;
    this.current = limit;
    this.options.onChange?.(limit);
  }

  private newRound(): void {
    this.counter += 1;
    this.answers = 0;
    this.queueTimes = [];
    this.backlog = false;
  }
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`Expected \`${name}\` to be a positive integer, got \`${value}\``);
  }
}
