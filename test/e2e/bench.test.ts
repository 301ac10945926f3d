import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QdrantClient } from '@qdrant/js-client-grpc';
import { Command, Option } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BenchJson } from '../../src/bench/result.js';
import { registerBenchCommand } from '../../src/commands/bench.js';
import { isTabootError } from '../../src/errors.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';
import { startTeiServer } from '../support/tei-server/index.js';

const corpus = new URL('../../fixtures/prometheus-docs/docs/', import.meta.url).pathname;
let stack: TestStack;
let dir: string;
let configPath: string;

beforeAll(async () => {
  stack = await startStack();
  dir = mkdtempSync(join(tmpdir(), 'taboot-bench-'));
  configPath = join(dir, 'taboot.config.json');
  // Small vectors by default, so that `bench search` without --dim stays quick.
  writeFileSync(configPath, JSON.stringify({ collection: { vectorSize: 64 } }));
  for (const name of [
    'TABOOT_QDRANT_URL',
    'TABOOT_TEI_URL',
    'TABOOT_COLLECTION',
    'QDRANT_API_KEY',
    'TEI_API_KEY',
  ])
    vi.stubEnv(name, '');
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await stack?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The global flags of the real program, and `bench` registered on it. */
function program(): Command {
  const root = new Command('taboot')
    .exitOverride()
    .addOption(new Option('--config <path>'))
    .addOption(new Option('--json'))
    .addOption(new Option('-q, --quiet'))
    .addOption(new Option('--debug'))
    .addOption(new Option('--no-color'));
  registerBenchCommand(root);
  const all = (command: Command): Command[] => command.commands.flatMap((child) => [child, ...all(child)]);
  for (const command of all(root)) command.exitOverride();
  return root;
}

interface Run {
  stdout: string;
  stderr: string;
  error: unknown;
  exitCode: number;
}

async function bench(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  let error: unknown;
  try {
    await program().parseAsync(
      [
        '--config',
        configPath,
        '--no-color',
        'bench',
        ...args,
        ...(args[0] === 'embed' ? [] : ['--qdrant-url', stack.qdrantUrl]),
        ...(args[0] === 'upsert' || args[0] === 'search' || args.includes('--tei-url')
          ? []
          : ['--tei-url', stack.teiUrl]),
      ],
      { from: 'user' },
    );
  } catch (caught) {
    error = caught;
  } finally {
    vi.restoreAllMocks();
  }
  const exitCode = error === undefined ? 0 : isTabootError(error) ? error.exitCode : -1;
  return { stdout, stderr, error, exitCode };
}

function json(run: Run): BenchJson {
  expect(run.error, run.stderr).toBeUndefined();
  return JSON.parse(run.stdout);
}

const qdrant = () =>
  new QdrantClient({ url: stack.qdrantUrl, checkCompatibility: false, compression: false });

async function benchCollections(): Promise<string[]> {
  const list = await qdrant().api('collections').list({});
  return list.collections.map((c) => c.name).filter((name) => name.startsWith('taboot_bench_'));
}

describe('taboot bench upsert (test servers)', () => {
  it('uploads 20000 vectors of 256 dimensions and reports vec/s, latency percentiles and index time as JSON', async () => {
    const run = await bench(['upsert', '--count', '20000', '--dim', '256', '--json']);
    const result = json(run);
    // The upsert summary sits at the top level too, for `jq .upload_vps`.
    const top = result as unknown as Record<string, unknown>;
    for (const key of ['upload_vps', 'p50_ms', 'p95_ms', 'p99_ms', 'index_seconds']) {
      expect(typeof top[key], key).toBe('number');
      expect(top[key] as number, key).toBeGreaterThanOrEqual(0);
    }
    expect(result.upload_vps as number).toBeGreaterThan(0);
    expect(result.p50_ms as number).toBeLessThanOrEqual(result.p99_ms as number);
    expect(result.upsert).toMatchObject({ count: 20000, dim: 256, batch_size: 500, parallel: 4 });
    expect(result.upsert!.client_cpu_share).toBeGreaterThan(0);
    expect(run.stderr).toContain('upload');
    expect(await benchCollections()).toEqual([]);
  });

  it('keeps a named collection with --keep, every point in it with its bucket', async () => {
    const name = uniqueName('bench_keep');
    const run = await bench(['upsert', '--count', '1000', '--dim', '32', '--collection', name, '--keep']);
    expect(run.error, run.stderr).toBeUndefined();
    expect(run.stdout).toContain('Upsert');
    expect(run.stdout).toContain('vec/s');
    expect(run.stderr).toContain(`kept collection ${name}`);
    const info = (await qdrant().api('collections').get({ collectionName: name })).result!;
    expect(info.pointsCount).toBe(1000n);
    const point = (
      await qdrant()
        .api('points')
        .get({
          collectionName: name,
          // Point i has the UUID whose value is i, as ingest's points have UUIDs.
          ids: [{ pointIdOptions: { case: 'uuid', value: '00000000-0000-0000-0000-00000000007b' } }],
          // Qdrant's gRPC Get returns no payload unless asked (REST's default is the other way).
          withPayload: { selectorOptions: { case: 'enable', value: true } },
        })
    ).result[0]!;
    expect(point.payload.bucket?.kind).toEqual({ case: 'integerValue', value: 23n });
  });

  it('refuses to write into a collection that exists', async () => {
    const name = uniqueName('bench_taken');
    await qdrant()
      .api('collections')
      .create({
        collectionName: name,
        vectorsConfig: { config: { case: 'params', value: { size: 8n, distance: 1 } } },
      });
    const run = await bench(['upsert', '--count', '10', '--dim', '8', '--collection', name]);
    expect(run.exitCode).toBe(1);
    expect(String(run.error)).toContain(`collection ${name} already exists`);
    expect((await qdrant().api('collections').get({ collectionName: name })).result!.pointsCount).toBe(0n);
  });
});

describe('taboot bench search (test servers)', () => {
  it('reports QPS and recall 1.0 per level against exact scoring', async () => {
    const run = await bench([
      'search',
      '--count',
      '2000',
      '--queries',
      '25',
      '--concurrency',
      '1,4',
      '--hnsw-ef',
      '32,64',
      '--k',
      '5',
      '--json',
    ]);
    const search = json(run).search!;
    expect(search.queries).toBe(25);
    expect(search.levels.map((level) => [level.concurrency, level.hnsw_ef, level.k])).toEqual([
      [1, 32, 5],
      [4, 32, 5],
      [1, 64, 5],
      [4, 64, 5],
    ]);
    for (const level of search.levels) {
      expect(level.qps).toBeGreaterThan(0);
      expect(level.p50_ms).toBeGreaterThan(0);
      expect(level.recall).toBeGreaterThanOrEqual(0);
      expect(level.recall).toBeLessThanOrEqual(1);
      if (!stack.real.qdrant) expect(level.recall).toBe(1);
    }
    expect(await benchCollections()).toEqual([]);
  });

  it('queries an existing collection with its stored vectors and a filter', async () => {
    const name = uniqueName('bench_existing');
    expect(
      (await bench(['upsert', '--count', '600', '--dim', '16', '--collection', name, '--keep'])).error,
    ).toBeUndefined();
    const run = await bench([
      'search',
      '--collection',
      name,
      '--queries',
      '20',
      '--concurrency',
      '2',
      '--hnsw-ef',
      '16',
      '--filter',
      'bucket<50',
      '--json',
    ]);
    const search = json(run).search!;
    expect(search.collection).toBe(name);
    expect(search.queries).toBe(20);
    expect(search.levels).toHaveLength(1);
    if (!stack.real.qdrant) expect(search.levels[0]!.recall).toBe(1);
    // An existing collection is never dropped.
    expect((await qdrant().api('collections').get({ collectionName: name })).result!.pointsCount).toBe(600n);
  });
});

describe('taboot bench embed and ingest (test servers)', () => {
  it('measures docs/s and tokens/s per concurrency level with generated texts', async () => {
    const run = await bench(['embed', '--docs', '80', '--concurrency', '1,3', '--batch-size', '8', '--json']);
    const embed = json(run).embed!;
    expect(typeof embed.model).toBe('string');
    expect(json(run).embed).toMatchObject({ batch_size: 8 });
    expect(embed.levels.map((level) => level.concurrency)).toEqual([1, 3]);
    for (const level of embed.levels) {
      expect(level.docs_per_second).toBeGreaterThan(0);
      expect(level.tokens_per_second).toBeGreaterThan(level.docs_per_second);
      expect(level.p95_ms).toBeGreaterThanOrEqual(level.p50_ms);
    }
  });

  it('embeds chunks of a corpus folder', async () => {
    const run = await bench([
      'embed',
      '--corpus',
      join(corpus, 'concepts'),
      '--docs',
      '30',
      '--concurrency',
      '2',
      '--json',
    ]);
    const result = json(run);
    expect(result.settings).toMatchObject({ embed_texts: join(corpus, 'concepts'), embed_docs: 30 });
    expect(result.embed!.levels).toHaveLength(1);
  });

  it('ingests a folder into a throwaway collection and names the bottleneck', async () => {
    const run = await bench(['ingest', join(corpus, 'concepts'), '--json']);
    const ingest = json(run).ingest!;
    expect(ingest.documents).toBeGreaterThan(0);
    expect(ingest.chunks as number).toBeGreaterThanOrEqual(ingest.documents as number);
    expect(ingest.vps).toBeGreaterThan(0);
    const shares = Object.values(ingest.stages).map((stage) => stage.bottleneck_share);
    expect(Object.keys(ingest.stages)).toEqual(['read', 'chunk', 'embed', 'upsert']);
    expect(shares.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 2);
    expect(await benchCollections()).toEqual([]);
  });

  it("reports the ingest summary's TEI times and the busy share of a TEI that exports te_backend_busy_seconds", async () => {
    if (stack.real.tei) return;
    // One batch at a time at 200k tokens/s: the backend is busy for a measurable part of the run.
    const tei = await startTeiServer({ serviceRate: 200_000 });
    try {
      const run = await bench(['ingest', join(corpus, 'concepts'), '--tei-url', tei.url, '--json']);
      const ingest = json(run).ingest!;
      expect(ingest.tei_busy_share).toBeGreaterThan(0);
      expect(ingest.tei_busy_share).toBeLessThanOrEqual(1);
      expect(ingest.tei_queue_seconds).toBeGreaterThanOrEqual(0);
      expect(ingest.tei_inference_seconds).toBeGreaterThan(0);
      const table = await bench(['ingest', join(corpus, 'concepts'), '--tei-url', tei.url]);
      expect(table.stdout).toContain('TEI busy share');
      expect(table.stdout).toContain('real TEI has none');
    } finally {
      await tei.close();
    }
  });
});

describe('taboot bench reports and the baseline gate', () => {
  it('exits 1 naming upload_vps when the baseline had ten times the throughput', async () => {
    const workload = ['upsert', '--count', '3000', '--dim', '32', '--json'];
    // Two runs, the faster one times ten: neither a warm-up hiccup in one nor the load of a shared
    // machine falling away (a run twice as fast as the one before happens then) makes the gate pass.
    const saved = [];
    for (const name of ['baseline-a.json', 'baseline-b.json']) {
      const run = await bench([...workload, '--save-baseline', join(dir, name)]);
      expect(run.error, run.stderr).toBeUndefined();
      saved.push(JSON.parse(readFileSync(join(dir, name), 'utf8')));
    }
    const best = saved.reduce((a, b) => (a.upsert.upload_vps >= b.upsert.upload_vps ? a : b));
    expect(best.upsert.count).toBe(3000);
    best.upsert.upload_vps *= 10;
    const file = join(dir, 'baseline.json');
    writeFileSync(file, JSON.stringify(best));

    const gated = await bench([...workload, '--baseline', file]);
    expect(gated.exitCode).toBe(1);
    expect(gated.stderr).toMatch(/regressed: upsert\.upload_vps fell \d+(\.\d)?%/);
    expect(String((gated.error as Error).message)).toContain('regressed by more than 10%');
    // The result is still printed for the job log.
    expect(JSON.parse(gated.stdout).upsert.count).toBe(3000);
  });

  it('passes the gate against its own result with a generous --max-regression', async () => {
    const file = join(dir, 'self.json');
    const first = await bench([
      'search',
      '--count',
      '300',
      '--dim',
      '8',
      '--queries',
      '10',
      '--concurrency',
      '1',
      '--hnsw-ef',
      '16',
      '--json',
      '--save-baseline',
      file,
    ]);
    expect(first.error, first.stderr).toBeUndefined();
    const second = await bench([
      'search',
      '--count',
      '300',
      '--dim',
      '8',
      '--queries',
      '10',
      '--concurrency',
      '1',
      '--hnsw-ef',
      '16',
      '--baseline',
      file,
      '--max-regression',
      '1000',
    ]);
    expect(second.error, second.stderr).toBeUndefined();
    expect(second.stderr).toMatch(/baseline: no regression in \d+ metrics/);
  });

  it('fails with exit 2 on a missing baseline before creating anything', async () => {
    const before = await benchCollections();
    const run = await bench([
      'upsert',
      '--count',
      '10',
      '--dim',
      '8',
      '--baseline',
      join(dir, 'missing.json'),
    ]);
    expect(run.exitCode).toBe(2);
    expect(String(run.error)).toContain('does not exist');
    expect(await benchCollections()).toEqual(before);
  });

  it('runs upsert, search and embed with bench all, printing Markdown and writing an HTML report', async () => {
    const report = join(dir, 'out', 'bench.html');
    const run = await bench([
      'all',
      '--count',
      '800',
      '--dim',
      '16',
      '--queries',
      '10',
      '--concurrency',
      '2',
      '--hnsw-ef',
      '16',
      '--docs',
      '20',
      '--embed-concurrency',
      '2',
      '--markdown',
      '--report',
      report,
    ]);
    expect(run.error, run.stderr).toBeUndefined();
    expect(run.stdout).toContain('## taboot bench');
    for (const heading of ['### Upsert', '### Search', '### Embed']) expect(run.stdout).toContain(heading);
    expect(existsSync(report)).toBe(true);
    expect(readFileSync(report, 'utf8')).toContain('<!doctype html>');
    expect(await benchCollections()).toEqual([]);
  });

  it('refuses --json together with --markdown', async () => {
    const run = await bench(['upsert', '--json', '--markdown']);
    expect(run.exitCode).toBe(2);
  });
});
