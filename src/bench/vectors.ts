import { UsageError } from '../errors.js';

/**
 * Seeded synthetic vectors for benchmarks: the same seed gives the same vectors on every run (32-bit
 * integer arithmetic, a fixed table of Gaussian deviates, float32 results), so two runs upload and
 * query the same data.
 */

/**
 * Mulberry32: a tiny 32-bit PRNG, fast and good enough for test data (not for secrets). Returns a
 * function giving floats in [0, 1). The seed is taken modulo 2^32.
 */
export function mulberry32(seed: number): () => number {
  checkInteger('seed', seed, Number.MIN_SAFE_INTEGER);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Standard normal deviates at the midpoints of 65,536 equal-probability slices (inverse CDF), so
 * one 32-bit draw gives two Gaussian components with two table reads. Box-Muller (a logarithm,
 * a square root, a sine and a cosine per pair) generated about 19k 1024-dim vectors/s on a 2-core
 * machine; with the table it is about 110k, still less than the upload path takes, hence the
 * pool of `VectorSource`. The tails stop at ±4.2σ, which vectors of benchmark data do not miss.
 */
const NORMAL = buildNormalTable(16);

function buildNormalTable(bits: number): Float64Array {
  const size = 2 ** bits;
  const table = new Float64Array(size);
  for (let index = 0; index < size; index += 1) table[index] = inverseNormal((index + 0.5) / size);
  return table;
}

/** Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9). */
function inverseNormal(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

export type VectorDistribution = 'uniform' | 'clustered';

export interface VectorOptions {
  /**
   * `uniform` (default): directions spread evenly over the unit sphere (normalised Gaussian
   * components), the hardest case for an HNSW index. `clustered`: Gaussian blobs around
   * `clusters` random centroids, closer to real embeddings.
   */
  distribution?: VectorDistribution;
  /** Seed of the vectors (default 1). */
  seed?: number;
  /**
   * Seed of the centroids (default: `seed`). Queries for a clustered collection use the data's
   * centroid seed and a seed of their own: same clusters, different points.
   */
  centroidSeed?: number;
  /** Centroids of the clustered distribution (default 32). */
  clusters?: number;
  /**
   * Length of the Gaussian noise added to a unit centroid before normalising (default 0.5: a
   * vector's cosine to its centroid is about 0.9, to another centroid about 0).
   */
  spread?: number;
}

/** Base vectors a `VectorSource` rotates; it draws them anew every `POOL_SIZE × dim` vectors. */
const POOL_SIZE = 256;

/**
 * An endless, deterministic stream of unit vectors. `generateVectors` and `vectorBatches` read
 * one, so for the same options they give the same sequence whatever the batch size, and the
 * first `n` of a larger count are the `n` of a smaller one.
 *
 * Drawing 1024 Gaussian components costs about 4 µs, half of what the upload path spends on a
 * vector, so `bench upsert` would measure the generator. Instead the source draws a pool of 256
 * Gaussian vectors and hands out cyclic rotations of them: rotating the coordinates of an
 * isotropic Gaussian vector gives another one, and two rotations of one vector are as nearly
 * orthogonal as two independent vectors (their cosine is the vector's circular autocorrelation,
 * about ±1/√dim). Vector `n` is pool entry `n mod 256` rotated by `⌊n / 256⌋ mod dim`; after
 * `256 × dim` vectors a new pool is drawn, so no vector repeats. Each entry is stored twice in a
 * row, so a rotation is one contiguous window: `take` hands it out without copying. `clustered`
 * rotates the noise only, around a centroid drawn per vector.
 */
export class VectorSource {
  readonly dim: number;
  readonly distribution: VectorDistribution;
  /** The clustered distribution's centroids (unit vectors); empty for `uniform`. */
  readonly centroids: readonly Float32Array[];
  private state: number;
  private readonly sigma: number;
  /**
   * `POOL_SIZE` Gaussian vectors, each twice in a row: unit length for `uniform`, raw for
   * `clustered`'s noise. Replaced, never overwritten, so windows handed out stay valid.
   */
  private pool: Float32Array;
  private drawn = 0;

  constructor(dim: number, options: VectorOptions = {}) {
    checkInteger('dim', dim, 1);
    const seed = options.seed ?? 1;
    const clusters = options.clusters ?? 32;
    const spread = options.spread ?? 0.5;
    checkInteger('seed', seed, Number.MIN_SAFE_INTEGER);
    checkInteger('clusters', clusters, 1);
    if (!Number.isFinite(spread) || spread < 0) {
      throw new UsageError(`Expected \`spread\` to be a number >= 0, got \`${spread}\``);
    }
    this.dim = dim;
    this.distribution = options.distribution ?? 'uniform';
    this.state = deriveSeed(seed, 1) | 0;
    this.sigma = spread / Math.sqrt(dim);
    this.pool = new Float32Array(0);
    if (this.distribution === 'clustered') {
      const centroidSource = new VectorSource(dim, { seed: deriveSeed(options.centroidSeed ?? seed, 2) });
      this.centroids = Array.from({ length: clusters }, () => centroidSource.next());
    } else {
      this.centroids = [];
    }
  }

  /** The next vector in a new Float32Array. */
  next(): Float32Array {
    const vector = new Float32Array(this.dim);
    this.fill(vector);
    return vector;
  }

  /**
   * Writes the next unit vector into `target` (its first `dim` elements) and returns the index of
   * its centroid, or -1 for `uniform`.
   */
  fill(target: Float32Array): number {
    target.set(this.rotation(), 0);
    return this.centroids.length === 0 ? -1 : this.aroundCentroid(target);
  }

  /**
   * The next unit vector with as little copying as the distribution allows: for `uniform` a view
   * into the pool (to be read, never written), for `clustered` written into `spare` when one is
   * given, else into a new array.
   */
  take(spare?: Float32Array): Float32Array {
    if (this.centroids.length === 0) return this.rotation();
    const target = spare ?? new Float32Array(this.dim);
    this.fill(target);
    return target;
  }

  /** The next pool entry's rotation: a window of the pool, drawing a new pool when one is used up. */
  private rotation(): Float32Array {
    const dim = this.dim;
    const slot = this.drawn % POOL_SIZE;
    const round = Math.floor(this.drawn / POOL_SIZE);
    if (slot === 0 && round % dim === 0) this.drawPool();
    this.drawn += 1;
    const start = slot * 2 * dim + (round % dim);
    return this.pool.subarray(start, start + dim);
  }

  /** Turns the noise in `target` into a unit vector around a centroid drawn now; returns its index. */
  private aroundCentroid(target: Float32Array): number {
    const dim = this.dim;
    const cluster = Math.floor((this.bits() / 4294967296) * this.centroids.length);
    const centroid = this.centroids[cluster]!;
    const sigma = this.sigma;
    let squares = 0;
    for (let index = 0; index < dim; index += 1) {
      const value = centroid[index]! + sigma * target[index]!;
      target[index] = value;
      squares += value * value;
    }
    // Zero only if the noise cancels the centroid exactly; the centroid is then the nearest unit vector.
    if (squares === 0) target.set(centroid);
    else {
      const scale = 1 / Math.sqrt(squares);
      for (let index = 0; index < dim; index += 1) target[index] = target[index]! * scale;
    }
    return cluster;
  }

  /** A new pool of standard normal vectors, scaled to unit length for `uniform`, each stored twice. */
  private drawPool(): void {
    const dim = this.dim;
    const unit = this.centroids.length === 0;
    this.pool = new Float32Array(POOL_SIZE * 2 * dim);
    for (let slot = 0; slot < POOL_SIZE; slot += 1) {
      const start = slot * 2 * dim;
      const vector = this.pool.subarray(start, start + dim);
      let squares = this.noise(vector);
      // A zero vector has no direction; practically impossible, but then draw again.
      while (unit && squares === 0) squares = this.noise(vector);
      if (unit) {
        const scale = 1 / Math.sqrt(squares);
        for (let index = 0; index < dim; index += 1) vector[index] = vector[index]! * scale;
      }
      this.pool.copyWithin(start + dim, start, start + dim);
    }
  }

  /** The next Mulberry32 output as a uint32; `noise` inlines it (a call per pair halved its speed). */
  private bits(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Fills `target` with standard normal deviates; returns the sum of their squares. */
  private noise(target: Float32Array): number {
    const dim = this.dim;
    let state = this.state;
    let squares = 0;
    for (let index = 0; index < dim; index += 2) {
      state = (state + 0x6d2b79f5) | 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const bits = (t ^ (t >>> 14)) >>> 0;
      const first = NORMAL[bits & 0xffff]!;
      target[index] = first;
      squares += first * first;
      if (index + 1 < dim) {
        const second = NORMAL[bits >>> 16]!;
        target[index + 1] = second;
        squares += second * second;
      }
    }
    this.state = state;
    return squares;
  }
}

/** `count` unit vectors of `dim` dimensions; see `VectorOptions`. For large counts use `vectorBatches`. */
export function generateVectors(count: number, dim: number, options: VectorOptions = {}): Float32Array[] {
  checkInteger('count', count, 0);
  const result: Float32Array[] = [];
  for (const batch of vectorBatches(count, dim, 4096, options))
    for (const vector of batch) result.push(vector);
  return result;
}

/**
 * The vectors of `generateVectors(count, dim, options)`, `batchSize` at a time (the last batch may
 * be smaller), so a million vectors never sit in memory at once. Each batch is one fresh
 * Float32Array of `batchSize × dim` floats and its vectors are views into it: a batch may be held
 * while the next is generated, and holding one vector keeps its whole batch alive.
 */
export function* vectorBatches(
  count: number,
  dim: number,
  batchSize: number,
  options: VectorOptions = {},
): Generator<Float32Array[], void, undefined> {
  checkInteger('count', count, 0);
  checkInteger('batchSize', batchSize, 1);
  const source = new VectorSource(dim, options);
  for (let done = 0; done < count; ) {
    const size = Math.min(batchSize, count - done);
    const buffer = new Float32Array(size * dim);
    const batch: Float32Array[] = [];
    for (let index = 0; index < size; index += 1) {
      const vector = buffer.subarray(index * dim, (index + 1) * dim);
      source.fill(vector);
      batch.push(vector);
    }
    done += size;
    yield batch;
  }
}

/** Cosine similarity of two vectors of equal length (their dot product when both are unit vectors). */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < a.length; index += 1) {
    const x = a[index]!;
    const y = b[index]!;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA > 0 && normB > 0 ? dot / Math.sqrt(normA * normB) : 0;
}

/** Mixes a seed with a stream number (murmur3's finaliser), so that related seeds give unrelated streams. */
function deriveSeed(seed: number, stream: number): number {
  let h = (Math.trunc(seed % 4294967296) ^ Math.imul(stream, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function checkInteger(name: string, value: number, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum) {
    const what = minimum === 1 ? 'a positive integer' : minimum === 0 ? 'an integer >= 0' : 'an integer';
    throw new UsageError(`Expected \`${name}\` to be ${what}, got \`${value}\``);
  }
}
