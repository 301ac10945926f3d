/**
 * Statistics for benchmarks: exact percentiles over every sample (no histograms, no sampling),
 * and a per-second throughput timeline. Samples live in Float64Arrays, so a million latencies
 * cost 8 MB and no per-sample objects.
 *
 * Every function here throws a RangeError on an empty sample: a benchmark that measured nothing
 * has nothing to report, and a made-up 0 or NaN would end up in a JSON baseline.
 */

export interface LatencySummary {
  count: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  min_ms: number;
  max_ms: number;
}

/**
 * The `q` quantile (0..1) of samples that are already sorted ascending.
 *
 * Linear interpolation between closest ranks, the definition numpy's `percentile` and `quantile`
 * use by default (`method='linear'`, Hyndman and Fan type 7): with `n` samples the quantile sits
 * at rank `h = (n - 1) * q`, between `sorted[floor(h)]` and `sorted[ceil(h)]`. So the 0.95
 * quantile of [1, 2, 3, 4] is 3.85, and q = 0 and q = 1 give the minimum and maximum.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  checkQuantile(q);
  const n = sorted.length;
  if (n === 0) throw new RangeError('Cannot take a quantile of an empty sample');
  const rank = (n - 1) * q;
  const lower = Math.floor(rank);
  const upper = Math.min(lower + 1, n - 1);
  const low = sorted[lower]!;
  const fraction = rank - lower;
  return fraction === 0 ? low : low + (sorted[upper]! - low) * fraction;
}

/** A sorted Float64Array copy of the samples (the input is left as it was). */
export function sortedCopy(samples: ArrayLike<number>): Float64Array {
  const copy = Float64Array.from(samples);
  // Typed-array sort is numeric; NaN would sort last and poison the top percentiles.
  for (const value of copy) if (Number.isNaN(value)) throw new RangeError('Samples must not contain NaN');
  return copy.sort();
}

/** The `q` quantile (0..1) of unsorted samples; see `quantileSorted` for the definition. */
export function quantile(samples: ArrayLike<number>, q: number): number {
  checkQuantile(q);
  return quantileSorted(sortedCopy(samples), q);
}

/** Several quantiles of one sample, sorting it once. */
export function quantiles(samples: ArrayLike<number>, qs: readonly number[]): number[] {
  for (const q of qs) checkQuantile(q);
  const sorted = sortedCopy(samples);
  return qs.map((q) => quantileSorted(sorted, q));
}

export function mean(samples: ArrayLike<number>): number {
  const n = nonEmpty(samples, 'mean');
  let sum = 0;
  for (let index = 0; index < n; index += 1) sum += samples[index]!;
  return sum / n;
}

export function min(samples: ArrayLike<number>): number {
  const n = nonEmpty(samples, 'minimum');
  let result = samples[0]!;
  for (let index = 1; index < n; index += 1) result = Math.min(result, samples[index]!);
  return result;
}

export function max(samples: ArrayLike<number>): number {
  const n = nonEmpty(samples, 'maximum');
  let result = samples[0]!;
  for (let index = 1; index < n; index += 1) result = Math.max(result, samples[index]!);
  return result;
}

/**
 * Population standard deviation (divides by n, like numpy's default `ddof=0`), computed in two
 * passes so that large offsets (timestamps, microseconds) do not cancel out.
 */
export function stddev(samples: ArrayLike<number>): number {
  const n = nonEmpty(samples, 'standard deviation');
  const average = mean(samples);
  let squares = 0;
  for (let index = 0; index < n; index += 1) {
    const delta = samples[index]! - average;
    squares += delta * delta;
  }
  return Math.sqrt(squares / n);
}

/**
 * Latency samples in milliseconds, appended into a Float64Array that doubles when full. One
 * recorder per level; several workers of one level may share it (JavaScript is single-threaded).
 */
export class LatencyRecorder {
  private buffer: Float64Array;
  private length = 0;

  constructor(initialCapacity = 1024) {
    if (!Number.isInteger(initialCapacity) || initialCapacity < 1) {
      throw new RangeError(
        `Expected \`initialCapacity\` to be a positive integer, got \`${initialCapacity}\``,
      );
    }
    this.buffer = new Float64Array(initialCapacity);
  }

  get count(): number {
    return this.length;
  }

