import cliProgress from 'cli-progress';
import { redactText } from '../config/redact.js';
import type { IngestStats } from '../pipeline/stats.js';
import { formatCount, formatDuration } from './format.js';
import type { Output } from './output.js';

export type ProgressMode = 'bars' | 'plain' | 'ndjson' | 'none';

export interface ProgressRenderer {
  /** A warning line, printed above the bars when they are showing. */
  log(line: string): void;
  stop(): void;
}

/** Moving average window of the vec/s display. */
const rateWindowMs = 5000;

/** `auto`: bars on a terminal, a plain line every few seconds otherwise; nothing with `--quiet`. */
export function resolveProgressMode(requested: string, output: Output): ProgressMode {
  if (output.quiet) return 'none';
  if (requested === 'auto') return output.stderr.isTTY ? 'bars' : 'plain';
  return requested as ProgressMode;
}

/** Time left, extrapolating the chunk count from the share of input bytes read so far. */
export function estimateRemainingMs(stats: IngestStats, now = performance.now()): number | undefined {
  if (stats.bytesTotal === 0 || stats.bytesDone === 0 || stats.vectorsUpserted === 0) return undefined;
  const expectedVectors = stats.chunks / Math.min(1, stats.bytesDone / stats.bytesTotal);
  const done = stats.vectorsUpserted / Math.max(expectedVectors, stats.vectorsUpserted);
  if (done >= 1) return undefined;
  return (stats.elapsedMs(now) * (1 - done)) / done;
}

export function progressSnapshot(stats: IngestStats) {
  return {
    event: 'progress',
    elapsed_s: round(stats.elapsedMs() / 1000),
    files_done: stats.filesDone,
    files_total: stats.filesTotal,
    documents: stats.documents,
    chunks: stats.chunks,
    chunks_embedded: stats.chunksEmbedded,
    vectors_upserted: stats.vectorsUpserted,
    skipped: stats.skipped,
    failed: stats.failed,
    vectors_per_second: round(stats.recentRate(rateWindowMs)),
    eta_s: optionalRound(estimateRemainingMs(stats), 1000),
  };
}

export function startProgress(stats: IngestStats, output: Output, mode: ProgressMode): ProgressRenderer {
  switch (mode) {
    case 'bars':
      return startBars(stats, output);
    case 'plain':
      return startTimer(
        5000,
        () => output.info(plainLine(stats)),
        (line) => output.warn(line),
      );
    case 'ndjson':
      return startTimer(
        1000,
        () => output.stderr.write(`${JSON.stringify(progressSnapshot(stats))}\n`),
        (line) => output.stderr.write(`${redactText(JSON.stringify({ event: 'warning', message: line }))}\n`),
      );
    case 'none':
      return { log: (line) => output.warn(line), stop: () => {} };
  }
}

function plainLine(stats: IngestStats): string {
  const eta = estimateRemainingMs(stats);
  return (
    `ingest: ${stats.filesDone}/${stats.filesTotal} files, ${formatCount(stats.chunks)} chunks, ` +
    `${formatCount(stats.vectorsUpserted)} vectors (${formatCount(Math.round(stats.recentRate(rateWindowMs)))} vec/s)` +
    (eta === undefined ? '' : `, eta ${formatDuration(eta)}`)
  );
}

/** A line (or JSON event) every `everyMs`, and a last one at the end so short runs show one too. */
function startTimer(everyMs: number, tick: () => void, log: (line: string) => void): ProgressRenderer {
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    log,
    stop: () => {
      clearInterval(timer);
      tick();
    },
  };
}

function startBars(stats: IngestStats, output: Output): ProgressRenderer {
  const c = output.err;
  const multibar = new cliProgress.MultiBar(
    {
      stream: output.stderr,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 5,
      barsize: 24,
      format: (options, params, payload: { label: string; detail: string }) => {
        const bar = cliProgress.Format.BarFormat(params.progress, options);
        return `${payload.label.padEnd(9)} ${c.cyan(bar)} ${payload.detail}`;
      },
    },
    cliProgress.Presets.shades_grey,
  );
  const files = multibar.create(1, 0, { label: 'files', detail: '' });
  const embedded = multibar.create(1, 0, { label: 'embedded', detail: '' });
  const upserted = multibar.create(1, 0, { label: 'upserted', detail: '' });
  const update = () => {
    const chunks = Math.max(stats.chunks, 1);
    files.setTotal(Math.max(stats.bytesTotal, 1));
    files.update(stats.bytesDone, {
      label: 'files',
      detail: `${stats.filesDone}/${stats.filesTotal} files, ${formatCount(stats.documents)} docs`,
    });
    embedded.setTotal(chunks);
    embedded.update(stats.chunksEmbedded + stats.chunksPrecomputed, {
      label: 'embedded',
      detail: `${formatCount(stats.chunksEmbedded + stats.chunksPrecomputed)}/${formatCount(stats.chunks)} chunks`,
    });
    upserted.setTotal(chunks);
    const eta = estimateRemainingMs(stats);
    upserted.update(stats.vectorsUpserted, {
      label: 'upserted',
      detail:
        `${formatCount(stats.vectorsUpserted)} vectors  ${c.bold(formatCount(Math.round(stats.recentRate(rateWindowMs))))} vec/s` +
        (eta === undefined ? '' : `  eta ${formatDuration(eta)}`),
    });
  };
  const timer = setInterval(update, 200);
  timer.unref();
  return {
    // multibar.log writes to the stream itself, past Output: redact here.
    log: (line) => multibar.log(`${c.yellow('warning:')} ${redactText(line)}\n`),
    stop: () => {
      clearInterval(timer);
      update();
      multibar.stop();
    },
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function optionalRound(value: number | undefined, divisor: number): number | undefined {
  return value === undefined ? undefined : round(value / divisor);
}
