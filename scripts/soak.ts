/**
 * `npm run soak`: memory stays bounded by batch sizes, not corpus size. Generates a JSONL file of
 * about `--gb` GB (default 1) with precomputed base64 vectors, ingests it with the built CLI into a
 * discard gRPC sink (another process), and prints the summary's peak RSS and vec/s. Exits 1 when the
 * peak RSS passes `--max-rss-mb` (default 400). Then runs scripts/chunker-memory.ts, which fails when
 * chunking one huge Markdown document passes 400 MiB.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { IngestSummary } from '../src/pipeline/summary.js';
import { runCli } from '../test/support/run-cli.js';
import { startTeiServer } from '../test/support/tei-server/index.js';
import { seededRandom } from './perf/measure.js';

const { values } = parseArgs({
  options: {
    gb: { type: 'string', default: '1' },
    dim: { type: 'string', default: '1024' },
    'max-rss-mb': { type: 'string', default: '400' },
  },
});
const dim = Number(values.dim);
const targetBytes = Number(values.gb) * 1e9;
const maxRssMb = Number(values['max-rss-mb']);

async function generate(path: string): Promise<{ lines: number; bytes: number }> {
  const random = seededRandom(11);
  const out = createWriteStream(path);
  const vector = new Float32Array(dim);
  const filler =
    'Prometheus scrapes metrics from instrumented jobs over HTTP and stores them as time series. ';
  let bytes = 0;
  let lines = 0;
  while (bytes < targetBytes) {
    for (let d = 0; d < dim; d += 1) vector[d] = random() - 0.5;
    // Every 100th line is long (64 KB of text), so batches mix small and large payloads.
    const text = filler.repeat(lines % 100 === 0 ? 700 : 3);
    const line = `${JSON.stringify({ id: `soak-${lines}`, text, vector: Buffer.from(vector.buffer).toString('base64') })}\n`;
    bytes += line.length;
    lines += 1;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { lines, bytes };
}

const dir = mkdtempSync(join(tmpdir(), 'taboot-soak-'));
const sinkPath = fileURLToPath(new URL('../test/support/grpc-sink.ts', import.meta.url));
const sink = spawn(process.execPath, ['--import', 'tsx', sinkPath, '--port', '0', '--dim', String(dim)], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const tei = await startTeiServer({ dimensions: dim });
try {
  const [line] = (await once(sink.stdout, 'data')) as [Buffer];
  const port = /listening (\d+)/.exec(line.toString())?.[1];
  if (!port) throw new Error(`the sink did not start: ${line.toString()}`);
  const file = join(dir, 'soak.jsonl');
  const started = performance.now();
  const generated = await generate(file);
  console.log(
    `generated ${generated.lines.toLocaleString('en-US')} lines, ${(generated.bytes / 1e9).toFixed(2)} GB ` +
      `in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  const result = await runCli(['ingest', file, '--json', '--progress', 'none'], {
    env: {
      TABOOT_QDRANT_URL: `http://127.0.0.1:${port}`,
      TABOOT_TEI_URL: tei.url,
      TABOOT_COLLECTION: 'soak',
    },
    timeoutMs: 3_600_000,
  });
  if (result.code !== 0) throw new Error(`taboot ingest exited ${result.code}: ${result.stderr}`);
  const summary = JSON.parse(result.stdout) as IngestSummary;
  console.log(
    `ingested ${summary.vectors.toLocaleString('en-US')} vectors in ${summary.wall_seconds.toFixed(0)} s ` +
      `(${summary.mean_vps.toLocaleString('en-US')} vec/s), peak RSS ${summary.peak_rss_mb} MiB (limit ${maxRssMb})`,
  );
  console.log(
    JSON.stringify({
      gb: generated.bytes / 1e9,
      vectors: summary.vectors,
      vps: summary.mean_vps,
      peak_rss_mb: summary.peak_rss_mb,
    }),
  );
  if (summary.vectors !== generated.lines)
    throw new Error(`expected ${generated.lines} vectors, got ${summary.vectors}`);
  if (summary.peak_rss_mb > maxRssMb) process.exitCode = 1;
  execFileSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./chunker-memory.ts', import.meta.url))],
    { stdio: 'inherit' },
  );
} finally {
  sink.kill('SIGTERM');
  await tei.close();
  rmSync(dir, { recursive: true, force: true });
}
