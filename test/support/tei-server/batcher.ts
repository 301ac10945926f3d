import type { TeiMetrics, TeiStats } from './metrics.js';

/**
 * TEI's dynamic batcher and its one backend, as core/src/queue.rs and core/src/infer.rs run them:
 *
 * - Every input is its own queue entry (infer.rs `embed` appends one `Entry` per input), so the inputs
 *   of one request can land in different batches, and entries of several requests share one.
 * - A batch takes entries from the front of the queue, in arrival order, while the batch's tokens stay
 *   within `max_batch_tokens`: the sum of the inputs' tokens, or with `padded` (a backend without
 *   variable-length attention) rows × longest row. The first entry that does not fit goes back to the
 *   front and waits for the next batch (queue.rs `entries.push_front(entry); break`): nothing is
 *   skipped over, so order is strictly FIFO. `max_batch_requests` also ends a batch.
 * - Entries whose client has gone are dropped at batch time (`te_request_failure{err="dropped"}`).
 * - One batch runs at a time; the batching task forms the next one while it runs (infer.rs
 *   `batching_task` prefetches one batch through a channel of capacity 1).
 * - Each round of the batching task ends with a call that finds the queue empty, and queue.rs
 *   records that empty batch too: `te_batch_next_size` observes a 0 every time the queue drains.
 *
 * Inputs of one request reach the queue together: the batching task wakes on the next turn of the
 * event loop (`setImmediate`), as TEI's does after its tokenizer workers finish a request.
 *
 * With `serviceRate` (tokens per second) a batch runs for `tokens / serviceRate` seconds (padded
 * tokens with `padded`), on a clock that does not drift with timer granularity; without it a batch
 * takes no time. `onBatch` sees every batch start and end.
 */

export interface BatcherConfig {
  maxBatchTokens: number;
  /** TEI's `--max-batch-requests` (the CPU backend forces 4); undefined for no limit. */
  maxBatchRequests: number | undefined;
  padded: boolean;
  /** Tokens per second the backend processes; undefined for instant batches. */
  serviceRate: number | undefined;
}

export interface BatchEvent {
  phase: 'start' | 'end';
  /** 1 for the first batch run, and so on. */
  batch: number;
  /** The batch's inputs, in queue order. */
  texts: readonly string[];
  /** Sum of the inputs' tokens. */
  tokens: number;
  /** Rows × longest row. */
  paddedTokens: number;
  /** Simulated run time: `tokens / serviceRate` (padded tokens with `padded`), 0 without a rate. */
  serviceSeconds: number;
}

export interface BatchTiming {
  /** Time between entering the queue and the batch starting, ms. */
  queueMs: number;
  /** The batch's service time, ms. */
  inferenceMs: number;
}

interface Entry {
  text: string;
  tokens: number;
  enqueuedAt: number;
  dropped: () => boolean;
  resolve: (timing: BatchTiming) => void;
}

interface Batch {
  entries: Entry[];
  tokens: number;
  paddedTokens: number;
}

export class Batcher {
  private readonly entries: Entry[] = [];
  private head = 0;
  private prefetched: Batch | undefined;
  private running: Batch | undefined;
  private task: 'idle' | 'scheduled' | 'blocked' = 'idle';
  private notified = false;
  private backendFreeAt = 0;
  private batchesStarted = 0;
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout | NodeJS.Immediate>();

  constructor(
    private readonly config: BatcherConfig,
    private readonly stats: TeiStats,
    private readonly metrics: TeiMetrics,
    private readonly onBatch: ((event: BatchEvent) => void) | undefined,
  ) {}

  /**
   * Queues one request's inputs; each promise resolves when that input's batch has run (or at once,
   * with zero times, when its client had gone or the server closed).
   */
  enqueue(
    inputs: readonly { text: string; tokens: number }[],
    dropped: () => boolean,
  ): Promise<BatchTiming>[] {
    const now = performance.now();
    const promises = inputs.map(
      ({ text, tokens }) =>
        new Promise<BatchTiming>((resolve) => {
          if (this.closed) resolve({ queueMs: 0, inferenceMs: 0 });
          else this.entries.push({ text, tokens, enqueuedAt: now, dropped, resolve });
        }),
    );
    this.stats.backend.queued = this.queued;
    this.metrics.queueSize = this.queued;
    this.notify();
    return promises;
  }