  /** Adds one latency in milliseconds; negative or non-finite values are bugs and throw. */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`Expected a latency to be a finite number >= 0, got \`${ms}\``);
    }
    if (this.length === this.buffer.length) {
      const grown = new Float64Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.length] = ms;
    this.length += 1;
  }

  /** Records the time from `startMs` (a `performance.now()` reading) to `now`, and returns it. */
  recordSince(startMs: number, now = performance.now()): number {
    const ms = now - startMs;
    this.record(ms);
    return ms;
  }

  /** Appends every sample of another recorder (e.g. to pool the workers of one level). */
  merge(other: LatencyRecorder): void {
    for (const value of other.samples()) this.record(value);
  }

  /** A view of the recorded samples, in recording order; it is invalidated by the next `record`. */
  samples(): Float64Array {
    return this.buffer.subarray(0, this.length);
  }

  clear(): void {
    this.length = 0;
  }
}

/** Count, mean, exact p50/p95/p99, min and max of a recorder or of plain samples (ms). */
export function summarize(source: LatencyRecorder | ArrayLike<number>): LatencySummary {
  const samples = source instanceof LatencyRecorder ? source.samples() : source;
  nonEmpty(samples, 'summary');
  const sorted = sortedCopy(samples);
  return {
    count: sorted.length,
    mean_ms: mean(sorted),
    p50_ms: quantileSorted(sorted, 0.5),
    p95_ms: quantileSorted(sorted, 0.95),
    p99_ms: quantileSorted(sorted, 0.99),
    min_ms: sorted[0]!,
    max_ms: sorted[sorted.length - 1]!,
  };
}

export interface TimelineOptions {
  /** Bucket width in seconds (default 1). */
  bucketSeconds?: number;
  /** The origin, a `performance.now()` reading (default: when the timeline is created). */
  startMs?: number;
}

/**
 * Counts events (vectors acknowledged, documents embedded) into fixed-width time buckets, for a
 * rate-over-time chart. Memory grows with the run's duration, not with the number of events.
 */
export class Timeline {
  readonly bucketSeconds: number;
  readonly startMs: number;
  private buckets = new Float64Array(64);
  private used = 0;
  private lastMs: number;

  constructor(options: TimelineOptions = {}) {
    const bucketSeconds = options.bucketSeconds ?? 1;
    if (!Number.isFinite(bucketSeconds) || bucketSeconds <= 0) {
      throw new RangeError(`Expected \`bucketSeconds\` to be a positive number, got \`${bucketSeconds}\``);
    }
    this.bucketSeconds = bucketSeconds;
    this.startMs = options.startMs ?? performance.now();
    this.lastMs = this.startMs;
  }

  /** Adds `count` events at `atMs` (a `performance.now()` reading); times before the origin count as 0. */
  record(count: number, atMs = performance.now()): void {
    const elapsed = Math.max(0, atMs - this.startMs);
    const index = Math.floor(elapsed / (this.bucketSeconds * 1000));
    if (index >= this.buckets.length) {
      const grown = new Float64Array(Math.max(index + 1, this.buckets.length * 2));
      grown.set(this.buckets);
      this.buckets = grown;
    }
    this.buckets[index] = this.buckets[index]! + count;
    this.used = Math.max(this.used, index + 1);
    this.lastMs = Math.max(this.lastMs, atMs);
  }

  /** Events recorded so far. */
  get total(): number {
    let sum = 0;
    for (let index = 0; index < this.used; index += 1) sum += this.buckets[index]!;
    return sum;
  }

  /**
   * `[seconds, rate]` per bucket: `seconds` is the time since the origin at the bucket's end and
   * `rate` its events per second. Buckets without events are kept (a stall shows as 0). The run
   * ends at `endMs` (default: the last event; never before it): the final bucket's rate is taken
   * over the part of it that elapsed, and a final part shorter than half a bucket is folded into
   * the bucket before it, so that a few milliseconds at the end do not plot as a spike. A run of
   * zero duration has no points.
   */
  points(endMs = this.lastMs): Array<[seconds: number, rate: number]> {
    const width = this.bucketSeconds;
    const endSeconds = Math.max(0, (Math.max(endMs, this.lastMs) - this.startMs) / 1000);
    const bucketCount = Math.max(this.used, Math.ceil(endSeconds / width));
    const result: Array<[number, number]> = [];
    for (let index = 0; index < bucketCount; index += 1) {
      const from = index * width;
      const to = Math.min((index + 1) * width, endSeconds);
      const count = index < this.used ? this.buckets[index]! : 0;
      const previous = result[result.length - 1];
      if (index === bucketCount - 1 && previous && to - from < width / 2) {
        result[result.length - 1] = [to, (previous[1] * width + count) / (to - from + width)];
      } else if (to > from) {
        result.push([to, count / (to - from)]);
      }
    }
    return result;
  }
}

function checkQuantile(q: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`Expected a quantile between 0 and 1, got \`${q}\``);
}

function nonEmpty(samples: ArrayLike<number>, what: string): number {
  if (samples.length === 0) throw new RangeError(`Cannot take the ${what} of an empty sample`);
  return samples.length;
}
