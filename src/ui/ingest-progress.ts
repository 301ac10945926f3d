import cliProgress from 'cli-progress';
import { redactText } from '../config/redact.js';
import type { ServiceName } from '../errors.js';
import { formatCount, formatDuration } from '../format.js';
import type { RetryEvent } from '../pipeline/retry.js';
import type { InFlight, IngestStats } from '../pipeline/stats.js';
import { ackRate, displayWindowMs, estimateRemainingMs } from './ingest-rates.js';
import type { Output } from './output.js';
import { RetryWatch, retryEvent } from './retry-watch.js';

export type ProgressMode = 'bars' | 'plain' | 'ndjson' | 'none';

export interface ProgressRenderer {
  /** A warning line, printed above the bars when they are showing. */
  log(line: string): void;
  /** One retried request: an event with `ndjson`, a notice when retries cluster with bars and plain. */
  retry(service: ServiceName, event: RetryEvent): void;
  /**
   * Stops updating; the plain and ndjson modes print a last line unless `lastLine` is false (a run
   * that failed before it started, whose error is the one line to show).
   */
  stop(lastLine?: boolean): void;
}

/** A request unanswered this long is worth a line: the pipeline is waiting on that service. */
export const waitingAfterMs = 2_000;

/** `auto`: bars on a terminal, a plain line every few seconds otherwise; nothing with `--quiet`. */
export function resolveProgressMode(requested: string, output: Output): ProgressMode {
  if (output.quiet) return 'none';
  if (requested === 'auto') return output.stderr.isTTY ? 'bars' : 'plain';
  return requested as ProgressMode;
}

function vectorsPerSecond(stats: IngestStats, now: number): number {
  return ackRate(stats.acknowledgements, now, displayWindowMs) ?? 0;
}

/**
 * `waiting for Qdrant: 4 requests in flight, oldest 9.8 s` when the oldest request to a service
 * has waited `waitingAfterMs`: a slow server shows here, a stuck client would not.
 */
export function waitingNotes(stats: IngestStats, now = performance.now()): string[] {
  const notes: string[] = [];
  const services: Array<[string, InFlight]> = [
    ['TEI', stats.embedRequests],
    ['Qdrant', stats.upsertRequests],
  ];
  for (const [label, requests] of services) {
    const oldest = requests.oldestStartedAt;
    if (oldest === undefined || now - oldest < waitingAfterMs) continue;
    const count = requests.count;
    notes.push(
      `waiting for ${label}: ${count} request${count === 1 ? '' : 's'} in flight, oldest ${formatDuration(now - oldest)}`,
    );
  }
  return notes;
}

/** The `--progress ndjson` progress event. */
export function progressSnapshot(stats: IngestStats, now = performance.now()) {
  const waited = (requests: InFlight) => {
    const oldest = requests.oldestStartedAt;
    return oldest === undefined ? null : round((now - oldest) / 1000);
  };
  const eta = estimateRemainingMs(stats, now);
  return {
    event: 'progress',
    elapsed_s: round(stats.elapsedMs(now) / 1000),
    files_done: stats.filesDone,
    files_total: stats.filesTotal,
    documents: stats.documents,
    chunks: stats.chunks,
    chunks_embedded: stats.chunksEmbedded,
    vectors_upserted: stats.vectorsUpserted,
    skipped: stats.skipped,
    failed: stats.failed,
    retries: stats.retries,
    vectors_per_second: round(vectorsPerSecond(stats, now)),
    /** Null until the rate has settled (see `estimateRemainingMs`). */
    eta_s: eta === undefined ? null : round(eta / 1000),
    embeds_in_flight: stats.embedRequests.count,
    oldest_embed_s: waited(stats.embedRequests),
    upserts_in_flight: stats.upsertRequests.count,
    oldest_upsert_s: waited(stats.upsertRequests),
  };
}

