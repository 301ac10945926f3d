/**
 * How busy taboot keeps a GPU-like embedder: `taboot ingest` (the built CLI) of several copies of
 * the bundled Prometheus docs through the TEI test server in its service-rate mode (one batch at a
 * time, each taking tokens / rate seconds), into the discard gRPC sink. The busy share is the
 * backend's summed service time over
 *
 *   - `window`: the embedder's work window, from the first batch start to the last batch end (what
 *     the client's feeding costs once embedding is under way), and
 *   - `wall`: the run's wall time as taboot reports it (`wall_seconds`, discovery and the drain to
 *     Qdrant included).
 *
 * Run alone (after `npm run build`), it prints one JSON line:
 *
 *   npx tsx scripts/perf/bench-embed-busy.ts --rate 400000 [--padded] [--copies 8]
 *       [--concurrency 4|auto] [--profile]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { IngestSummary } from '../../src/pipeline/summary.js';
import { runCli } from '../../test/support/run-cli.js';
import { startTeiServer } from '../../test/support/tei-server/index.js';
import { type ProfileSummary, profileIn, summariseProfile } from './cpu-profile.js';

export interface EmbedBusyOptions {
  /** Tokens per second the test TEI's backend processes. */
  serviceRate: number;
  /** Batches cost rows x longest row (a backend without variable-length attention). */
  padded?: boolean;
  /** Copies of the bundled corpus under one root. Default 4. */
  copies?: number;
  /** `--embed-concurrency`; the configured default when absent. */
  concurrency?: string;
  /** Record taboot's CPU profile and summarise its top self-time functions. */
  profile?: boolean;
}

export interface EmbedBusyResult {
  service_rate: number;
  padded: boolean;
  copies: number;
  chunks: number;
  /** Backend busy seconds over the first-batch-start to last-batch-end window. */
  busy_window: number;
  /** Backend busy seconds over taboot's `wall_seconds`. */
  busy_wall: number;
  /** Backend busy seconds over the CLI process's life, node's start-up included. */
  busy_process: number;
  /** From spawning the CLI to the first batch, and from the last batch to the CLI's exit, s. */
  first_batch_seconds: number;
  tail_seconds: number;
  busy_seconds: number;
  window_seconds: number;
  wall_seconds: number;
  mean_vps: number;
  /** Padded tokens (rows x longest row) over real tokens of the batches TEI ran. */
  padded_ratio: number;
  /** TEI batches run, and their mean inputs. */
  batches: number;
  batch_inputs: number;
  embed_requests: number;
  /** taboot's `embed_wait_seconds`, where the summary has it. */
  embed_wait_seconds: number | null;
  stage_seconds: IngestSummary['stage_seconds'];
  profile?: ProfileSummary;
}

const corpus = fileURLToPath(new URL('../../fixtures/prometheus-docs', import.meta.url));

export async function benchEmbedBusy(options: EmbedBusyOptions): Promise<EmbedBusyResult> {
  const copies = options.copies ?? 4;
  const dir = mkdtempSync(path.join(tmpdir(), 'taboot-busy-'));
  const root = path.join(dir, 'docs');
  for (let copy = 0; copy < copies; copy += 1)
    cpSync(corpus, path.join(root, `copy-${copy}`), { recursive: true });
  let firstStart: number | undefined;
  let lastEnd = 0;
  const tei = await startTeiServer({
    serviceRate: options.serviceRate,
    padded: options.padded ?? false,
    onBatch: (event) => {
      const now = performance.now();
      if (event.phase === 'start') firstStart ??= now;
      else lastEnd = now;
    },
  });
  const sink = await startSink();
  try {
    const args = ['ingest', root, '--json', '--progress', 'none'];
    if (options.concurrency) args.push('--embed-concurrency', options.concurrency);
    const env: Record<string, string> = {
      TABOOT_QDRANT_URL: sink.url,
      TABOOT_TEI_URL: tei.url,
      TABOOT_COLLECTION: 'perf',
    };
    const profileDir = path.join(dir, 'profile');
    if (options.profile) mkdirSync(profileDir);
    const nodeArgs = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const spawnedAt = performance.now();
    const result = await runCli(args, { env, timeoutMs: 600_000, nodeArgs });
    const exitedAt = performance.now();
    if (result.code !== 0) throw new Error(`taboot ingest exited ${result.code}: ${result.stderr}`);
    const summary = JSON.parse(result.stdout) as IngestSummary & { embed_wait_seconds?: number };
    const backend = tei.stats.backend;
    const windowSeconds = firstStart === undefined ? 0 : (lastEnd - firstStart) / 1000;
    const share = (over: number) => (over > 0 ? Number((backend.busySeconds / over).toFixed(3)) : 0);
    return {
      service_rate: options.serviceRate,
      padded: options.padded ?? false,
      copies,
      chunks: summary.chunks,
      busy_window: share(windowSeconds),
      busy_wall: share(summary.wall_seconds),
      busy_process: share((exitedAt - spawnedAt) / 1000),
      first_batch_seconds: Number((((firstStart ?? exitedAt) - spawnedAt) / 1000).toFixed(2)),
      tail_seconds: Number(((exitedAt - lastEnd) / 1000).toFixed(2)),
      busy_seconds: Number(backend.busySeconds.toFixed(2)),
      window_seconds: Number(windowSeconds.toFixed(2)),
      wall_seconds: summary.wall_seconds,
      mean_vps: summary.mean_vps,
      padded_ratio: Number((backend.paddedTokens / Math.max(1, backend.tokens)).toFixed(3)),
      batches: backend.batches,
      batch_inputs: Number((backend.inputs / Math.max(1, backend.batches)).toFixed(1)),
      embed_requests: summary.embed_requests,
      embed_wait_seconds: summary.embed_wait_seconds ?? null,
      stage_seconds: summary.stage_seconds,
      ...(options.profile ? { profile: summariseProfile(profileIn(profileDir)) } : {}),
    };
  } finally {
    sink.child.kill('SIGTERM');
    await tei.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startSink(): Promise<{ url: string; child: ChildProcess }> {
  const sinkPath = fileURLToPath(new URL('../../test/support/grpc-sink.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', sinkPath, '--port', '0', '--dim', '1024'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = /listening (\d+)/.exec(line.toString())?.[1];
  if (!port) throw new Error(`the sink did not start: ${line.toString()}`);
  return { url: `http://127.0.0.1:${port}`, child };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '400000' },
      padded: { type: 'boolean', default: false },
      copies: { type: 'string', default: '4' },
      concurrency: { type: 'string' },
      profile: { type: 'boolean', default: false },
    },
  });
  const result = await benchEmbedBusy({
    serviceRate: Number(values.rate),
    padded: values.padded,
    copies: Number(values.copies),
    concurrency: values.concurrency,
    profile: values.profile,
  });
  console.log(JSON.stringify(result));
}
