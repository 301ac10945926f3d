/**
 * What the test server counts: plain `stats` for assertions, and the `te_*` series TEI's `/metrics`
 * exposes (names and histogram buckets from router/src/prometheus.rs, core/src/queue.rs, infer.rs).
 *
 * Three counters are the test server's own, not TEI's, for benchmarks that need the backend's busy
 * share and padding overhead: `te_backend_busy_seconds` (seconds the simulated backend spent running
 * batches: `tokens / serviceRate` each, 0 without a service rate), `te_backend_tokens` (tokens of the
 * batches run) and `te_backend_padded_tokens` (rows × longest row of the same batches, what a backend
 * without variable-length attention computes). They are exposed from the start, at 0.
 */

export interface TeiStats {
  /** Requests per path, every method and outcome included (faults, rejections, 404s). */
  requests: Record<string, number>;
  /** Responses per status code; destroyed sockets are counted under `resets`. */
  statuses: Record<string, number>;
  /** Inputs embedded successfully (each element of a batch counts). */
  inputsEmbedded: number;
  /** Inputs cut to `max_input_length` by truncation. */
  truncations: number;
  /** Tokens of the embedded inputs, end-of-text tokens included. */
  promptTokens: number;
  /** Inputs holding a concurrency permit now, and the most seen at once. */
  inFlightInputs: number;
  maxInFlightInputs: number;
  /** Sockets destroyed by a `reset` fault. */
  resets: number;
  /** The simulated backend: batches run, their real and padded tokens, and its busy time. */
  backend: BackendStats;
}

export interface BackendStats {
  /** Batches run to completion. */
  batches: number;
  /** Inputs in those batches. */
  inputs: number;
  /** Sum of the inputs' tokens. */
  tokens: number;
  /** Sum over batches of rows × longest row. */
  paddedTokens: number;
  /** Sum of the batches' service times (`tokens / serviceRate`, padded tokens with `padded`). */
  busySeconds: number;
  /** Inputs waiting in the queue for a batch now. */
  queued: number;
  /** Inputs skipped at batch time because their client had gone (TEI's `dropped`). */
  dropped: number;
}

export function emptyStats(): TeiStats {
  return {
    requests: {},
    statuses: {},
    inputsEmbedded: 0,
    truncations: 0,
    promptTokens: 0,
    inFlightInputs: 0,
    maxInFlightInputs: 0,
    resets: 0,
    backend: { batches: 0, inputs: 0, tokens: 0, paddedTokens: 0, busySeconds: 0, queued: 0, dropped: 0 },
  };
}

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: number[]) {
    this.counts = bounds.map(() => 0);
  }
  record(value: number): void {
    this.sum += value;
    this.count += 1;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) this.counts[i]! += 1;
  }
}

const durationBuckets = Array.from({ length: 35 }, (_, i) => 0.00001 * 1.5 ** (i + 1));
const powersOfTwo = (n: number) => Array.from({ length: n }, (_, i) => 2 ** i);

/** The test server's own counters (see the module comment), registered at 0. */
const backendCounters = ['te_backend_busy_seconds', 'te_backend_tokens', 'te_backend_padded_tokens'] as const;

export class TeiMetrics {
  private readonly counters = new Map<string, number>();
  private readonly histograms = new Map<string, Histogram>();
  /** TEI's `te_queue_size` gauge: inputs queued and not yet in a batch. */
  queueSize = 0;

  constructor(maxInputLength: number) {
    for (const name of [
      'te_request_duration',
      'te_request_tokenization_duration',
      'te_request_queue_duration',
      'te_request_inference_duration',
      'te_embed_duration',
      'te_embed_tokenization_duration',
      'te_embed_queue_duration',
      'te_embed_inference_duration',
    ]) {
      this.histograms.set(name, new Histogram(durationBuckets));
    }
    this.histograms.set(
      'te_request_input_length',
      new Histogram(powersOfTwo(20).filter((x) => x <= maxInputLength)),
    );
    this.histograms.set('te_batch_next_size', new Histogram(powersOfTwo(13)));
    this.histograms.set('te_batch_next_tokens', new Histogram(powersOfTwo(21)));
    for (const name of backendCounters) this.counters.set(name, 0);
  }

  /** `name` may carry labels: `te_request_count{method="batch"}`. */
  increment(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  record(name: string, value: number): void {
    this.histograms.get(name)?.record(value);
  }

  /** Prometheus text exposition, as metrics-exporter-prometheus renders it. */
  render(): string {
    const lines: string[] = [];
    const byName = new Map<string, string[]>();
    for (const [key, value] of [...this.counters].sort(([a], [b]) => a.localeCompare(b))) {
      const name = key.split('{')[0]!;
      const list = byName.get(name) ?? [];
      list.push(`${key} ${value}`);
      byName.set(name, list);
    }
    for (const [name, samples] of byName) lines.push(`# TYPE ${name} counter`, ...samples, '');
    lines.push('# TYPE te_queue_size gauge', `te_queue_size ${this.queueSize}`, '');
    for (const [name, histogram] of this.histograms) {
      if (histogram.count === 0) continue;
      lines.push(`# TYPE ${name} histogram`);
      histogram.bounds.forEach((bound, i) => {
        lines.push(`${name}_bucket{le="${bound}"} ${histogram.counts[i]}`);
      });
      lines.push(
        `${name}_bucket{le="+Inf"} ${histogram.count}`,
        `${name}_sum ${histogram.sum}`,
        `${name}_count ${histogram.count}`,
        '',
      );
    }
    return `${lines.join('\n')}\n`;
  }
}
