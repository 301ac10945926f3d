import { describe, expect, it } from 'vitest';
import {
  histogramBucket,
  histogramTotals,
  parsePrometheusText,
  sumSeries,
} from '../../src/gpu/prometheus-text.js';
import { summariseTeiMetrics } from '../../src/gpu/tei-status.js';
import { TeiMetrics } from '../support/tei-server/metrics.js';

// As TEI 1.9 renders it (metrics-exporter-prometheus), trimmed.
const teiExposition = `# TYPE te_request_count counter
te_request_count{method="batch"} 12
te_request_count{method="single"} 3

# TYPE te_queue_size gauge
te_queue_size 7

# TYPE te_batch_next_size histogram
te_batch_next_size_bucket{le="1"} 2
te_batch_next_size_bucket{le="+Inf"} 10
te_batch_next_size_sum 145
te_batch_next_size_count 10

# TYPE te_batch_next_tokens histogram
te_batch_next_tokens_bucket{le="+Inf"} 10
te_batch_next_tokens_sum 81920
te_batch_next_tokens_count 10
`;

describe('parsePrometheusText', () => {
  it('keys samples by series, labels included, and skips comments', () => {
    const samples = parsePrometheusText(teiExposition)!;
    expect(samples.get('te_request_count{method="batch"}')).toBe(12);
    expect(samples.get('te_batch_next_size_bucket{le="+Inf"}')).toBe(10);
    expect(sumSeries(samples, 'te_request_count')).toBe(15);
    expect(sumSeries(samples, 'te_queue')).toBeUndefined();
  });

  it('reads label values with spaces, timestamps and special values', () => {
    const samples = parsePrometheusText('a{x="one two"} 1.5 1700000000000\nb +Inf\nc NaN\n')!;
    expect(samples.get('a{x="one two"}')).toBe(1.5);
    expect(samples.get('b')).toBe(Number.POSITIVE_INFINITY);
    expect(samples.get('c')).toBeNaN();
  });

  it('finds nothing in text that is not metrics', () => {
    expect(parsePrometheusText('<html><body>Bad Gateway</body></html>')).toBeUndefined();
    expect(parsePrometheusText('')).toBeUndefined();
  });

  it('gives a histogram its count and sum only once it was observed', () => {
    expect(histogramTotals(parsePrometheusText('h_sum 0\nh_count 0')!, 'h')).toEqual({ count: 0, sum: 0 });
    expect(histogramTotals(parsePrometheusText('h_sum 12.5\nh_count 3')!, 'h')).toEqual({
      count: 3,
      sum: 12.5,
    });
    expect(histogramTotals(parsePrometheusText('x 1')!, 'h')).toBeUndefined();
  });

  it('reads one bucket by its upper bound, however the bound is written', () => {
    const samples = parsePrometheusText(
      'h_bucket{le="0.5"} 1\nh_bucket{le="1.0"} 4\nh_bucket{le="+Inf"} 9\n',
    )!;
    expect(histogramBucket(samples, 'h', 1)).toBe(4);
    expect(histogramBucket(samples, 'h', 0.5)).toBe(1);
    expect(histogramBucket(samples, 'h', 2)).toBeUndefined();
    expect(histogramBucket(samples, 'other', 1)).toBeUndefined();
  });
});

describe('summariseTeiMetrics', () => {
  it("reads TEI's queue size and mean batch size and tokens", () => {
    expect(summariseTeiMetrics(teiExposition)).toEqual({
      available: true,
      error: null,
      queueSize: 7,
      batches: 10,
      meanBatchSize: 14.5,
      meanBatchTokens: 8192,
    });
  });

  it('leaves out the empty batches TEI records each time its queue drains', () => {
    // 6 real batches of 48 inputs and 6000 tokens in all, and 4 drains recorded as 0 and 0.
    const drained = `# TYPE te_batch_next_size histogram
te_batch_next_size_bucket{le="1"} 5
te_batch_next_size_bucket{le="+Inf"} 10
te_batch_next_size_sum 48
te_batch_next_size_count 10

# TYPE te_batch_next_tokens histogram
te_batch_next_tokens_bucket{le="1"} 4
te_batch_next_tokens_bucket{le="2"} 4
te_batch_next_tokens_bucket{le="+Inf"} 10
te_batch_next_tokens_sum 6000
te_batch_next_tokens_count 10
`;
    expect(summariseTeiMetrics(drained)).toMatchObject({
      batches: 6,
      meanBatchSize: 8,
      meanBatchTokens: 1000,
    });
  });

  it('counts no batch and no mean when TEI has only drained its queue', () => {
    const metrics = new TeiMetrics(512);
    metrics.record('te_batch_next_size', 0);
    metrics.record('te_batch_next_tokens', 0);
    expect(summariseTeiMetrics(metrics.render())).toMatchObject({
      batches: 0,
      meanBatchSize: null,
      meanBatchTokens: null,
    });
  });

  it('reads what the TEI test server exposes under the same names', () => {
    const metrics = new TeiMetrics(512);
    metrics.queueSize = 3;
    metrics.record('te_batch_next_size', 4);
    metrics.record('te_batch_next_size', 8);
    metrics.record('te_batch_next_tokens', 100);
    metrics.record('te_batch_next_tokens', 300);
    expect(summariseTeiMetrics(metrics.render())).toMatchObject({
      queueSize: 3,
      batches: 2,
      meanBatchSize: 6,
      meanBatchTokens: 200,
    });
  });

  it('leaves batch figures null before the first batch', () => {
    expect(summariseTeiMetrics(new TeiMetrics(512).render())).toMatchObject({
      available: true,
      queueSize: 0,
      batches: null,
      meanBatchSize: null,
    });
  });

  it('says so when /metrics is not Prometheus text', () => {
    expect(summariseTeiMetrics('not found')).toMatchObject({
      available: false,
      error: '/metrics did not answer Prometheus text',
      queueSize: null,
    });
  });
});
