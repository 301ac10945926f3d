import { estimateTokens } from '../../chunking/tokens.js';
import type { Config } from '../../config/schema.js';
import { createEmbedder } from '../../embed/create-embedder.js';
import { BatchBuilder } from '../../pipeline/batch-builder.js';
import { defaultRetryPolicy, withRetry } from '../../pipeline/retry.js';
import type { EmbedLevel, EmbedResult } from '../result.js';
import { LatencyRecorder, summarize } from '../stats.js';
import { type BenchEvents, round3, runWorkers } from './shared.js';

export interface EmbedScenarioOptions {
  texts: readonly string[];
  /** Requests in flight, one level each. */
  concurrency: readonly number[];
  /** Inputs per request; default TEI's `max_client_batch_size` (or `tei.maxClientBatchSize`). */
  batchSize: number | undefined;
}

/**
 * `bench embed`: the texts are cut into requests as `ingest` cuts chunks (at most `batchSize`
 * inputs, TEI's `max_batch_tokens` estimated tokens and 1.5 MB of body each), then every
 * concurrency level sends all of them once through the same client `ingest` uses (base64
 * `/v1/embeddings`, falling back to `/embed`). Tokens are TEI's own count (`x-compute-tokens`);
 * where TEI does not send it, taboot's estimate stands in and a warning says so. One untimed
 * request first warms the connection and the model.
 */
export async function runEmbedScenario(
  config: Config,
  options: EmbedScenarioOptions,
  events: BenchEvents,
  signal?: AbortSignal,
): Promise<EmbedResult> {
  const embedder = createEmbedder(config.tei, { concurrency: Math.max(1, ...options.concurrency) });
  try {
    const info = await embedder.describe(signal);
    const limits = { ...info.limits, maxInputs: options.batchSize ?? info.limits.maxInputs };
    const batches = requestBatches(options.texts, limits);
    const policy = { ...defaultRetryPolicy, maxRetries: config.tei.maxRetries };
    const embed = (batch: Batch) =>
      withRetry(() => embedder.embed(batch.texts, signal), policy, {
        signal,
        onRetry: (event) => events.warn(`TEI retry ${event.attempt}: ${event.error.message}`),
      });

    events.phase('embed warm-up', `${info.modelId} at ${config.tei.urls?.[0] ?? config.tei.url}`);
    if (batches[0]) await embed(batches[0]);

    let estimated = false;
    const levels: EmbedLevel[] = [];
    for (const concurrency of options.concurrency) {
      events.phase(
        'embed',
        `concurrency ${concurrency}, ${options.texts.length} texts in ${batches.length} requests`,
      );
      const latencies = new LatencyRecorder(batches.length);
      let tokens = 0;
      let done = 0;
      const started = performance.now();
      await runWorkers(
        batches.length,
        concurrency,
        async (index) => {
          const batch = batches[index]!;
          const sent = performance.now();
          const result = await embed(batch);
          latencies.recordSince(sent);
          if (result.tokens === undefined) estimated = true;
          tokens += result.tokens ?? batch.estimatedTokens;
          done += batch.texts.length;
          events.progress(done, options.texts.length, 'texts');
        },
        signal,
      );
      const seconds = (performance.now() - started) / 1000;
      const latency = summarize(latencies);
      levels.push({
        concurrency,
        docs_per_second: round3(options.texts.length / seconds),
        tokens_per_second: round3(tokens / seconds),
        mean_ms: round3(latency.mean_ms),
        p50_ms: round3(latency.p50_ms),
        p95_ms: round3(latency.p95_ms),
        p99_ms: round3(latency.p99_ms),
      });
    }
    if (estimated) {
      events.warn("TEI sent no x-compute-tokens header: tokens/s uses taboot's estimate of the tokens");
    }
    return { model: info.modelId, batch_size: limits.maxInputs, levels };
  } finally {
    await embedder.close();
  }
}

interface Batch {
  texts: string[];
  estimatedTokens: number;
}

/** The texts cut into requests within `limits`, in order. */
export function requestBatches(
  texts: readonly string[],
  limits: { maxInputs: number; maxTokens: number; maxBytes: number },
): Batch[] {
  const builder = new BatchBuilder<{ text: string; tokens: number }>(limits);
  const batches: Batch[] = [];
  const push = (items: Array<{ text: string; tokens: number }>) => {
    if (items.length === 0) return;
    batches.push({
      texts: items.map((item) => item.text),
      estimatedTokens: items.reduce((sum, item) => sum + item.tokens, 0),
    });
  };
  for (const text of texts) {
    const tokens = estimateTokens(text);
    push(builder.add({ text, tokens }, tokens, Buffer.byteLength(text) + 8) ?? []);
  }
  push(builder.take());
  return batches;
}
