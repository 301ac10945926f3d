import { getMaxListeners, setMaxListeners } from 'node:events';
import type { EmbedBatchLimits } from '../../embed/batch-limits.js';
import { type Embedder, type EmbedResult, maxAutoConcurrency } from '../../embed/embedder.js';
import { errorMessage, isRejectedInput, ServiceError, TabootError } from '../../errors.js';
import { BatchDispatcher, HandedOverError, sendIsolatingRejects } from '../batch-dispatcher.js';
import { AdaptiveConcurrency } from '../embed-concurrency.js';
import { type RetryEvent, type RetryPolicy, withRetry } from '../retry.js';
import { type InFlight, track } from '../stats.js';
import type { ItemFailure, WorkItem } from '../work-item.js';

export interface EmbedStageOptions {
  limits: EmbedBatchLimits;
  /** Requests in flight: a fixed number, or `auto` to follow the embedder's queue time. */
  concurrency: number | 'auto';
  /**
   * What the server admits in flight before it answers 429; `auto` stays at three quarters of it.
   * Default: unknown (`autoConcurrency.max` is the limit).
   */
  maxInFlight?: number;
  /**
   * Sort each window of this many chunks by length before cutting requests, so that batches hold
   * texts of similar length (less padding). Default eight requests' worth; 1 keeps reading order.
   */
  sortWindow?: number;
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
  /**
   * Told each span of time (ms) during which chunks waited here with no request in flight: the
   * embedder had nothing of this run to work on, and taboot, not the embedder, set the pace.
   */
  onStarved?: (ms: number) => void;
  /** Told each new limit of `auto` concurrency. */
  onConcurrency?: (limit: number) => void;
}

/** `auto`: where it starts (and the least queue time lowers it to), and the most it may reach. */
const autoConcurrency = { initial: 4, max: maxAutoConcurrency } as const;

/**
 * The most `auto` may reach: three quarters of what the server admits, so that other clients of the
 * same TEI (searches) still find permits, within `autoConcurrency.max`.
 */
function autoCeiling(serverAdmits: number | undefined): number {
  const share = serverAdmits === undefined ? autoConcurrency.max : Math.floor((serverAdmits * 3) / 4);
  return Math.max(1, Math.min(autoConcurrency.max, share));
}

/** Requests per sort window. */
const windowRequests = 8;

/**
 * Batches chunk texts into TEI requests bounded by inputs, tokens and body bytes, with enough
 * requests in flight that TEI's queue never runs dry: a fixed number, or (`auto`) as many as TEI's
 * queue time says it takes. Chunks are sorted by length within a window so that TEI's batches carry
 * little padding. A partial batch goes as soon as a request can start, rather than waiting to fill,
 * since TEI batches inputs across requests anyway. Overload, outages and lost connections are
 * retried; a request TEI rejects as invalid is split until the offending text is isolated and
 * reported; TEI staying down past every retry is fatal.
 */
export class EmbedStage {
  private readonly dispatcher: BatchDispatcher<WorkItem>;
  private readonly adaptive: AdaptiveConcurrency | undefined;
  /** Requests in flight, and sends whose batch has no vectors yet (in flight or between retries). */
  private requests = 0;
  private awaiting = 0;
  private starvedSince: number | undefined;

  constructor(
    private readonly embedder: Embedder,
    private readonly options: EmbedStageOptions,
  ) {
    const fixed = options.concurrency === 'auto' ? undefined : options.concurrency;
    // Each request in flight and each retry's wait listens on these signals: past Node's default of
    // 10 listeners it warns of a leak that is none.
    const most = fixed ?? autoConcurrency.max;
    for (const signal of new Set([options.signal, options.stopRetries])) {
      if (signal) setMaxListeners(getMaxListeners(signal) + most, signal);
    }
    this.adaptive =
      fixed === undefined
        ? new AdaptiveConcurrency({
            initial: autoConcurrency.initial,
            max: autoCeiling(options.maxInFlight),
            onChange: (limit) => {
              this.dispatcher.concurrency = limit;
              options.onConcurrency?.(limit);
            },
          })
        : undefined;
    this.dispatcher = new BatchDispatcher(
      options.limits,
      fixed ?? this.adaptive!.limit,
      (batch) =>
        sendIsolatingRejects(
          batch,
          (part) => this.send(part),
          isRejectedInput,
          (item, error) => options.onFailed([{ item, stage: 'embed', reason: errorMessage(error) }]),
        ),
      {
        lingerMs: 0,
        sortWindow: options.sortWindow ?? windowRequests * options.limits.maxInputs,
      },
    );
  }

  async add(item: WorkItem): Promise<void> {
    const added = this.dispatcher.add(item, item.estimatedTokens, Buffer.byteLength(item.text) + 8);
    // Before waiting for a place: what was just buffered may be all there is to do.
    this.clock();
    try {
      await added;
    } finally {
      this.clock();
    }
  }

  async finish(): Promise<void> {
    try {
      await this.dispatcher.finish();
    } finally {
      this.clock();
    }
  }

  get pending(): number {
    return this.dispatcher.pending;
  }

  /** Requests in flight now allowed: fixed, or where `auto` has got to. */
  get concurrency(): number {
    return this.dispatcher.concurrency;
  }

  /** Items never acknowledged because of a fatal error. */
  takeUnsent() {
    const unsent = this.dispatcher.takeUnsent();
    this.clock();
    return unsent;
  }

  private async send(batch: WorkItem[]): Promise<void> {
    const started = performance.now();
    // Set by each attempt: the concurrency round the request was sent in.
    let round = 0;
    let result: EmbedResult;
    this.awaiting += 1;
    try {
      result = await withRetry(
        () => {
          round = this.adaptive?.round ?? 0;
          return this.request(batch);
        },
        this.options.retry,
        {
          signal: this.options.signal ?? this.options.stopRetries,
          onRetry: (event) => {
            if (isOverloaded(event.error)) this.adaptive?.overloaded(round);
            this.options.onRetry(event);
          },
        },
      );
    } finally {
      this.awaiting -= 1;
      this.clock();
    }
    const ms = performance.now() - started;
    this.adaptive?.observe({ round, queueMs: result.queueMs, backlog: this.dispatcher.backlog > 0 });
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

  /** One request, counted while it is in flight. */
  private async request(batch: WorkItem[]): Promise<EmbedResult> {
    this.requests += 1;
    this.clock();
    let answered = false;
    try {
      const result = await track(this.options.inFlight, () =>
        this.embedder.embed(
          batch.map((item) => item.text),
          this.options.signal,
        ),
      );
      answered = true;
      return result;
    } finally {
      this.requests -= 1;
      // Answered: `send` looks once the batch no longer waits. Failed: it waits for a retry.
      if (!answered) this.clock();
    }
  }

  /**
   * Starved: chunks wait here (buffered, queued, or in a batch between retries) and no request is
   * in flight. Checked after every change to either.
   */
  private clock(): void {
    const starved = this.requests === 0 && (this.dispatcher.waiting > 0 || this.awaiting > 0);
    if (starved && this.starvedSince === undefined) this.starvedSince = performance.now();
    else if (!starved && this.starvedSince !== undefined) {
      this.options.onStarved?.(performance.now() - this.starvedSince);
      this.starvedSince = undefined;
    }
  }
}

function isOverloaded(error: unknown): boolean {
  return error instanceof ServiceError && error.code === '429';
}
