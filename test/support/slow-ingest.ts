/**
 * Ingest against a slow Qdrant: a per-call latency profile on the test server, a recorder of the
 * server's upserts in flight (what the client cannot misreport), generated inputs, and the built
 * CLI run with its progress events streamed. Shared by test/e2e/ingest-slow-qdrant.test.ts and
 * scripts/slow-qdrant.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32, VectorSource } from '../../src/bench/vectors.js';
import type { IngestSummary } from '../../src/pipeline/summary.js';
import type { CallEvent, QdrantTestServer } from './qdrant-server/index.js';
import { binPath } from './run-cli.js';

export const upsertMethod = 'Points/Upsert';

export interface LatencyProfile {
  /** Each upsert waits a uniform draw in [minMs, maxMs]. */
  minMs: number;
  maxMs: number;
  /** Every `spikeEvery`-th upsert waits `spikeMs` instead. */
  spikeEvery?: number;
  spikeMs?: number;
  seed?: number;
}

/** The mean delay of an upsert under `profile`, in ms. */
export function meanLatencyMs(profile: LatencyProfile): number {
  const base = (profile.minMs + profile.maxMs) / 2;
  if (!profile.spikeEvery || profile.spikeMs === undefined) return base;
  return (base * (profile.spikeEvery - 1) + profile.spikeMs) / profile.spikeEvery;
}

/**
 * Give every upsert its own delay, drawn as the call starts (the gauge tells listeners before the
 * call is handled). Returns a function that stops it and clears the latency.
 */
export function applyLatencyProfile(server: QdrantTestServer, profile: LatencyProfile): () => void {
  const random = mulberry32(profile.seed ?? 1);
  let calls = 0;
  const stop = server.gauge.listen((event) => {
    if (event.method !== upsertMethod || event.phase !== 'start') return;
    calls += 1;
    const spike = profile.spikeEvery !== undefined && calls % profile.spikeEvery === 0;
    const delay =
      spike && profile.spikeMs !== undefined
        ? profile.spikeMs
        : profile.minMs + random() * (profile.maxMs - profile.minMs);
    server.faults.latencyByMethod.set(upsertMethod, Math.round(delay));
  });
  return () => {
    stop();
    server.faults.latencyByMethod.delete(upsertMethod);
  };
}

export interface InFlightReport {
  /** Upserts received by the server. */
  calls: number;
  /** The window: from the first upsert's end (the first acknowledgement) to the last one's start. */
  fromMs: number;
  toMs: number;
  /** Time-weighted mean of upserts in flight over the window. */
  meanInFlight: number;
  /** The longest stretch inside the window with no upsert in flight, ms. */
  longestIdleMs: number;
  /** Where that stretch began, ms after the first upsert started. */
  longestIdleAtMs: number;
  maxInFlight: number;
}

/**
 * Records the server's upserts in flight. The window it reports on ends when the last upsert
 * starts: from then on no input is left to send, and fewer requests in flight are expected.
 */
export class InFlightRecorder {
  readonly events: CallEvent[] = [];
  private readonly stop: () => void;

  constructor(server: QdrantTestServer) {
    this.stop = server.gauge.listen((event) => {
      if (event.method === upsertMethod) this.events.push(event);
    });
  }

  dispose(): void {
    this.stop();
  }

  /** Upserts in flight at `at` (ms, `performance.now()`), from the recorded events. */
  inFlightAt(at: number): number {
    let inFlight = 0;
    for (const event of this.events) {
      if (event.at > at) break;
      inFlight = event.inFlight;
    }
    return inFlight;
  }

  report(): InFlightReport {
    const events = this.events;
    const starts = events.filter((event) => event.phase === 'start');
    const firstEnd = events.find((event) => event.phase === 'end');
    const origin = starts[0]?.at ?? 0;
    const fromMs = firstEnd?.at ?? origin;
    const toMs = starts.at(-1)?.at ?? fromMs;
    let weighted = 0;
    let longestIdleMs = 0;
    let longestIdleAtMs = 0;
    let maxInFlight = 0;
    let inFlight = 0;
    let since = fromMs;
    const close = (until: number) => {
      const span = Math.max(0, Math.min(until, toMs) - since);
      weighted += inFlight * span;
      if (inFlight === 0 && span > longestIdleMs) {
        longestIdleMs = span;
        longestIdleAtMs = since - origin;
      }
    };
    for (const event of events) {
      maxInFlight = Math.max(maxInFlight, event.inFlight);
      if (event.at <= fromMs) {
        inFlight = event.inFlight;
        continue;
      }
      if (event.at > toMs) break;
      close(event.at);
      inFlight = event.inFlight;
      since = event.at;
    }
    close(toMs);
    const span = toMs - fromMs;
    return {
      calls: starts.length,
      fromMs: fromMs - origin,
      toMs: toMs - origin,
      meanInFlight: span > 0 ? weighted / span : 0,
      longestIdleMs,
      longestIdleAtMs,
      maxInFlight,
    };
  }
}