  /** Resolves every waiting input and stops the clock; later inputs resolve at once. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) {
      clearTimeout(timer as NodeJS.Timeout);
      clearImmediate(timer as NodeJS.Immediate);
    }
    this.timers.clear();
    const waiting = [
      ...(this.running?.entries ?? []),
      ...(this.prefetched?.entries ?? []),
      ...this.entries.slice(this.head),
    ];
    for (const entry of waiting) entry.resolve({ queueMs: 0, inferenceMs: 0 });
  }

  private get queued(): number {
    return this.entries.length - this.head;
  }

  /** tokio's `Notify::notify_one`: wakes the batching task, or leaves it a permit while it works. */
  private notify(): void {
    this.notified = true;
    if (this.task === 'idle') {
      this.task = 'scheduled';
      this.later(() => this.wake());
    }
  }

  private wake(): void {
    this.notified = false;
    this.formBatches();
  }

  /** infer.rs `batching_task`: reserve the channel slot, form a batch, send it, until none forms. */
  private formBatches(): void {
    for (;;) {
      if (this.prefetched) {
        this.task = 'blocked';
        return;
      }
      const batch = this.nextBatch();
      if (!batch) {
        this.task = 'idle';
        if (this.notified) this.notify();
        return;
      }
      this.prefetched = batch;
      this.startNext();
    }
  }

  /** queue.rs `NextBatch`. */
  private nextBatch(): Batch | undefined {
    const { maxBatchTokens, maxBatchRequests, padded } = this.config;
    const taken: Entry[] = [];
    let tokens = 0;
    let longest = 0;
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head]!;
      if (entry.dropped()) {
        this.head += 1;
        this.stats.backend.dropped += 1;
        this.metrics.increment('te_request_failure{err="dropped"}');
        entry.resolve({ queueMs: 0, inferenceMs: 0 });
        continue;
      }
      const total = padded ? Math.max(longest, entry.tokens) * (taken.length + 1) : tokens + entry.tokens;
      if (total > maxBatchTokens) break;
      this.head += 1;
      taken.push(entry);
      tokens += entry.tokens;
      longest = Math.max(longest, entry.tokens);
      if (taken.length === maxBatchRequests) break;
    }
    this.compact();
    this.metrics.record('te_batch_next_size', taken.length);
    this.metrics.record('te_batch_next_tokens', tokens);
    this.metrics.queueSize = this.queued;
    this.stats.backend.queued = this.queued;
    if (taken.length === 0) return undefined;
    return { entries: taken, tokens, paddedTokens: longest * taken.length };
  }

  /** infer.rs `backend_task`: take the prefetched batch when the backend is free and run it. */
  private startNext(): void {
    if (this.running || !this.prefetched || this.closed) return;
    const batch = this.prefetched;
    this.prefetched = undefined;
    this.running = batch;
    const rate = this.config.serviceRate;
    const work = this.config.padded ? batch.paddedTokens : batch.tokens;
    const serviceSeconds = rate === undefined ? 0 : work / rate;
    const startedAt = performance.now();
    this.batchesStarted += 1;
    const number = this.batchesStarted;
    this.emit('start', number, batch, serviceSeconds);
    const done = () => this.finish(number, batch, serviceSeconds, startedAt);
    if (serviceSeconds === 0) {
      this.later(done);
    } else {
      // Schedule against the backend's own clock, so 1 ms timer granularity never adds up.
      this.backendFreeAt = Math.max(startedAt, this.backendFreeAt) + serviceSeconds * 1000;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        done();
      }, this.backendFreeAt - startedAt);
      this.timers.add(timer);
    }
    if (this.task === 'blocked') this.formBatches();
  }

  private finish(number: number, batch: Batch, serviceSeconds: number, startedAt: number): void {
    this.running = undefined;
    const backend = this.stats.backend;
    backend.batches += 1;
    backend.inputs += batch.entries.length;
    backend.tokens += batch.tokens;
    backend.paddedTokens += batch.paddedTokens;
    backend.busySeconds += serviceSeconds;
    this.metrics.increment('te_backend_busy_seconds', serviceSeconds);
    this.metrics.increment('te_backend_tokens', batch.tokens);
    this.metrics.increment('te_backend_padded_tokens', batch.paddedTokens);
    this.emit('end', number, batch, serviceSeconds);
    const inferenceMs = serviceSeconds * 1000;
    for (const entry of batch.entries) entry.resolve({ queueMs: startedAt - entry.enqueuedAt, inferenceMs });
    this.startNext();
  }

  private emit(phase: 'start' | 'end', batch: number, run: Batch, serviceSeconds: number): void {
    this.onBatch?.({
      phase,
      batch,
      texts: run.entries.map((entry) => entry.text),
      tokens: run.tokens,
      paddedTokens: run.paddedTokens,
      serviceSeconds,
    });
  }

  private later(fn: () => void): void {
    const immediate = setImmediate(() => {
      this.timers.delete(immediate);
      fn();
    });
    this.timers.add(immediate);
  }

  /** Drops consumed entries now and then, so the queue's array does not grow without end. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }
}
