import { describe, expect, it } from 'vitest';
import { IngestStats, peakRate, peakWindowMs } from '../../src/pipeline/stats.js';
import { summarize } from '../../src/pipeline/summary.js';

/** `count` acknowledgements of `vectors` each, evenly spread over [fromMs, toMs]. */
function acks(fromMs: number, toMs: number, count: number, vectors = 500): Array<[number, number]> {
  return Array.from({ length: count }, (_, index) => [
    fromMs + ((toMs - fromMs) * (index + 1)) / count,
    vectors,
  ]);
}

const mean = (marks: Array<[number, number]>, runMs: number) =>
  (marks.reduce((sum, [, count]) => sum + count, 0) * 1000) / runMs;

describe('the peak rate of a run', () => {
  it('is measured over a tenth of the run, between 5 and 60 s', () => {
    expect(peakWindowMs(2_000)).toBe(5_000);
    expect(peakWindowMs(47_000)).toBe(5_000);
    expect(peakWindowMs(120_000)).toBe(12_000);
    expect(peakWindowMs(3_600_000)).toBe(60_000);
  });

  it('is the mean on a 2-second run whose acknowledgements all come at the end', () => {
    // The corpus (4 batches) is acknowledged in the last half second: the best one-second window
    // held all of it, which once showed a "peak" of twice the mean.
    const marks = acks(1_500, 2_000, 4);
    const peak = peakRate(marks, 0, 2_000, peakWindowMs(2_000));
    expect(peak).toBe(mean(marks, 2_000));
    expect(peak).toBeLessThanOrEqual(1.5 * mean(marks, 2_000));
  });

  it('finds a burst inside a long run and stays within a sustained rate', () => {
    // 60 s at 1,000 vec/s, with 10 s at 3,000 vec/s in the middle.
    const marks = [...acks(0, 25_000, 50), ...acks(25_000, 35_000, 60), ...acks(35_000, 60_000, 50)];
    const window = peakWindowMs(60_000);
    expect(window).toBe(6_000);
    // Within one batch of the burst's rate: a window may hold one acknowledgement more than its share.
    const peak = peakRate(marks, 0, 60_000, window);
    expect(peak).toBeGreaterThanOrEqual(3_000);
    expect(peak).toBeLessThanOrEqual(3_000 + 500_000 / window);
  });

  it('counts a window pinned to the end of the run', () => {
    const marks = [...acks(0, 50_000, 10, 100), ...acks(59_000, 60_000, 4, 500)];
    // The last 6 s hold 2,000 vectors and one of the earlier marks.
    expect(peakRate(marks, 0, 60_000, 6_000)).toBeCloseTo(2_000 / 6, 5);
  });

  it('is 0 with nothing acknowledged', () => {
    expect(peakRate([], 0, 10_000, 5_000)).toBe(0);
  });
});

describe('summarize', () => {
  const context = { collection: 'docs', dryRun: false, interrupted: false, failedOut: undefined };

  it('reports TEI queue and inference time as null, not 0, when TEI sent no timing headers', () => {
    const stats = new IngestStats();
    stats.embedMs = 1_500;
    const summary = summarize(stats, context);
    expect(summary.stage_seconds).toMatchObject({ embed: 1.5, tei_queue: null, tei_inference: null });
  });

  it('reports them once TEI did, even when they add up to 0 ms', () => {
    const stats = new IngestStats();
    stats.recordTeiTimings(0, 0);
    stats.recordTeiTimings(12, 340);
    expect(summarize(stats, context).stage_seconds).toMatchObject({ tei_queue: 0.012, tei_inference: 0.34 });
  });

  it('gives the peak window and the peak RSS', () => {
    const summary = summarize(new IngestStats(), context);
    expect(summary.peak_window_s).toBe(5);
    expect(summary.peak_rss_mb).toBeGreaterThan(0);
  });
});
