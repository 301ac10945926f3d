import { describe, expect, it } from 'vitest';
import {
  LatencyRecorder,
  max,
  mean,
  min,
  quantile,
  quantileSorted,
  quantiles,
  stddev,
  summarize,
  Timeline,
} from '../../src/bench/stats.js';

describe('quantile', () => {
  it('interpolates linearly between closest ranks, as numpy.percentile does by default', () => {
    // numpy.percentile([1, 2, 3, 4], 95) == 3.85
    expect(quantile([1, 2, 3, 4], 0.95)).toBeCloseTo(3.85, 12);
    // numpy.percentile([15, 20, 35, 40, 50], 40) == 29.0
    expect(quantile([15, 20, 35, 40, 50], 0.4)).toBeCloseTo(29, 12);
    // numpy.percentile(range(1, 11), 90) == 9.1; numpy.percentile(range(1, 11), 50) == 5.5
    const oneToTen = Array.from({ length: 10 }, (_, index) => index + 1);
    expect(quantile(oneToTen, 0.9)).toBeCloseTo(9.1, 12);
    expect(quantile(oneToTen, 0.5)).toBeCloseTo(5.5, 12);
    // numpy.percentile(range(101), 99) == 99.0 exactly: rank 99 falls on a sample
    expect(
      quantile(
        Array.from({ length: 101 }, (_, index) => index),
        0.99,
      ),
    ).toBe(99);
  });

  it('gives the minimum at 0, the maximum at 1 and the value itself for one sample', () => {
    expect(quantile([5, 3, 9], 0)).toBe(3);
    expect(quantile([5, 3, 9], 1)).toBe(9);
    expect(quantile([42], 0.99)).toBe(42);
  });

  it('sorts a copy, leaving the samples in their order', () => {
    const samples = new Float64Array([4, 1, 3, 2]);
    expect(quantile(samples, 0.5)).toBe(2.5);
    expect([...samples]).toEqual([4, 1, 3, 2]);
  });

  it('takes several quantiles of one sample', () => {
    expect(quantiles([10, 20, 30, 40, 50], [0.25, 0.5, 0.75])).toEqual([20, 30, 40]);
  });

  it('rejects an empty sample, NaN samples and quantiles outside 0..1', () => {
    expect(() => quantile([], 0.5)).toThrow(RangeError);
    expect(() => quantileSorted([1, 2], 1.5)).toThrow(/between 0 and 1/);
    expect(() => quantile([1, Number.NaN], 0.5)).toThrow(/NaN/);
  });
});

describe('mean, min, max, stddev', () => {
  it('match hand-computed values', () => {
    const samples = [2, 4, 4, 4, 5, 5, 7, 9];
    expect(mean(samples)).toBe(5);
    expect(min(samples)).toBe(2);
    expect(max(samples)).toBe(9);
    // Population standard deviation (numpy.std default): sqrt(32 / 8) = 2
    expect(stddev(samples)).toBe(2);
  });

  it('keep precision on large offsets', () => {
    expect(stddev([1e9 + 1, 1e9 + 3])).toBeCloseTo(1, 9);
  });

  it('reject an empty sample', () => {
    expect(() => mean([])).toThrow(RangeError);
    expect(() => stddev([])).toThrow(RangeError);
  });
});

describe('LatencyRecorder', () => {
  it('grows past its initial capacity and keeps every sample in order', () => {
    const recorder = new LatencyRecorder(2);
    for (let value = 1; value <= 100; value += 1) recorder.record(value);
    expect(recorder.count).toBe(100);
    expect(recorder.samples()).toBeInstanceOf(Float64Array);
    expect(recorder.samples()[0]).toBe(1);
    expect(recorder.samples()[99]).toBe(100);
  });

  it('summarizes count, mean, exact percentiles, min and max', () => {
    const recorder = new LatencyRecorder();
    for (const value of [4, 1, 3, 2]) recorder.record(value);
    expect(summarize(recorder)).toEqual({
      count: 4,
      mean_ms: 2.5,
      p50_ms: 2.5,
      p95_ms: expect.closeTo(3.85, 12),
      p99_ms: expect.closeTo(3.97, 12),
      min_ms: 1,
      max_ms: 4,
    });
  });

  it('records the time since a start reading', () => {
    const recorder = new LatencyRecorder();
    expect(recorder.recordSince(100, 112.5)).toBe(12.5);
    expect([...recorder.samples()]).toEqual([12.5]);
  });

  it('merges another recorder and clears', () => {
    const first = new LatencyRecorder();
    const second = new LatencyRecorder();
    first.record(1);
    second.record(2);
    second.record(3);
    first.merge(second);
    expect([...first.samples()]).toEqual([1, 2, 3]);
    first.clear();
    expect(first.count).toBe(0);
    expect(() => summarize(first)).toThrow(RangeError);
  });

  it('rejects negative and non-finite latencies', () => {
    const recorder = new LatencyRecorder();
    expect(() => recorder.record(-1)).toThrow(RangeError);
    expect(() => recorder.record(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => new LatencyRecorder(0)).toThrow(/initialCapacity/);
  });
});

describe('Timeline', () => {
  it('buckets counts per second and reports rates at each bucket end, stalls included', () => {
    const timeline = new Timeline({ startMs: 1000 });
    timeline.record(500, 1100);
    timeline.record(500, 1900);
    // Nothing during the second second.
    timeline.record(2000, 3500);
    expect(timeline.total).toBe(3000);
    expect(timeline.points(5000)).toEqual([
      [1, 1000],
      [2, 0],
      [3, 2000],
      [4, 0],
    ]);
  });

  it('rates a final part-bucket over its elapsed time', () => {
    const timeline = new Timeline({ startMs: 0 });
    timeline.record(100, 500);
    timeline.record(300, 1700);
    expect(timeline.points(1750)).toEqual([
      [1, 100],
      [1.75, 400],
    ]);
  });

  it('folds a final sliver shorter than half a bucket into the bucket before it', () => {
    const timeline = new Timeline({ startMs: 0 });
    timeline.record(1000, 900);
    timeline.record(100, 1010);
    const points = timeline.points(1020);
    expect(points).toHaveLength(1);
    expect(points[0]![0]).toBeCloseTo(1.02, 9);
    expect(points[0]![1]).toBeCloseTo(1100 / 1.02, 6);
  });

  it('supports wider buckets and ends at the last event by default', () => {
    const timeline = new Timeline({ startMs: 0, bucketSeconds: 2 });
    timeline.record(10, 100);
    timeline.record(10, 3900);
    expect(timeline.points()).toEqual([
      [2, 5],
      [3.9, 10 / 1.9],
    ]);
  });

  it('has no points for a run of zero duration', () => {
    const timeline = new Timeline({ startMs: 0 });
    timeline.record(10, 0);
    expect(timeline.points(0)).toEqual([]);
    expect(() => new Timeline({ bucketSeconds: 0 })).toThrow(/bucketSeconds/);
  });
});
