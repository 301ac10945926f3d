/**
 * `npm run perf`: where taboot's time goes, in one run on this machine, reported as ratios.
 *
 *   (a) upsert 200k 1024-dim vectors into a discard gRPC sink (another process), batch 500,
 *       4 in flight: js-client-grpc vs taboot's fast path (hand encoder + pre-encoded HTTP/2 frames)
 *   (b) decode a TEI batch: JSON.parse of /embed floats vs base64 float32 from /v1/embeddings
 *   (c) `taboot ingest` (the built CLI) of a generated JSONL with precomputed base64 vectors into the sink,
 *       at 0 (main thread), 1, 2, 4 and 8 reader threads; CPU per 10k points; the Qdrant test
 *       server's calls per method per 10k points (scripts/perf/bench-precomputed.ts)
 *   (d) `taboot ingest` of generated text through the TEI test server into the sink
 *   (e) the chunker on the bundled docs, one thread: chunks/s and MB/s
 *   (f) sync: the bundled docs (4 copies) ingested twice through the test servers, TEI at 40k tokens/s;
 *       the second run, unchanged, as a share of the first, and the requests it made
 *   (g) the embedder's busy share at 40k and 400k tokens/s (scripts/perf/bench-embed-busy.ts)
 *
 * Prints a table, then one JSON line: stock_vps, fast_vps, ratio, ingest_vps, decode_ratio, peak_rss_mb,
 * embed_busy_40k, embed_busy_400k (and the fields around them).
 * Flags: --count <n> for (a), --ingest-count <n> for (c), --tei-count <n> for (d).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { VectorSource } from '../src/bench/vectors.js';
import type { IngestSummary } from '../src/pipeline/summary.js';
import { runCli } from '../test/support/run-cli.js';
import { startTeiServer } from '../test/support/tei-server/index.js';
import { benchChunker } from './perf/bench-chunker.js';
import { benchDecode } from './perf/bench-decode.js';
import { perfEmbedBusy } from './perf/bench-embed-busy.js';
import { benchPrecomputed } from './perf/bench-precomputed.js';
import { benchSync } from './perf/bench-sync.js';
import { benchUpsert } from './perf/bench-upsert.js';
import { chunkWords } from './perf/fixtures.js';
import { seededRandom } from './perf/measure.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '200000' },
    'ingest-count': { type: 'string', default: '100000' },
    'tei-count': { type: 'string', default: '20000' },
  },
});
const dim = 1024;
const count = Number(values.count);
const ingestCount = Number(values['ingest-count']);
const teiCount = Number(values['tei-count']);

const rate = (n: number) => `${Math.round(n).toLocaleString('en-US')} vec/s`;

async function startSink(): Promise<{ url: string; child: ChildProcess }> {
  const sinkPath = fileURLToPath(new URL('../test/support/grpc-sink.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', sinkPath, '--port', '0', '--dim', String(dim)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = /listening (\d+)/.exec(line.toString())?.[1];
  if (!port) throw new Error(`the sink did not start: ${line.toString()}`);
  return { url: `http://127.0.0.1:${port}`, child };
}

/** JSONL lines shaped like an embedding cache: id, a chunk of text, a base64 float32 vector. */
async function writeJsonl(path: string, lines: number, withVectors: boolean): Promise<number> {
  const random = seededRandom(7);
  const out = createWriteStream(path);
  const vectors = new VectorSource(dim, { seed: 7 });
  const vector = new Float32Array(dim);
  let bytes = 0;
  for (let i = 0; i < lines; i += 1) {
    const text = Array.from({ length: 60 }, () => chunkWords[Math.floor(random() * chunkWords.length)]).join(
      ' ',
    );
    const record: Record<string, unknown> = {
      id: `doc-${i}`,
      text,
      service_name: chunkWords[i % chunkWords.length],
    };
    if (withVectors) {
      vectors.fill(vector);
      record.vector = Buffer.from(vector.buffer).toString('base64');
    }
    const line = `${JSON.stringify(record)}\n`;
    bytes += line.length;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}

async function ingest(file: string, env: Record<string, string>): Promise<IngestSummary> {
  const result = await runCli(['ingest', file, '--json', '--progress', 'none'], { env, timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`taboot ingest exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as IngestSummary;
}

const sink = await startSink();
const tei = await startTeiServer({ dimensions: dim });
const dir = mkdtempSync(join(tmpdir(), 'taboot-perf-'));
try {
  console.log(
    `(a) upsert ${count.toLocaleString('en-US')} x ${dim} dims into a discard sink, batch 500, 4 in flight`,
  );
  const upsert = await benchUpsert({ url: sink.url, count, batch: 500, parallel: 4, dim });
  console.log(`    js-client-grpc   ${rate(upsert.stock)}`);
  console.log(`    fast path        ${rate(upsert.fast)}   ${upsert.ratio.toFixed(1)}x`);
  console.log(await (await import('./perf/bench-path.js')).benchPathLine({ ...upsert, url: sink.url }));

  console.log('(b) decode TEI batches of 32 x 1024');
  const decode = await benchDecode();
  console.log(`    JSON.parse       ${rate(decode.jsonParse)}`);
  console.log(`    float scanner    ${rate(decode.floatScanner)}   ${decode.scannerRatio.toFixed(1)}x`);
  console.log(`    base64           ${rate(decode.base64)}   ${decode.base64Ratio.toFixed(1)}x`);

  const env = { TABOOT_QDRANT_URL: sink.url, TABOOT_TEI_URL: tei.url, TABOOT_COLLECTION: 'perf' };
  console.log(
    `(c) taboot ingest of ${ingestCount.toLocaleString('en-US')} precomputed vectors (base64 JSONL) into the sink, by --read-workers`,
  );
  const precomputed = await benchPrecomputed({
    sinkUrl: sink.url,
    count: ingestCount,
    dim,
    workers: [0, 1, 2, 4, 8],
  });
  for (const run of precomputed.runs) {
    console.log(
      `    ${String(run.workers).padStart(2)} workers  ${rate(run.vps)}  ${((100 * run.vps) / upsert.fast).toFixed(0)}% of (a)'s fast path, ` +
        `${run.cpu_s_per_10k.toFixed(2)} CPU s per 10k points, ${run.peak_rss_mb} MiB peak RSS`,
    );
  }
  console.log(
    `    Qdrant test server, per 10k points: ${JSON.stringify(precomputed.calls_per_10k)}, ${precomputed.scanned_per_10k} scanned`,
  );
  const defaultRun = precomputed.runs.find((run) => run.workers === 1) ?? precomputed.runs[0]!;

  const textFile = join(dir, 'text.jsonl');
  await writeJsonl(textFile, teiCount, false);
  console.log(
    `(d) taboot ingest of ${teiCount.toLocaleString('en-US')} texts through the TEI test server into the sink`,
  );
  const throughTei = await ingest(textFile, env);
  console.log(
    `    ${rate(throughTei.mean_vps)} mean (TEI: ${throughTei.stage_seconds.embed.toFixed(1)} s busy over ` +
      `${throughTei.wall_seconds.toFixed(1)} s; the test TEI, not taboot, bounds this)`,
  );

  const chunker = await benchChunker();
  console.log(`(e) chunker on the bundled docs, one thread: ${JSON.stringify(chunker)}`);
  console.log(
    '(f) sync: the bundled docs x4 ingested twice, the second time unchanged (test TEI at 40k tokens/s)',
  );
  const sync = await benchSync({ serviceRate: 40_000, copies: 4 });
  console.log(
    `    first ${sync.first_seconds} s, second ${sync.second_seconds} s (${(100 * sync.second_run_ratio).toFixed(1)}%), ` +
      `second run: ${sync.second_embed_requests} embed requests, ${sync.second_upserts} upserts`,
  );
  console.log('(g) how busy ingest keeps a GPU-like TEI (one batch at a time), copies of the bundled docs');
  const embedBusy = await perfEmbedBusy((line) => console.log(line));
  console.log(
    JSON.stringify({
      stock_vps: Math.round(upsert.stock),
      fast_vps: Math.round(upsert.fast),
      ratio: Number(upsert.ratio.toFixed(2)),
      ingest_vps: defaultRun.vps,
      ingest_share_of_fast: Number((defaultRun.vps / upsert.fast).toFixed(2)),
      precomputed: precomputed.runs.map((run) => ({
        ...run,
        share_of_fast: Number((run.vps / upsert.fast).toFixed(2)),
      })),
      precomputed_calls_per_10k: precomputed.calls_per_10k,
      ingest_tei_vps: throughTei.mean_vps,
      decode_ratio: Number(decode.base64Ratio.toFixed(1)),
      peak_rss_mb: defaultRun.peak_rss_mb,
      chunker_chunks_per_s: Math.round(chunker.chunksPerSecond),
      chunker_mb_per_s: Number(chunker.megabytesPerSecond.toFixed(1)),
      sync_first_s: sync.first_seconds,
      sync_second_s: sync.second_seconds,
      sync_second_run_ratio: sync.second_run_ratio,
      sync_second_embed_requests: sync.second_embed_requests,
      sync_second_upserts: sync.second_upserts,
      ...embedBusy,
    }),
  );
} finally {
  sink.child.kill('SIGTERM');
  await tei.close();
  rmSync(dir, { recursive: true, force: true });
}
