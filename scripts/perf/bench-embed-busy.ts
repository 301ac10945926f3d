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
 * `npm run perf` runs `perfEmbedBusy`. Run alone (after `npm run build`), it prints one JSON line:
 *
 *   npx tsx scripts/perf/bench-embed-busy.ts --rate 400000 [--padded] [--copies 8]
 *       [--concurrency 4|auto] [--latency-ms 0] [--profile] [--profile-out taboot.cpuprofile]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
  /**
   * Added to every request after its batch ran (a network round trip, a busy tokenizer): time the
   * GPU cannot fill unless more requests are in flight. Default 0.
   */
  latencyMs?: number;
  /** `--embed-concurrency`; the configured default when absent. */
  concurrency?: string;
  /** Record taboot's CPU profile and summarise its top self-time functions. */
  profile?: boolean;
  /** Keep the profile at this path (open it in Chrome DevTools). */
  profileOut?: string;
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
  /**
   * Requests TEI held as batches started (inputs in flight / 32), averaged over each tenth of the
   * work window: the concurrency curve.
   */
  requests_at_tei: number[];
  stage_seconds: IngestSummary['stage_seconds'];
  /** CPU time of this process during the run: the TEI stand-in's share of the cores. */
  tei_cpu_seconds: number;
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
  // Inputs TEI holds (queued or running) as each batch starts: how deep taboot keeps its queue.
  const depth: Array<[ms: number, inputs: number]> = [];
  const tei = await startTeiServer({
    serviceRate: options.serviceRate,
    padded: options.padded ?? false,
    onBatch: (event) => {
      const now = performance.now();
      if (event.phase === 'start') {
        firstStart ??= now;
        depth.push([now, tei.stats.inFlightInputs]);
      } else lastEnd = now;
    },
  });
  tei.faults.latencyMs = options.latencyMs ?? 0;
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
    const cpuBefore = process.cpuUsage();
    // From the scratch folder, so that no project config (taboot.config.json) sets the run up.
    const result = await runCli(args, { env, cwd: dir, timeoutMs: 600_000, nodeArgs });
    const cpu = process.cpuUsage(cpuBefore);
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
      requests_at_tei: tenths(depth, firstStart ?? 0, lastEnd).map((inputs) =>
        Number((inputs / 32).toFixed(1)),
      ),
      stage_seconds: summary.stage_seconds,
      tei_cpu_seconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      ...(options.profile ? { profile: summariseProfile(profileIn(profileDir)) } : {}),
      ...(options.profile && options.profileOut ? keep(profileIn(profileDir), options.profileOut) : {}),
    };
  } finally {
    sink.child.kill('SIGTERM');
    await tei.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `npm run perf`'s share: the busy share at 40k tokens/s (an RTX 4070 running Qwen3-Embedding-0.6B)
 * and 400k (a data-centre GPU), taboot's top self-time functions at 400k, and the padded/real token
 * ratio with a padding backend. Prints its lines; returns the fields of perf's JSON line.
 */
export async function perfEmbedBusy(print: (line: string) => void): Promise<Record<string, unknown>> {
  const slow = await benchEmbedBusy({ serviceRate: 40_000, copies: 2 });
  const fast = await benchEmbedBusy({ serviceRate: 400_000, copies: 8, profile: true });
  const padded = await benchEmbedBusy({ serviceRate: 400_000, copies: 8, padded: true });
  const line = (name: string, run: EmbedBusyResult) =>
    print(
      `    ${name}: busy ${run.busy_window} of the work window, ${run.busy_wall} of the run ` +
        `(${run.wall_seconds} s, first batch after ${run.first_batch_seconds} s), ${run.mean_vps} vec/s, ` +
        `TEI left idle with chunks waiting ${run.embed_wait_seconds} s, requests at TEI by tenth ` +
        `[${run.requests_at_tei.join(' ')}]`,
    );
  line('40k tokens/s', slow);
  line('400k tokens/s', fast);
  line('400k tokens/s, padded', padded);
  print(`    padded/real tokens ${padded.padded_ratio}; taboot's top self time at 400k:`);
  const top = fast.profile?.top ?? [];
  for (const entry of top) print(`      ${(entry.share * 100).toFixed(1).padStart(5)}%  ${entry.fn}`);
  return {
    embed_busy_40k: slow.busy_window,
    embed_busy_40k_run: slow.busy_wall,
    embed_busy_400k: fast.busy_window,
    embed_busy_400k_run: fast.busy_wall,
    embed_busy_400k_padded: padded.busy_window,
    embed_padded_ratio: padded.padded_ratio,
    embed_wait_400k_s: fast.embed_wait_seconds,
    embed_top5_400k: top.map((entry) => `${entry.fn} ${(entry.share * 100).toFixed(1)}%`),
  };
}

function keep(profile: string, to: string): Record<string, never> {
  copyFileSync(profile, to);
  return {};
}

/** Mean of the samples in each tenth of [from, to]. */
function tenths(samples: ReadonlyArray<readonly [number, number]>, from: number, to: number): number[] {
  const sums = new Array<number>(10).fill(0);
  const counts = new Array<number>(10).fill(0);
  const span = Math.max(1e-9, to - from);
  for (const [at, value] of samples) {
    const slot = Math.min(9, Math.max(0, Math.floor(((at - from) / span) * 10)));
    sums[slot]! += value;
    counts[slot]! += 1;
  }
  return sums.map((sum, slot) => (counts[slot]! > 0 ? sum / counts[slot]! : 0));
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
      'profile-out': { type: 'string' },
      'latency-ms': { type: 'string', default: '0' },
    },
  });
  const result = await benchEmbedBusy({
    serviceRate: Number(values.rate),
    padded: values.padded,
    copies: Number(values.copies),
    concurrency: values.concurrency,
    latencyMs: Number(values['latency-ms']),
    profile: values.profile || values['profile-out'] !== undefined,
    profileOut: values['profile-out'],
  });
  console.log(JSON.stringify(result));
}
