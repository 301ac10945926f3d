import type { Batcher } from './batcher.js';
import { messages, TeiError } from './errors.js';
import type { TeiFaults } from './faults.js';
import type { TeiMetrics, TeiStats } from './metrics.js';
import type { Direction } from './requests.js';
import { countChars, type Encoded, encode } from './tokenizer.js';

/** Limits and model facts the routes work with (the `/info` values). */
export interface TeiConfig {
  modelId: string;
  /** What `/info` and the OpenAI routes call the model (`--served-model-name`, default the model id). */
  servedModelName: string;
  dimensions: number;
  maxClientBatchSize: number;
  maxBatchTokens: number;
  /** Undefined (`null` in `/info`) unless set; the CPU backend forces 4. */
  maxBatchRequests: number | undefined;
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
  batcher: Batcher;
  /** Reused buffers of `config.dimensions` floats: the raw embedding and the finished one. */
  vectors: { full: Float32Array; out: Float32Array };
  /** Resolves after `ms`, or at once when the server closes. */
  sleep(ms: number): Promise<void>;
}

/**
 * TEI's `max_concurrent_requests` semaphore: every input holds one permit from before tokenisation
 * until its embedding is back. TEI 1.9.3 takes them with `try_acquire` for single inputs and for each
 * input of a batch alike (router/src/http/server.rs), so a request that finds too few answers 429.
 */
export class Permits {
  private available: number;

  constructor(
    total: number,
    private readonly stats: TeiStats,
  ) {
    this.available = total;
  }

  /** Takes `count` permits, or none and returns false. */
  tryAcquire(count: number): boolean {
    if (this.available < count) return false;
    this.available -= count;
    this.stats.inFlightInputs += count;
    if (this.stats.inFlightInputs > this.stats.maxInFlightInputs) {
      this.stats.maxInFlightInputs = this.stats.inFlightInputs;
    }
    return true;
  }

  release(count: number): void {
    this.available += count;
    this.stats.inFlightInputs -= count;
  }
}

/** Runs `work` holding one permit per input; throws `Overloaded` (429) when there are too few. */
export async function withPermits<T>(ctx: TeiContext, inputs: number, work: () => Promise<T>): Promise<T> {
  if (!ctx.permits.tryAcquire(inputs)) {
    ctx.metrics.increment('te_request_failure{err="overloaded"}');
    throw new TeiError('Overloaded', messages.overloaded);
  }
  try {
    return await work();
  } finally {
    ctx.permits.release(inputs);
  }
}

export interface TokenizeOptions {
  /** Core's counters: `te_embed_*` for embeddings, `te_predict_*` for rerank pairs. */
  task: 'embed' | 'predict';
  truncate: boolean;
  direction: Direction;
  prompt: string | undefined;
}

/**
 * Tokenises `texts` with TEI's checks (empty input, character limit, token limit or truncation),
 * counting per input as core does. Throws the first input's error, in input order.
 */
export function tokenizeAll(ctx: TeiContext, texts: readonly string[], options: TokenizeOptions): Encoded[] {
  ctx.metrics.increment(`te_${options.task}_count`, texts.length);
  let encoded: Encoded[];
  try {
    encoded = texts.map((text) => encodeOne(ctx.config, text, options));
  } catch (error) {
    ctx.metrics.increment('te_request_failure{err="tokenization"}');
    throw error;
  }
  for (const item of encoded) {
    if (item.truncated) ctx.stats.truncations += 1;
    ctx.metrics.record('te_request_input_length', item.tokens);
  }
  return encoded;
}

/**
 * Sends tokenised inputs through the batcher and the injected inference latency. `dropped` tells
 * the batcher the client has gone. Fills the queue and inference times of `timings` (per-input
 * means, as TEI's headers report them).
 */
export async function inferAll(
  ctx: TeiContext,
  encoded: readonly Encoded[],
  dropped: () => boolean,
  timings: Timings,
): Promise<void> {
  const started = performance.now();
  const results = await Promise.all(ctx.batcher.enqueue(encoded, dropped));
  let queueMs = 0;
  let inferenceMs = 0;
  for (const result of results) {
    queueMs += result.queueMs;
    inferenceMs += result.inferenceMs;
  }
  const latency = ctx.faults.latencyMs;
  if (latency > 0) await ctx.sleep(latency);
  timings.tokenizationMs = started - timings.start;
  timings.queueMs = queueMs / encoded.length;
  timings.inferenceMs = inferenceMs / encoded.length + latency;
}

function encodeOne(config: TeiConfig, text: string, options: TokenizeOptions): Encoded {
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

/** Checks the client batch size the way every batch route does (422, `Validation`). */
export function checkBatchSize(ctx: TeiContext, size: number): void {
  if (size > ctx.config.maxClientBatchSize) {
    ctx.metrics.increment('te_request_failure{err="batch_size"}');
    throw new TeiError('Validation', messages.batchSize(size, ctx.config.maxClientBatchSize));
  }
}

export interface Timings {
  start: number;
  tokenizationMs: number;
  queueMs: number;
  inferenceMs: number;
}

export function newTimings(): Timings {
  return { start: performance.now(), tokenizationMs: 0, queueMs: 0, inferenceMs: 0 };
}

/**
 * TEI's success headers (router/src/lib.rs `impl From<ResponseMetadata> for HeaderMap`): a fixed
 * `x-compute-type`, whole milliseconds for the times; and its request histograms. Errors carry none.
 */
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

/** Per-input success metrics of core's `embed_pooled`. */
export function recordEmbedded(ctx: TeiContext, encoded: readonly Encoded[], timings: Timings): void {
  const total = (performance.now() - timings.start) / 1000;
  ctx.metrics.increment('te_embed_success', encoded.length);
  for (let i = 0; i < encoded.length; i++) {
    ctx.metrics.record('te_embed_duration', total);
    ctx.metrics.record('te_embed_tokenization_duration', timings.tokenizationMs / 1000);
    ctx.metrics.record('te_embed_queue_duration', timings.queueMs / 1000);
    ctx.metrics.record('te_embed_inference_duration', timings.inferenceMs / 1000);
  }
  let tokens = 0;
  for (const item of encoded) tokens += item.tokens;
  ctx.stats.inputsEmbedded += encoded.length;
  ctx.stats.promptTokens += tokens;
}
