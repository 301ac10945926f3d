/**
 * Precomputed vectors (JSONL with base64 `vector`) through the built `taboot ingest`: vec/s into
 * the discard sink at each reader-thread count, the client's CPU seconds per 10,000 points, and
 * the calls per method that the Qdrant test server counts per 10,000 points.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VectorSource } from '../../src/bench/vectors.js';
import type { IngestSummary } from '../../src/pipeline/summary.js';
import { startQdrantServer } from '../../test/support/qdrant-server/index.js';
import { binPath } from '../../test/support/run-cli.js';
import { chunkWords } from './fixtures.js';
import { seededRandom } from './measure.js';

export interface PrecomputedRun {
  /** `--read-workers`; 0 parses on the main thread. */
  workers: number;
  vps: number;
  /** User + system CPU of the whole client process (all its threads) per 10,000 points. */
  cpu_s_per_10k: number;
  peak_rss_mb: number;
}

export interface PrecomputedResult {
  count: number;
  runs: PrecomputedRun[];
  /** Calls per method per 10,000 points of a fresh ingest into the Qdrant test server. */
  calls_per_10k: Record<string, number>;
  /** Points the test server scanned per 10,000 points written. */
  scanned_per_10k: number;
}

/** Writes `count` lines shaped like an embedding cache: id, a chunk of text, a field, a base64 float32 vector. */
export async function writeVectorJsonl(path: string, count: number, dim: number): Promise<void> {
  const random = seededRandom(7);
  const vectors = new VectorSource(dim, { seed: 7 });
  const vector = new Float32Array(dim);
  const out = createWriteStream(path);
  for (let i = 0; i < count; i += 1) {
    const text = Array.from({ length: 60 }, () => chunkWords[Math.floor(random() * chunkWords.length)]).join(
      ' ',
    );
    vectors.fill(vector);
    const line = JSON.stringify({
      id: `doc-${i}`,
      text,
      service_name: chunkWords[i % chunkWords.length],
      vector: Buffer.from(vector.buffer).toString('base64'),
    });
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/**
 * Loaded into the measured process: at exit, its CPU time (every thread's) and peak RSS go to the
 * file named by TABOOT_PERF_USAGE.
 */
const usageProbe = `
import { isMainThread } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
if (isMainThread && process.env.TABOOT_PERF_USAGE) {
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    writeFileSync(process.env.TABOOT_PERF_USAGE, JSON.stringify({ cpu_s: (cpu.user + cpu.system) / 1e6, rss_kb: process.resourceUsage().maxRSS }));
  });
}`;

/** `taboot ingest` of `file` with the usage probe; its summary and CPU seconds. */
export async function measuredIngest(
  file: string,
  env: Record<string, string>,
  flags: readonly string[],
): Promise<{ summary: IngestSummary; cpuSeconds: number; peakRssMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'taboot-usage-'));
  const usageFile = join(dir, 'usage.json');
  try {
    const child = spawn(
      process.execPath,
      [
        '--import',
        `data:text/javascript,${encodeURIComponent(usageProbe)}`,
        binPath,
        'ingest',
        file,
        '--json',
        '--progress',
        'none',
        ...flags,
      ],
      {
        env: { ...process.env, NO_COLOR: '1', ...env, TABOOT_PERF_USAGE: usageFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = (await once(child, 'close')) as [number | null];
    if (code !== 0) throw new Error(`taboot ingest exited ${code}: ${stderr}`);
    const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as { cpu_s: number; rss_kb: number };
    return {
      summary: JSON.parse(stdout) as IngestSummary,
      cpuSeconds: usage.cpu_s,
      peakRssMb: Math.round(usage.rss_kb / 1024),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchPrecomputed(options: {
  sinkUrl: string;
  count: number;
  dim: number;
  workers: readonly number[];
  /** Points for the request counts against the Qdrant test server (it keeps them in memory). */
  serverCount?: number;
}): Promise<PrecomputedResult> {
  const dir = mkdtempSync(join(tmpdir(), 'taboot-precomputed-'));
  try {
    const file = join(dir, 'vectors.jsonl');
    await writeVectorJsonl(file, options.count, options.dim);
    const env = { TABOOT_QDRANT_URL: options.sinkUrl, TABOOT_COLLECTION: 'perf' };
    const runs: PrecomputedRun[] = [];
    for (const workers of options.workers) {
      const run = await measuredIngest(file, env, ['--read-workers', String(workers)]);
      runs.push({
        workers,
        vps: run.summary.mean_vps,
        cpu_s_per_10k: Number(((run.cpuSeconds * 10_000) / run.summary.vectors).toFixed(3)),
        peak_rss_mb: run.peakRssMb,
      });
    }

    const serverCount = options.serverCount ?? 20_000;
    const serverFile = join(dir, 'server.jsonl');
    await writeVectorJsonl(serverFile, serverCount, options.dim);
    const qdrant = await startQdrantServer();
    try {
      const create = await measuredCreate(qdrant.url, options.dim);
      if (create !== 0) throw new Error(`taboot collection create exited ${create}`);
      qdrant.counters.reset();
      const run = await measuredIngest(
        serverFile,
        { TABOOT_QDRANT_URL: qdrant.url, TABOOT_COLLECTION: 'perf' },
        [],
      );
      const per10k = (n: number) => Number(((n * 10_000) / run.summary.vectors).toFixed(2));
      return {
        count: options.count,
        runs,
        calls_per_10k: Object.fromEntries([...qdrant.calls].sort().map(([method, n]) => [method, per10k(n)])),
        scanned_per_10k: per10k(qdrant.counters.totals().scanned),
      };
    } finally {
      await qdrant.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measuredCreate(url: string, dim: number): Promise<number | null> {
  const child = spawn(process.execPath, [binPath, 'collection', 'create', '--vector-size', String(dim)], {
    env: { ...process.env, NO_COLOR: '1', TABOOT_QDRANT_URL: url, TABOOT_COLLECTION: 'perf' },
    stdio: 'ignore',
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return code;
}
