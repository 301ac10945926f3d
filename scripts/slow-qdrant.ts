/**
 * `taboot ingest` against a slow Qdrant: the in-process test Qdrant and TEI, a latency drawn for
 * every upsert, and the built CLI on generated input. Prints elapsed / documents read / vectors
 * upserted / upserts in flight on the server every `--sample-s`, then how busy the client kept
 * the server (time-weighted mean in flight, longest idle stretch while input remained) against
 * `parallel x batch / mean latency`.
 *
 *   npm run build && npx tsx scripts/slow-qdrant.ts --count 20000 --min-ms 200 --max-ms 1000
 *
 * Flags: --count <n> JSONL lines with precomputed 1024-dim vectors (or --markdown <n> files of
 * --sections <n> one-chunk sections each, through the test TEI), --min-ms/--max-ms (uniform upsert latency), --spike-every <n> --spike-ms <ms>,
 * --batch <n>, --parallel <n>, --timeout-ms <ms> (qdrant.timeoutMs), --shrink (every document
 * had two more chunks before: the surplus delete has work), --sigterm-after-s <s> (SIGTERM at the
 * first progress event past it), --limit-s <s> (SIGKILL), --sample-s <s>. With --qdrant-url <url>
 * it runs against that (real) Qdrant instead, as it is: no latency is injected and the server-side
 * columns stay empty; --collection <name> then names a fresh collection to create there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { QdrantClient } from '@qdrant/js-client-grpc';
import { pointId } from '../src/qdrant/point-id.js';
import { startQdrantServer } from '../test/support/qdrant-server/index.js';
import { runCli } from '../test/support/run-cli.js';
import {
  applyLatencyProfile,
  InFlightRecorder,
  meanLatencyMs,
  type ProgressEvent,
  startIngest,
  writeMarkdownCorpus,
  writeVectorJsonl,
} from '../test/support/slow-ingest.js';
import { startTeiServer } from '../test/support/tei-server/index.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '20000' },
    markdown: { type: 'string' },
    sections: { type: 'string', default: '3' },
    'min-ms': { type: 'string', default: '200' },
    'max-ms': { type: 'string', default: '1000' },
    'spike-every': { type: 'string' },
    'spike-ms': { type: 'string' },
    batch: { type: 'string', default: '500' },
    parallel: { type: 'string', default: '4' },
    'timeout-ms': { type: 'string' },
    shrink: { type: 'boolean', default: false },
    'sigterm-after-s': { type: 'string' },
    'limit-s': { type: 'string', default: '600' },
    'sample-s': { type: 'string', default: '5' },
    'qdrant-url': { type: 'string' },
    collection: { type: 'string', default: 'slow' },
  },
});
const num = (name: keyof typeof values) => (values[name] === undefined ? undefined : Number(values[name]));
const profile = {
  minMs: num('min-ms')!,
  maxMs: num('max-ms')!,
  spikeEvery: num('spike-every'),
  spikeMs: num('spike-ms'),
};
const batch = num('batch')!;
const parallel = num('parallel')!;
const markdown = num('markdown');

const real = values['qdrant-url'];
const qdrant = await startQdrantServer();
const tei = await startTeiServer();
const dir = mkdtempSync(join(tmpdir(), 'taboot-slow-'));
const collection = values.collection!;
const qdrantUrl = real ?? qdrant.url;
const env = { TABOOT_QDRANT_URL: qdrantUrl, TABOOT_TEI_URL: tei.url, TABOOT_COLLECTION: collection };
if (values['timeout-ms'])
  writeFileSync(
    join(dir, 'taboot.config.json'),
    JSON.stringify({ qdrant: { timeoutMs: num('timeout-ms') } }),
  );
try {
  const created = await runCli(['collection', 'create'], { env, cwd: dir });
  if (created.code !== 0) throw new Error(`collection create failed: ${created.stderr}`);
  let input: string;
  let docIds: string[];
  if (markdown !== undefined) {
    input = join(dir, 'pages');
    docIds = writeMarkdownCorpus(input, markdown, num('sections'));
  } else {
    input = join(dir, 'vectors.jsonl');
    docIds = await writeVectorJsonl(input, num('count')!);
  }
  if (values.shrink) await seedSurplus(docIds);

  const recorder = new InFlightRecorder(qdrant);
  const stopLatency = real ? () => {} : applyLatencyProfile(qdrant, profile);
  const started = performance.now();
  const sampleMs = num('sample-s')! * 1000;
  const rows: string[] = [];
  let nextSample = sampleMs;
  let lastSampleAt = started;
  const sample = (event: ProgressEvent) => {
    const now = performance.now();
    if (now - started < nextSample) return;
    nextSample += sampleMs;
    const window = recorder.events.filter((e) => e.at >= lastSampleAt);
    lastSampleAt = now;
    rows.push(
      `${event.elapsed_s.toFixed(0).padStart(7)} s ${String(event.documents).padStart(10)} ` +
        `${String(event.vectors_upserted).padStart(10)} ${String(recorder.inFlightAt(now)).padStart(9)} ` +
        `${String(window.filter((e) => e.phase === 'start').length).padStart(8)}`,
    );
    console.log(rows.at(-1));
  };
  console.log(
    (real ? `Qdrant at ${real}` : `upsert latency ${profile.minMs}`) +
      `${real ? '' : `-${profile.maxMs} ms`}` +
      (profile.spikeEvery ? `, every ${profile.spikeEvery}th ${profile.spikeMs} ms` : '') +
      `; batch ${batch}, parallel ${parallel}; ${docIds.length} ${markdown !== undefined ? 'Markdown files' : 'JSONL lines'}`,
  );
  console.log('elapsed    documents    upserted in flight  started');
  // Markdown: one chunk per section, so that --sections sets the chunks per document.
  const chunking = markdown === undefined ? [] : ['--chunk-tokens', '64', '--chunk-overlap', '0'];
  const run = startIngest(
    [input, '--batch-size', String(batch), '--parallel', String(parallel), ...chunking],
    {
      env,
      cwd: dir,
      onProgress: sample,
    },
  );
  const killer = setTimeout(() => run.child.kill('SIGKILL'), num('limit-s')! * 1000);
  let signalledAt: number | undefined;
  const sigtermAfter = num('sigterm-after-s');
  if (sigtermAfter !== undefined) {
    void run
      .waitForProgress((event) => event.elapsed_s >= sigtermAfter)
      .then(() => {
        signalledAt = performance.now();
        run.child.kill('SIGTERM');
      })
      .catch(() => {});
  }
  const result = await run.done;
  clearTimeout(killer);
  stopLatency();
  recorder.dispose();

  const wallS = (result.endedAt - started) / 1000;
  const report = recorder.report();
  const expectedVps = (parallel * batch * 1000) / meanLatencyMs(profile);
  const stored = real ? await countPoints() : (qdrant.collection(collection)?.points.length ?? 0);
  console.log(
    `exit ${result.code ?? result.signal} after ${wallS.toFixed(1)} s` +
      (signalledAt ? `, ${((result.endedAt - signalledAt) / 1000).toFixed(1)} s after SIGTERM` : '') +
      `; summary on stdout: ${result.summary ? 'yes' : 'no'}`,
  );
  if (result.summary) {
    const s = result.summary;
    console.log(
      `summary: documents ${s.documents}, vectors ${s.vectors}, retries ${s.retries}, failed ${s.failed}, ` +
        `interrupted ${s.interrupted}, mean ${s.mean_vps} vec/s`,
    );
  }
  console.log(
    `server: ${report.calls} upserts, mean in flight ${report.meanInFlight.toFixed(2)} of ${parallel} ` +
      `from ${(report.fromMs / 1000).toFixed(1)} s to ${(report.toMs / 1000).toFixed(1)} s, ` +
      `longest with none in flight ${(report.longestIdleMs / 1000).toFixed(2)} s (at ${(report.longestIdleAtMs / 1000).toFixed(1)} s), ` +
      `points stored ${stored}`,
  );
  console.log(
    `throughput: expected ${Math.round(expectedVps)} vec/s (parallel x batch / mean latency ${Math.round(meanLatencyMs(profile))} ms), ` +
      `measured ${Math.round((result.summary?.vectors ?? stored) / wallS)} vec/s over the run`,
  );
  if (result.code !== 0) {
    const messages = result.stderr
      .split('\n')
      .filter((line) => line && !line.startsWith('{"event":"progress"'));
    console.log(messages.slice(-15).join('\n'));
  }
} finally {
  await Promise.all([qdrant.close(), tei.close()]);
  rmSync(dir, { recursive: true, force: true });
}

/** Two extra chunks per document, as an earlier, longer version of it left them. */
function officialClient(): QdrantClient {
  return new QdrantClient({ url: qdrantUrl, checkCompatibility: false, compression: false });
}

async function countPoints(): Promise<number> {
  const response = await officialClient().api('points').count({ collectionName: collection, exact: true });
  return Number(response.result?.count ?? 0n);
}

async function seedSurplus(docIds: readonly string[]): Promise<void> {
  const client = officialClient();
  const vector = Array.from({ length: 1024 }, (_, i) => (i % 5) / 5);
  for (let start = 0; start < docIds.length; start += 500) {
    const points = docIds.slice(start, start + 500).flatMap((docId) =>
      [1, 2].map((chunkIndex) => ({
        id: { pointIdOptions: { case: 'uuid' as const, value: pointId(docId, chunkIndex) } },
        vectors: { vectorsOptions: { case: 'vector' as const, value: { data: vector } } },
        payload: {
          doc_id: { kind: { case: 'stringValue' as const, value: docId } },
          chunk_index: { kind: { case: 'integerValue' as const, value: BigInt(chunkIndex) } },
        },
      })),
    );
    await client.api('points').upsert({ collectionName: collection, wait: true, points } as never);
  }
}
