import { messages, TeiError } from './errors.js';
import type { TeiFaults } from './faults.js';
import type { TeiMetrics, TeiStats } from './metrics.js';
import type { Direction } from './requests.js';
import { countChars, type Encoded, encode } from './tokenizer.js';

/** Limits and model facts the routes work with (the `/info` values). */
export interface TeiConfig {
  modelId: string;
  dimensions: number;
  maxClientBatchSize: number;
  maxBatchTokens: number;
  /** Already capped at `maxBatchTokens`, as TEI caps it at start-up. */
  maxInputLength: number;
  maxConcurrentRequests: number;
  autoTruncate: boolean;
  prompts: Record<string, string>;
  reranker: 'reverse' | 'overlap';
}

export interface TeiContext {
  config: TeiConfig;
  faults: TeiFaults;
  stats: TeiStats;
  metrics: TeiMetrics;
  permits: Permits;
  /** Reused buffers of `config.dimensions` floats: the raw embedding and the finished one. */
  vectors: { full: Float32Array; out: Float32Array };
  /** Resolves after `ms`, or at once when the server closes. */
  sleep(ms: number): Promise<void>;
}

/**
 * TEI's `max_concurrent_requests` semaphore: every input holds one permit while it is tokenised,
 * queued and inferred. A single-input request takes one with `try_acquire` (429 when none is left);
 * each input of a batch waits for one.
 */
export class Permits {
  private available: number;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly total: number,
    private readonly stats: TeiStats,
    private readonly metrics: TeiMetrics,
  ) {
    this.available = total;
  }

  tryAcquire(): boolean {
    if (this.available === 0) return false;
    this.take();
    return true;
  }

  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    this.metrics.queueSize += 1;
    return new Promise((resolve) => {
      this.waiters.push(() => {
        this.metrics.queueSize -= 1;
        this.take();
        resolve();
      });
    });
  }

  release(): void {
    this.available += 1;
    this.stats.inFlightInputs -= 1;
    const next = this.waiters.shift();
    if (next) next();
  }

  get free(): number {
    return this.available;
  }

  get size(): number {
    return this.total;
  }

  private take(): void {
    this.available -= 1;
    this.stats.inFlightInputs += 1;
    if (this.stats.inFlightInputs > this.stats.maxInFlightInputs) {
      this.stats.maxInFlightInputs = this.stats.inFlightInputs;
    }
  }
}

export interface Timings {
  start: number;
  tokenizationMs: number;
  queueMs: number;
  inferenceMs: number;
}

/**
 * Tokenises `texts` with TEI's checks (empty input, character limit, token limit or truncation), then
 * runs them through the permits and the injected latency. Returns the encodings in input order.
 */
export async function runInference(
  ctx: TeiContext,
  texts: string[],
  options: { single: boolean; truncate: boolean; direction: Direction; prompt: string | undefined },
  timings: Timings,
): Promise<Encoded[]> {
  const { config, permits } = ctx;
  if (options.single && !permits.tryAcquire()) {
    ctx.metrics.increment('te_request_failure{err="overloaded"}');
    throw new TeiError('Overloaded', messages.overloaded);
  }
  let encoded: Encoded[];
  const tokenizeStart = performance.now();
  try {
    encoded = texts.map((text) => encodeOne(config, text, options));
  } catch (error) {
    if (options.single) permits.release();
    ctx.metrics.increment('te_request_failure{err="tokenization"}');
    throw error;
  }
  timings.tokenizationMs = performance.now() - tokenizeStart;

  const latency = ctx.faults.latencyMs;
  if (options.single) {
    if (latency > 0) await ctx.sleep(latency);
    permits.release();
    timings.inferenceMs = latency;
  } else if (latency === 0 && permits.free >= texts.length) {
    for (let i = 0; i < texts.length; i++) permits.tryAcquire();
    for (let i = 0; i < texts.length; i++) permits.release();
  } else {
    let queued = 0;
    await Promise.all(
      encoded.map(async () => {
        const waitStart = performance.now();
        await permits.acquire();
        queued += performance.now() - waitStart;
        if (latency > 0) await ctx.sleep(latency);
        permits.release();
      }),
    );
    timings.queueMs = queued / texts.length;
    timings.inferenceMs = latency;
  }

  let tokens = 0;
  for (const item of encoded) {
    tokens += item.tokens;
    if (item.truncated) ctx.stats.truncations += 1;
    ctx.metrics.record('te_request_input_length', item.tokens);
  }
  ctx.metrics.record('te_batch_next_size', encoded.length);
  ctx.metrics.record('te_batch_next_tokens', tokens);
  return encoded;
}

function encodeOne(
  config: TeiConfig,
  text: string,
  options: { truncate: boolean; direction: Direction; prompt: string | undefined },
): Encoded {
  if (text.length === 0) throw new TeiError('Empty', messages.emptyInput);
  const charLimit = config.maxInputLength * 250;
  const chars = countChars(text);
  if (chars > charLimit && !options.truncate) {
    throw new TeiError('Validation', messages.tooManyChars(charLimit, chars));
  }
  const full = options.prompt ? options.prompt + text : text;
  const result = encode(full, options.truncate, config.maxInputLength, options.direction);
  if (result.tokens > config.maxInputLength) {
    throw new TeiError('Validation', messages.tooManyTokens(config.maxInputLength, result.tokens));
  }
  return result;
}

/** The prompt text for `prompt_name`, or TEI's validation error when the model has no such prompt. */
export function promptFor(config: TeiConfig, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const prompt = config.prompts[name];
  if (prompt === undefined) {
    throw new TeiError('Validation', messages.unknownPrompt(name, Object.keys(config.prompts)));
  }
  return prompt;
}

/** Checks the client batch size the way every batch route does (413, `Validation`). */
export function checkBatchSize(ctx: TeiContext, size: number): void {
  if (size > ctx.config.maxClientBatchSize) {
    ctx.metrics.increment('te_request_failure{err="batch_size"}');
    throw new TeiError('Validation', messages.batchSize(size, ctx.config.maxClientBatchSize));
  }
}

/** TEI's `x-compute-*` / `x-*-time` response headers (whole milliseconds) and its request histograms. */
export function timingHeaders(
  ctx: TeiContext,
  timings: Timings,
  computeChars: number,
  computeTokens: number,
): Record<string, string> {
  const total = performance.now() - timings.start;
  ctx.metrics.record('te_request_duration', total / 1000);
  ctx.metrics.record('te_request_tokenization_duration', timings.tokenizationMs / 1000);
  ctx.metrics.record('te_request_queue_duration', timings.queueMs / 1000);
  ctx.metrics.record('te_request_inference_duration', timings.inferenceMs / 1000);
  const ms = (value: number) => String(Math.floor(value));
  return {
    'x-compute-type': 'gpu+optimized',
    'x-compute-time': ms(total),
    'x-compute-characters': String(computeChars),
    'x-compute-tokens': String(computeTokens),
    'x-total-time': ms(total),
    'x-tokenization-time': ms(timings.tokenizationMs),
    'x-queue-time': ms(timings.queueMs),
    'x-inference-time': ms(timings.inferenceMs),
  };
}

export function newTimings(): Timings {
  return { start: performance.now(), tokenizationMs: 0, queueMs: 0, inferenceMs: 0 };
}
