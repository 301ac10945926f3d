import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  compareWithBaseline,
  parseBenchResult,
  readBaseline,
  writeBaseline,
} from '../../src/bench/baseline.js';
import { describeRegression } from '../../src/bench/report/model.js';
import { type BenchResult, benchJson } from '../../src/bench/result.js';
import { ExitCode, TabootError, UsageError } from '../../src/errors.js';

function sample(): BenchResult {
  return {
    version: 1,
    taboot_version: '0.1.0',
    started_at: '2026-01-02T10:00:00.000Z',
    machine: { cpus: 16, node: 'v20.20.2' },
    settings: { seed: 1, distribution: 'uniform', concurrency: [1, 4] },
    upsert: {
      count: 100_000,
      dim: 1024,
      batch_size: 500,
      parallel: 4,
      upload_seconds: 5,
      upload_vps: 20_000,
      mean_ms: 90,
      p50_ms: 80,
      p95_ms: 150,
      p99_ms: 200,
      index_seconds: 30,
      total_seconds: 35,
      client_cpu_share: 0.4,
      timeline: [
        [1, 19_000],
        [2, 21_000],
      ],
    },
    search: {
      collection: 'bench',
      queries: 1000,
      levels: [
        {
          concurrency: 1,
          hnsw_ef: 128,
          qps: 900,
          mean_ms: 1.1,
          p50_ms: 1,
          p95_ms: 2,
          p99_ms: 3,
          recall: 0.98,
          k: 10,
        },
        {
          concurrency: 4,
          hnsw_ef: 128,
          qps: 3000,
          mean_ms: 1.3,
          p50_ms: 1.2,
          p95_ms: 2.5,
          p99_ms: 4,
          recall: 0.98,
          k: 10,
        },
      ],
    },
    embed: {
      levels: [
        {
          concurrency: 4,
          docs_per_second: 800,
          tokens_per_second: 200_000,
          mean_ms: 40,
          p50_ms: 38,
          p95_ms: 60,
          p99_ms: 70,
        },
      ],
    },
    ingest: {
      documents: 300,
      chunks: 5000,
      docs_per_second: 50,
      chunks_per_second: 800,
      vps: 800,
      stages: {
        read: { seconds: 0.5, bottleneck_share: 0.05 },
        chunk: { seconds: 0.5, bottleneck_share: 0.05 },
        embed: { seconds: 8, bottleneck_share: 0.8 },
        upsert: { seconds: 1, bottleneck_share: 0.1 },
      },
      index_seconds: 2,
      total_seconds: 8,
    },
  };
}

describe('compareWithBaseline', () => {
  it('finds no regression between a result and itself, and counts what it compared', () => {
    const comparison = compareWithBaseline(sample(), sample());
    expect(comparison.regressions).toEqual([]);
    // upsert 8, search 2 levels x 6, embed 6, ingest 5
    expect(comparison.compared).toBe(31);
    expect(comparison.skipped).toEqual([]);
  });

  it('names upsert.upload_vps when the baseline had double the throughput', () => {
    const baseline = sample();
    baseline.upsert!.upload_vps = 40_000;
    const { regressions } = compareWithBaseline(sample(), baseline);
    expect(regressions).toEqual([
      {
        metric: 'upsert.upload_vps',
        baseline: 40_000,
        current: 20_000,
        change: -0.5,
        better: 'higher',
        regressed: true,
      },
    ]);
    expect(describeRegression(regressions[0]!)).toBe('upsert.upload_vps fell 50.0% (40000 -> 20000)');
  });

  it('lets latency rise 5% under a 10% allowance, and not 15%', () => {
    const current = sample();
    current.search!.levels[1]!.p95_ms = 2.5 * 1.05;
    expect(compareWithBaseline(current, sample(), 0.1).regressions).toEqual([]);
    current.search!.levels[1]!.p95_ms = 2.5 * 1.15;
    const { regressions } = compareWithBaseline(current, sample(), 0.1);
    expect(regressions.map((regression) => regression.metric)).toEqual([
      'search.levels[concurrency=4,hnsw_ef=128].p95_ms',
    ]);
    expect(regressions[0]!.change).toBeCloseTo(0.15, 9);
  });

  it('treats a change of exactly the allowance as no regression', () => {
    const current = sample();
    current.upsert!.upload_vps = 18_000;
    current.upsert!.p99_ms = 220;
    expect(compareWithBaseline(current, sample(), 0.1).regressions).toEqual([]);
  });

  it('flags improvements in neither direction', () => {
    const current = sample();
    current.upsert!.upload_vps = 60_000;
    current.upsert!.p99_ms = 20;
    current.embed!.levels[0]!.mean_ms = 1;
    expect(compareWithBaseline(current, sample()).regressions).toEqual([]);
  });

  it('holds recall to an absolute tolerance as well', () => {
    const current = sample();
    // 0.98 -> 0.96 is a 2% relative fall, within 10%, but more than the 0.01 tolerance.
    current.search!.levels[0]!.recall = 0.96;
    const { regressions } = compareWithBaseline(current, sample(), 0.1);
    expect(regressions.map((regression) => regression.metric)).toEqual([
      'search.levels[concurrency=1,hnsw_ef=128].recall',
    ]);
    current.search!.levels[0]!.recall = 0.975;
    expect(compareWithBaseline(current, sample(), 0.1).regressions).toEqual([]);
    current.search!.levels[0]!.recall = 0.96;
    expect(compareWithBaseline(current, sample(), 0.1, { recallTolerance: 0.05 }).regressions).toEqual([]);
  });

  it('ignores small absolute rises of durations', () => {
    const baseline = sample();
    baseline.ingest!.index_seconds = 0.04;
    const current = sample();
    current.ingest!.index_seconds = 0.09;
    expect(compareWithBaseline(current, baseline).regressions).toEqual([]);
    expect(compareWithBaseline(current, baseline, 0.1, { minSecondsIncrease: 0 }).regressions).toHaveLength(
      1,
    );
  });

  it('matches levels by their keys and skips the ones on one side only', () => {
    const current = sample();
    current.search!.levels = [
      { ...current.search!.levels[1]!, qps: 1000 },
      { ...current.search!.levels[0]!, concurrency: 16 },
    ];
    const comparison = compareWithBaseline(current, sample());
    expect(comparison.regressions.map((regression) => regression.metric)).toEqual([
      'search.levels[concurrency=4,hnsw_ef=128].qps',
    ]);
    expect(comparison.skipped).toEqual([
      { metric: 'search.levels[concurrency=16,hnsw_ef=128]', reason: 'not in the baseline' },
      { metric: 'search.levels[concurrency=1,hnsw_ef=128]', reason: 'not in this run' },
    ]);
    expect(comparison.compared).toBe(25);
  });

  it('skips sections present on one side only and upserts of another workload', () => {
    const current = sample();
    delete current.embed;
    current.upsert!.count = 1000;
    current.upsert!.upload_vps = 1;
    const comparison = compareWithBaseline(current, sample());
    expect(comparison.regressions).toEqual([]);
    expect(comparison.skipped).toEqual([
      { metric: 'upsert', reason: 'different workload (count 100000 -> 1000)' },
      { metric: 'embed', reason: 'not in this run' },
    ]);
  });

  it('skips a search level whose k differs and a metric whose baseline is 0', () => {
    const current = sample();
    current.search!.levels[0]!.k = 100;
    const baseline = sample();
    baseline.upsert!.index_seconds = 0;
    const comparison = compareWithBaseline(current, baseline);
    expect(comparison.skipped).toEqual([
      { metric: 'upsert.index_seconds', reason: 'baseline is 0' },
      { metric: 'search.levels[concurrency=1,hnsw_ef=128]', reason: 'different k (10 -> 100)' },
    ]);
  });

  it('rejects a negative allowance', () => {
    expect(() => compareWithBaseline(sample(), sample(), -0.1)).toThrow(UsageError);
  });
});

