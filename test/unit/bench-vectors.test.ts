import { describe, expect, it } from 'vitest';
import { cosine, generateVectors, mulberry32, VectorSource, vectorBatches } from '../../src/bench/vectors.js';

function norm(vector: Float32Array): number {
  let squares = 0;
  for (const value of vector) squares += value * value;
  return Math.sqrt(squares);
}

describe('mulberry32', () => {
  it('is deterministic for a seed and stays in [0, 1)', () => {
    const first = mulberry32(42);
    const second = mulberry32(42);
    const values = Array.from({ length: 1000 }, () => first());
    expect(values).toEqual(Array.from({ length: 1000 }, () => second()));
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(mulberry32(43)()).not.toBe(values[0]);
  });

  it('produces the sequence of the reference Mulberry32 implementation', () => {
    // Tommy Ettinger's Mulberry32 as commonly published in JavaScript (state kept as a float).
    const reference = (seed: number) => {
      let a = seed;
      return () => {
        a += 0x6d2b79f5;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    };
    for (const seed of [0, 1, 123456789]) {
      const expected = reference(seed);
      const random = mulberry32(seed);
      for (let index = 0; index < 100; index += 1) expect(random()).toBe(expected());
    }
  });

  it('is roughly uniform', () => {
    const random = mulberry32(7);
    const bins = new Array<number>(10).fill(0);
    for (let index = 0; index < 100_000; index += 1) bins[Math.floor(random() * 10)]! += 1;
    for (const count of bins) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});

describe('generateVectors', () => {
  it('gives unit vectors of the requested size, the same for the same seed', () => {
    const first = generateVectors(50, 33, { seed: 5 });
    const second = generateVectors(50, 33, { seed: 5 });
    expect(first).toHaveLength(50);
    for (const vector of first) {
      expect(vector).toHaveLength(33);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
    expect(first).toEqual(second);
    expect(generateVectors(1, 33, { seed: 6 })[0]).not.toEqual(first[0]);
  });

  it('spreads uniform vectors over the sphere: mean near 0, component variance near 1/dim', () => {
    const dim = 64;
    const vectors = generateVectors(4000, dim, { seed: 11 });
    const sum = new Float64Array(dim);
    let squares = 0;
    for (const vector of vectors) {
      for (let index = 0; index < dim; index += 1) {
        sum[index]! += vector[index]!;
        squares += vector[index]! ** 2;
      }
    }
    for (const total of sum) expect(Math.abs(total / vectors.length)).toBeLessThan(0.02);
    expect(squares / (vectors.length * dim)).toBeCloseTo(1 / dim, 6);
    // Random directions in 64 dimensions are nearly orthogonal.
    expect(Math.abs(cosine(vectors[0]!, vectors[1]!))).toBeLessThan(0.5);
  });

  it('gives the first n vectors of a larger count for a count of n', () => {
    const options = { seed: 3, distribution: 'clustered' as const, clusters: 4 };
    expect(generateVectors(10, 16, options)).toEqual(generateVectors(5000, 16, options).slice(0, 10));
  });

  it('rejects bad sizes with the option name', () => {
    expect(() => generateVectors(-1, 8)).toThrow(/`count`/);
    expect(() => generateVectors(1, 0)).toThrow(/`dim`/);
    expect(() => generateVectors(1, 8, { clusters: 0, distribution: 'clustered' })).toThrow(/`clusters`/);
    expect(() => generateVectors(1, 8, { seed: 1.5 })).toThrow(/`seed`/);
  });
});

describe('VectorSource.take', () => {
  it('gives the sequence of fill, and a uniform view stays valid after the pool is drawn anew', () => {
    // 4 dimensions: a new pool every 256 × 4 vectors.
    const expected = generateVectors(3_000, 4, { seed: 8 });
    const source = new VectorSource(4, { seed: 8 });
    const taken = Array.from({ length: 3_000 }, () => source.take());
    expect(taken).toEqual(expected);
    expect(new Set(taken.map((vector) => vector.join(','))).size).toBe(3_000);
  });

  it('writes clustered vectors into the spare it is given', () => {
    const expected = generateVectors(3, 16, { seed: 2, distribution: 'clustered' });
    const source = new VectorSource(16, { seed: 2, distribution: 'clustered' });
    const spare = new Float32Array(16);
    expect(source.take(spare)).toBe(spare);
    expect(spare).toEqual(expected[0]);
    expect(source.take()).toEqual(expected[1]);
  });
});

describe('clustered vectors', () => {
  it('lie closer to their own centroid than to any other', () => {
    const source = new VectorSource(128, { distribution: 'clustered', seed: 9, clusters: 8 });
    expect(source.centroids).toHaveLength(8);
    const seen = new Set<number>();
    for (let index = 0; index < 500; index += 1) {
      const vector = new Float32Array(128);
      const cluster = source.fill(vector);
      seen.add(cluster);
      expect(norm(vector)).toBeCloseTo(1, 5);
      const own = cosine(vector, source.centroids[cluster]!);
      expect(own).toBeGreaterThan(0.75);
      source.centroids.forEach((centroid, other) => {
        if (other !== cluster) expect(cosine(vector, centroid)).toBeLessThan(own - 0.3);
      });
    }
    expect(seen.size).toBe(8);
  });

  it('share centroids with queries drawn from another seed and the same centroid seed', () => {
    const data = new VectorSource(32, { distribution: 'clustered', seed: 1, clusters: 4 });
    const queries = new VectorSource(32, {
      distribution: 'clustered',
      seed: 2,
      centroidSeed: 1,
      clusters: 4,
    });
    expect(queries.centroids).toEqual(data.centroids);
    expect(queries.next()).not.toEqual(data.next());
  });

  it('tighten with a smaller spread', () => {
    const tight = new VectorSource(64, { distribution: 'clustered', seed: 4, clusters: 2, spread: 0.1 });
    const vector = new Float32Array(64);
    const cluster = tight.fill(vector);
    expect(cosine(vector, tight.centroids[cluster]!)).toBeGreaterThan(0.98);
  });
});

describe('vectorBatches', () => {
  it('yields the vectors of generateVectors in batches, the last one smaller', () => {
    const options = { seed: 21, distribution: 'clustered' as const };
    const batches = [...vectorBatches(25, 12, 10, options)];
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(generateVectors(25, 12, options));
  });

  it('backs each batch with one fresh buffer', () => {
    const [first, second] = [...vectorBatches(4, 8, 2)];
    expect(first![0]!.buffer).toBe(first![1]!.buffer);
    expect(first![0]!.buffer).not.toBe(second![0]!.buffer);
    expect(first![0]!.buffer.byteLength).toBe(2 * 8 * 4);
  });

  it('is lazy: a million vectors can be streamed one batch at a time', () => {
    const iterator = vectorBatches(1_000_000, 1024, 100);
    const first = iterator.next();
    expect(first.done).toBe(false);
    expect(first.value).toHaveLength(100);
    iterator.return(undefined);
  });

  it('yields nothing for a count of 0 and rejects a zero batch size', () => {
    expect([...vectorBatches(0, 8, 10)]).toEqual([]);
    expect(() => [...vectorBatches(1, 8, 0)]).toThrow(/`batchSize`/);
  });
});
