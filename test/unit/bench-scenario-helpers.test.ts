import { Writable } from 'node:stream';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { textTable } from '../../src/bench/report/text.js';
import { benchSettings } from '../../src/bench/run-bench.js';
import { requestBatches } from '../../src/bench/scenarios/embed.js';
import { bottleneckShares } from '../../src/bench/scenarios/ingest.js';
import { heldOutQueries } from '../../src/bench/scenarios/search.js';
import { benchCollectionName, benchSpec, runWorkers } from '../../src/bench/scenarios/shared.js';
import { generatedTexts } from '../../src/bench/scenarios/texts.js';
import { cosine, generateVectors } from '../../src/bench/vectors.js';
import { benchPlan, levels } from '../../src/commands/bench.js';
import { configSchema } from '../../src/config/schema.js';
import { createBenchProgress } from '../../src/ui/bench-report.js';
import { Output } from '../../src/ui/output.js';

const config = configSchema.parse({});

describe('bottleneckShares', () => {
  it('divides busy time by the slots of each stage before taking shares', () => {
    const shares = bottleneckShares(
      { read: 1_000, chunk: 1_000, embed: 40_000, upsert: 8_000 },
      { read: 1, chunk: 1, embed: 4, upsert: 4 },
    );
    // Slot-seconds: read 1, chunk 1, embed 10, upsert 2 -> 14 in all.
    expect(shares.embed).toBeCloseTo(10 / 14, 10);
    expect(shares.upsert).toBeCloseTo(2 / 14, 10);
    expect(shares.read).toBeCloseTo(1 / 14, 10);
    expect(Object.values(shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
  });

  it('shares equally when no stage was busy at all', () => {
    const shares = bottleneckShares(
      { read: 0, chunk: 0, embed: 0, upsert: 0 },
      { read: 1, chunk: 1, embed: 4, upsert: 4 },
    );
    expect(Object.values(shares)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});

describe('generated texts and request batches', () => {
  it('generates the same texts for the same seed, different ones for another, 40 to 240 words each', () => {
    const texts = generatedTexts(50, 7);
    expect(generatedTexts(50, 7)).toEqual(texts);
    expect(generatedTexts(50, 8)).not.toEqual(texts);
    for (const text of texts) {
      const words = text.split(/\s+/).length;
      expect(words).toBeGreaterThanOrEqual(40);
      expect(words).toBeLessThanOrEqual(240);
      expect(text.endsWith('.')).toBe(true);
    }
  });

  it('cuts texts into requests within the input and token limits, keeping every text in order', () => {
    const texts = generatedTexts(100, 1);
    const batches = requestBatches(texts, { maxInputs: 8, maxTokens: 1_000, maxBytes: 1_500_000 });
    expect(batches.flatMap((batch) => batch.texts)).toEqual(texts);
    for (const batch of batches) {
      expect(batch.texts.length).toBeLessThanOrEqual(8);
      if (batch.texts.length > 1) expect(batch.estimatedTokens).toBeLessThanOrEqual(1_000);
    }
    expect(batches.length).toBeGreaterThan(100 / 8);
  });
});

describe('bench data', () => {
  it('names throwaway collections taboot_bench_ and 8 hex digits, differently each time', () => {
    const name = benchCollectionName();
    expect(name).toMatch(/^taboot_bench_[0-9a-f]{8}$/);
    expect(benchCollectionName()).not.toBe(name);
  });

  it('keeps the configured collection settings with the bench dimension and a bucket index', () => {
    const spec = benchSpec(config.collection, 96);
    expect(spec.vectorSize).toBe(96);
    expect(spec.hnsw.m).toBe(32);
    expect(spec.quantization.type).toBe('int8');
    expect(spec.payloadIndexes.bucket).toEqual({ type: 'integer', isTenant: false });
    expect(spec.payloadIndexes.doc_id).toEqual({ type: 'keyword', isTenant: false });
  });

  it('draws held-out queries from the data distribution but not the data itself', () => {
    const data = generateVectors(200, 16, { distribution: 'clustered', seed: 3 });
    const queries = heldOutQueries(20, 16, 'clustered', 3);
    expect(queries).toHaveLength(20);
    expect(heldOutQueries(20, 16, 'clustered', 3)).toEqual(queries);
    for (const query of queries) {
      const vector = Float32Array.from(query);
      const best = Math.max(...data.map((point) => cosine(point, vector)));
      expect(best).toBeLessThan(0.9999);
      // Same centroids: every query sits in a cluster of the data.
      expect(best).toBeGreaterThan(0.5);
    }
  });
});

describe('runWorkers', () => {
  it('runs every index once with at most `concurrency` tasks in flight', async () => {
    const seen: number[] = [];
    let running = 0;
    let peak = 0;
    await runWorkers(20, 3, async (index) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(index);
      running -= 1;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).toBe(3);
  });

  it('rethrows the first failure and takes no new work after it', async () => {
    const started: number[] = [];
    const promise = runWorkers(50, 2, async (index) => {
      started.push(index);
      await new Promise((resolve) => setImmediate(resolve));
      if (index === 3) throw new Error('boom');
    });
    await expect(promise).rejects.toThrow('boom');
    expect(started.length).toBeLessThan(10);
  });
});

describe('bench flags', () => {
  it('parses levels as positive integers without duplicates', () => {
    expect(levels('--concurrency')('1, 4,16,4')).toEqual([1, 4, 16]);
    expect(() => levels('--concurrency')('1,,4')).toThrow(InvalidArgumentError);
    expect(() => levels('--hnsw-ef')('0')).toThrow('Expected `--hnsw-ef` to be a positive integer, got `0`');
  });

  it('fills every default from the issue and the config', () => {
    const plan = benchPlan(['upsert'], { maxRegression: 0.1 }, config, []);
    expect(plan.data).toEqual({
      count: 100_000,
      dim: 1024,
      distribution: 'uniform',
      seed: 1,
      batchSize: 500,
      batchBytes: 16 * 1024 * 1024,
      parallel: 4,
      wait: false,
      indexTimeoutMs: 600_000,
    });
    expect(plan.search).toEqual({
      queries: 200,
      concurrency: [1, 4, 16],
      hnswEf: [64, 128, 256],
      k: 10,
      filters: [],
    });
    expect(plan.keep).toBe(false);
    expect(plan.collection).toBeUndefined();
  });

  it('gives --concurrency to embed in bench embed and --embed-concurrency to embed in bench all', () => {
    const embedOnly = benchPlan(
      ['embed'],
      { maxRegression: 0.1, concurrency: [2, 8], batchSize: 16 },
      config,
      [],
    );
    expect(embedOnly.embed.concurrency).toEqual([2, 8]);
    expect(embedOnly.embed.batchSize).toBe(16);
    const all = benchPlan(
      ['upsert', 'search', 'embed'],
      { maxRegression: 0.1, concurrency: [3], embedConcurrency: [5], embedBatchSize: 4 },
      config,
      [],
    );
    expect(all.search.concurrency).toEqual([3]);
    expect(all.embed.concurrency).toEqual([5]);
    expect(all.embed.batchSize).toBe(4);
  });

  it('lists the settings a scenario used, and only those', () => {
    const plan = benchPlan(
      ['search'],
      { maxRegression: 0.1, collection: 'docs', filter: ['bucket<5'] },
      config,
      [],
    );
    const settings = benchSettings(config, plan);
    expect(settings).toMatchObject({ collection: 'docs', queries: 200, filter: ['bucket<5'], k: 10 });
    // An existing collection: the generated-data knobs do not apply.
    expect(settings).not.toHaveProperty('count');
    expect(settings).not.toHaveProperty('tei_url');
  });
});

/** A stream whose writes land synchronously. */
function sink(onWrite: (chunk: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      onWrite(chunk.toString());
      callback();
    },
  });
}

describe('bench output', () => {
  it('pads a table: first column left, the figures right, a marked row emphasised', () => {
    const style = { bold: (text: string) => `*${text}*`, dim: (text: string) => text };
    expect(
      textTable(
        {
          headers: ['level', 'QPS'],
          rows: [{ cells: ['1', '12.5'] }, { cells: ['16', '1,024'], mark: 'highlight' }],
          kind: 'numbers',
        },
        style,
      ),
    ).toEqual(['  level    QPS', '  1       12.5', '*  16     1,024*']);
  });

  it('prints a phase line, then at most one progress line per interval, and the final count', () => {
    let text = '';
    const stderr = sink((chunk) => {
      text += chunk;
    });
    const output = new Output({
      json: false,
      quiet: false,
      debug: false,
      color: false,
      stderr,
      stdout: sink(() => {}),
    });
    const progress = createBenchProgress(output, 60_000);
    progress.phase('upload', '100 vectors');
    for (let done = 10; done <= 100; done += 10) progress.progress(done, 100, 'vectors');
    progress.stop();
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('upload  100 vectors');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^ {2}upload {2}100 \/ 100 vectors {2}/);
  });

  it('is silent with --quiet', () => {
    let text = '';
    const stderr = sink((chunk) => {
      text += chunk;
    });
    const output = new Output({
      json: false,
      quiet: true,
      debug: false,
      color: false,
      stderr,
      stdout: sink(() => {}),
    });
    const progress = createBenchProgress(output);
    progress.phase('upload');
    progress.progress(1, 1, 'vectors');
    progress.stop();
    expect(text).toBe('');
  });
});