/** `count` JSONL lines `{id: "doc-<i>", text, vector: base64 float32}`; returns the ids. */
export async function writeVectorJsonl(path: string, count: number, dimensions = 1024): Promise<string[]> {
  const out = createWriteStream(path);
  const vectors = new VectorSource(dimensions, { seed: 11 });
  const vector = new Float32Array(dimensions);
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const id = `doc-${i}`;
    ids.push(id);
    vectors.fill(vector);
    const line = `${JSON.stringify({ id, text: `precomputed document ${i}`, vector: Buffer.from(vector.buffer).toString('base64') })}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return ids;
}

/** `count` Markdown files of `sections` sections each under `dir`; returns their relative paths. */
export function writeMarkdownCorpus(dir: string, count: number, sections = 3): string[] {
  mkdirSync(dir, { recursive: true });
  const words = ['scrape', 'target', 'alert', 'rule', 'query', 'label', 'series', 'storage', 'remote'];
  const files: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const body = Array.from({ length: sections }, (_, s) => {
      const text = Array.from({ length: 40 }, (_, w) => words[(i + s * 7 + w * 3) % words.length]).join(' ');
      return `## Section ${s} of page ${i}\n\n${text}.\n`;
    }).join('\n');
    const name = `page-${String(i).padStart(5, '0')}.md`;
    writeFileSync(join(dir, name), `# Page ${i}\n\n${body}`);
    files.push(name);
  }
  return files;
}

export interface ProgressEvent {
  event: 'progress';
  elapsed_s: number;
  documents: number;
  chunks: number;
  vectors_upserted: number;
  [key: string]: unknown;
}

export interface IngestRun {
  child: ChildProcess;
  /** Every `--progress ndjson` event so far, with the local time it arrived. */
  progress: Array<ProgressEvent & { receivedAt: number }>;
  /** Resolves with the first progress event `match` accepts (and rejects if the run ends first). */
  waitForProgress(match: (event: ProgressEvent) => boolean): Promise<ProgressEvent>;
  done: Promise<IngestRunResult>;
}

export interface IngestRunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  summary: IngestSummary | undefined;
  /** `performance.now()` when the process ended. */
  endedAt: number;
}

/**
 * `taboot ingest <args> --json --progress ndjson` with the built binary, streaming its progress
 * events as they come (the test signals it mid-run, the script samples them).
 */
export function startIngest(
  args: readonly string[],
  options: { env: Record<string, string>; cwd: string; onProgress?: (event: ProgressEvent) => void },
): IngestRun {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(TABOOT_|QDRANT_API_KEY|TEI_API_KEY|FORCE_COLOR)/.test(key))
      env[key] = value;
  }
  Object.assign(env, { NO_COLOR: '1' }, options.env);
  const child = spawn(process.execPath, [binPath, 'ingest', ...args, '--json', '--progress', 'ndjson'], {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const progress: IngestRun['progress'] = [];
  const waiters = new Set<{
    match: (event: ProgressEvent) => boolean;
    resolve: (e: ProgressEvent) => void;
  }>();
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stderr += text;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{"event":"progress"')) continue;
      const event = JSON.parse(line) as ProgressEvent;
      progress.push({ ...event, receivedAt: performance.now() });
      options.onProgress?.(event);
      for (const waiter of waiters) {
        if (!waiter.match(event)) continue;
        waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  });
  const done = new Promise<IngestRunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      let summary: IngestSummary | undefined;
      try {
        summary = JSON.parse(stdout) as IngestSummary;
      } catch {
        summary = undefined;
      }
      resolve({ code, signal, stdout, stderr, summary, endedAt: performance.now() });
    });
  });
  return {
    child,
    progress,
    done,
    waitForProgress: (match) =>
      new Promise((resolve, reject) => {
        const earlier = progress.find(match);
        if (earlier) return resolve(earlier);
        waiters.add({ match, resolve });
        done.then(() => reject(new Error('the ingest ended before the awaited progress event')));
      }),
  };
}
