import type { TeiEndpoint } from '../embed/tei-http.js';
import { teiRequest } from '../embed/tei-http.js';
import { fetchTeiInfo } from '../embed/tei-info.js';
import { withDeadline } from './deadline.js';
import { histogramBucket, histogramTotals, parsePrometheusText, sumSeries } from './prometheus-text.js';
import type { TeiEndpointStatus, TeiMetricsSummary } from './report.js';

/**
 * `/health`, `/info` and `/metrics` of one TEI endpoint, asked at once, each within `timeoutMs`.
 * Never throws (except when `parent` aborts): a failure becomes `status: 'down'` or a null section
 * with the reason.
 */
export async function readTeiStatus(
  endpoint: TeiEndpoint,
  timeoutMs: number,
  parent?: AbortSignal,
): Promise<TeiEndpointStatus> {
  const [health, info, metrics] = await Promise.allSettled([
    withDeadline(
      `TEI at ${endpoint.url}`,
      timeoutMs,
      (signal) => teiRequest(endpoint, 'GET', '/health', undefined, signal),
      parent,
    ),
    withDeadline(
      `TEI /info at ${endpoint.url}`,
      timeoutMs,
      (signal) => fetchTeiInfo(endpoint, signal),
      parent,
    ),
    withDeadline(
      `TEI /metrics at ${endpoint.url}`,
      timeoutMs,
      (signal) => teiRequest(endpoint, 'GET', '/metrics', undefined, signal),
      parent,
    ),
  ]);
  if (parent?.aborted) throw parent.reason;
  const up = health.status === 'fulfilled';
  return {
    url: endpoint.url,
    status: up ? 'up' : 'down',
    error: !up ? reasonOf(health.reason) : info.status === 'rejected' ? reasonOf(info.reason) : null,
    info:
      info.status === 'fulfilled'
        ? {
            modelId: info.value.modelId,
            modelDtype: info.value.modelDtype ?? null,
            maxInputLength: info.value.maxInputLength,
            maxBatchTokens: info.value.maxBatchTokens,
            maxClientBatchSize: info.value.maxClientBatchSize,
            maxConcurrentRequests: info.value.maxConcurrentRequests,
            version: info.value.version ?? null,
          }
        : null,
    metrics:
      metrics.status === 'fulfilled'
        ? summariseTeiMetrics(metrics.value.body.toString('utf8'))
        : { ...noMetrics, error: reasonOf(metrics.reason) },
  };
}

const noMetrics: TeiMetricsSummary = {
  available: false,
  error: null,
  queueSize: null,
  batches: null,
  meanBatchSize: null,
  meanBatchTokens: null,
};

/**
 * Queue and batch figures from TEI's `/metrics` (names from TEI's core/src/queue.rs): the gauge
 * `te_queue_size` and the histograms `te_batch_next_size` (inputs per batch) and
 * `te_batch_next_tokens` (tokens per batch). A histogram TEI has not observed yet is absent: null.
 *
 * TEI's batching task asks the queue for the next batch until it finds it empty, and records that
 * empty batch too (a 0 in both histograms every time the queue drains), so the raw counts overstate
 * the batches and understate their mean size. The empty ones are those with at most 1 token
 * (`te_batch_next_tokens_bucket{le="1"}`): a real batch has at least one input of at least 2 tokens
 * (TEI adds special tokens, and refuses empty inputs). They are taken out of the count and the means.
 */
export function summariseTeiMetrics(text: string): TeiMetricsSummary {
  const samples = parsePrometheusText(text);
  if (!samples) return { ...noMetrics, error: '/metrics did not answer Prometheus text' };
  const size = histogramTotals(samples, 'te_batch_next_size');
  const tokens = histogramTotals(samples, 'te_batch_next_tokens');
  const empty = histogramBucket(samples, 'te_batch_next_tokens', 1) ?? 0;
  const batches = size === undefined ? undefined : Math.max(0, size.count - empty);
  const mean = (histogram: { count: number; sum: number } | undefined) => {
    const real = histogram === undefined ? 0 : histogram.count - empty;
    return histogram !== undefined && real > 0 ? histogram.sum / real : null;
  };
  return {
    available: true,
    error: null,
    queueSize: sumSeries(samples, 'te_queue_size') ?? null,
    batches: batches ?? null,
    meanBatchSize: mean(size),
    meanBatchTokens: mean(tokens),
  };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