/** The line `--progress plain` prints every 5 s. */
export function plainLine(stats: IngestStats, now = performance.now()): string {
  const eta = estimateRemainingMs(stats, now);
  const waiting = waitingNotes(stats, now);
  return (
    `ingest: ${stats.filesDone}/${stats.filesTotal} files, ${formatCount(stats.chunks)} chunks, ` +
    `${formatCount(stats.vectorsUpserted)} vectors (${formatCount(vectorsPerSecond(stats, now))} vec/s)` +
    (eta === undefined ? '' : `, eta ${formatDuration(eta)}`) +
    (waiting.length > 0 ? `; ${waiting.join('; ')}` : '')
  );
}

export function startProgress(stats: IngestStats, output: Output, mode: ProgressMode): ProgressRenderer {
  switch (mode) {
    case 'bars':
      return startBars(stats, output);
    case 'plain': {
      const notices = noticeRetries(stats, (line) => output.warn(line));
      return startTimer(
        5000,
        () => output.info(plainLine(stats)),
        (line) => output.warn(line),
        notices,
      );
    }
    case 'ndjson': {
      const write = (event: object) => output.stderr.write(`${redactText(JSON.stringify(event))}\n`);
      return startTimer(
        1000,
        () => write(progressSnapshot(stats)),
        (line) => write({ event: 'warning', message: line }),
        (service, event) => write(retryEvent(service, event, stats.elapsedMs())),
      );
    }
    case 'none':
      return { log: (line) => output.warn(line), retry: () => {}, stop: () => {} };
  }
}

/** A one-line notice, through `log`, when retries of a service cluster. */
function noticeRetries(stats: IngestStats, log: (line: string) => void): ProgressRenderer['retry'] {
  const watch = new RetryWatch();
  return (service, event) => {
    const notice = watch.record(service, event.error.code, stats.elapsedMs());
    if (notice) log(notice);
  };
}

/** A line (or JSON event) every `everyMs`, and a last one at the end so short runs show one too. */
function startTimer(
  everyMs: number,
  tick: () => void,
  log: (line: string) => void,
  retry: ProgressRenderer['retry'],
): ProgressRenderer {
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    log,
    retry,
    stop: (lastLine = true) => {
      clearInterval(timer);
      if (lastLine) tick();
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
    const now = performance.now();
    const chunks = Math.max(stats.chunks, 1);
    const waiting = waitingNotes(stats, now);
    const waitingFor = (label: string) => {
      const note = waiting.find((line) => line.startsWith(`waiting for ${label}`));
      return note ? `  ${c.yellow(note)}` : '';
    };
    files.setTotal(Math.max(stats.bytesTotal, 1));
    files.update(stats.bytesDone, {
      label: 'files',
      detail: `${stats.filesDone}/${stats.filesTotal} files, ${formatCount(stats.documents)} docs`,
    });
    embedded.setTotal(chunks);
    embedded.update(stats.chunksEmbedded + stats.chunksPrecomputed, {
      label: 'embedded',
      detail:
        `${formatCount(stats.chunksEmbedded + stats.chunksPrecomputed)}/${formatCount(stats.chunks)} chunks` +
        waitingFor('TEI'),
    });
    upserted.setTotal(chunks);
    const eta = estimateRemainingMs(stats, now);
    upserted.update(stats.vectorsUpserted, {
      label: 'upserted',
      detail:
        `${formatCount(stats.vectorsUpserted)} vectors  ${c.bold(formatCount(vectorsPerSecond(stats, now)))} vec/s` +
        (eta === undefined ? '' : `  eta ${formatDuration(eta)}`) +
        waitingFor('Qdrant'),
    });
  };
  const timer = setInterval(update, 200);
  timer.unref();
  // multibar.log writes to the stream itself, past Output: redact here.
  const log = (line: string) => multibar.log(`${c.yellow('warning:')} ${redactText(line)}\n`);
  return {
    log,
    retry: noticeRetries(stats, log),
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