describe('baseline files', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'taboot-bench-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('round-trips a result through writeBaseline and readBaseline', async () => {
    const path = join(directory, 'nested', 'bench.json');
    await writeBaseline(path, sample());
    expect(await readBaseline(path)).toEqual(sample());
    expect((await readFile(path, 'utf8')).endsWith('}\n')).toBe(true);
  });

  it('reads the --json output, ignoring the upsert summary lifted to the top level', async () => {
    const output = benchJson(sample());
    expect(output.upload_vps).toBe(20_000);
    const path = join(directory, 'bench.json');
    await writeFile(path, JSON.stringify(output));
    expect(await readBaseline(path)).toEqual(sample());
  });

  it('names the path when the file is missing', async () => {
    const path = join(directory, 'missing.json');
    await expect(readBaseline(path)).rejects.toThrow(`baseline ${path} does not exist`);
    await expect(readBaseline(path)).rejects.toMatchObject({ exitCode: ExitCode.Usage });
  });

  it('names the path when the file is not JSON', async () => {
    const path = join(directory, 'broken.json');
    await writeFile(path, '{"version": 1,');
    await expect(readBaseline(path)).rejects.toThrow(new RegExp(`baseline ${path} is not valid JSON`));
  });

  it('names the path and each field that does not fit', async () => {
    const path = join(directory, 'wrong.json');
    const wrong = sample() as unknown as { upsert: { upload_vps: unknown }; machine: { cpus: unknown } };
    wrong.upsert.upload_vps = 'fast';
    wrong.machine.cpus = -1;
    await writeFile(path, JSON.stringify(wrong));
    const error = await readBaseline(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TabootError);
    const message = (error as TabootError).message;
    expect(message).toContain(`baseline ${path} is not a taboot bench result`);
    expect(message).toContain('upsert.upload_vps:');
    expect(message).toContain('machine.cpus:');
  });

  it('says which format version it expected', () => {
    expect(() => parseBenchResult({ ...sample(), version: 2 }, 'bench.json')).toThrow(
      /version: expected 1, got 2/,
    );
  });
});

describe('benchJson', () => {
  it('lifts the upsert summary to the top level and keeps the sections', () => {
    const output = benchJson(sample());
    expect(output).toMatchObject({
      upload_vps: 20_000,
      p50_ms: 80,
      p95_ms: 150,
      p99_ms: 200,
      index_seconds: 30,
    });
    expect(output.upsert?.timeline).toHaveLength(2);
    expect('timeline' in output).toBe(false);
  });

  it('adds nothing without an upsert section', () => {
    const result = sample();
    delete result.upsert;
    expect(Object.keys(benchJson(result))).toEqual(Object.keys(result));
  });
});
