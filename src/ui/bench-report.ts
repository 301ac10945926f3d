import { type BaselineComparison, describeRegression } from '../bench/baseline.js';
import {
  bottleneckStage,
  embedLevelHeaders,
  embedLevelRows,
  formatInteger,
  formatMs,
  formatNumber,
  formatPercent,
  formatSeconds,
  renderMarkdown,
  searchLevelHeaders,
  searchLevelRows,
} from '../bench/report-markdown.js';
import { type BenchResult, benchJson, INGEST_STAGES } from '../bench/result.js';
import type { BenchEvents } from '../bench/scenarios/shared.js';
import { redactText } from '../config/redact.js';
import type { Output } from './output.js';

export interface BenchProgressView extends BenchEvents {
  /** Prints the last progress line of the phase if it was held back by the throttle. */
  stop(): void;
}

/**
 * Line-based live progress on stderr (silent with `--quiet`): one line when a phase starts, then
 * at most one progress line a second with the rate since the phase began, and the final count.
 * Plain lines rather than a redrawn bar, so that a CI log reads the same as a terminal.
 */
export function createBenchProgress(output: Output, intervalMs = 1000): BenchProgressView {
  let phase = '';
  let phaseStarted = performance.now();
  let lastPrinted = 0;
  let held: string | undefined;
  const flush = () => {
    if (held) output.info(held);
    held = undefined;
  };
  return {
    phase(name, detail) {
      flush();
      phase = name;
      phaseStarted = performance.now();
      lastPrinted = phaseStarted;
      output.info(output.err.bold(`${name}`) + (detail ? output.err.dim(`  ${detail}`) : ''));
    },
    progress(done, total, unit) {
      const now = performance.now();
      const seconds = (now - phaseStarted) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      const amount =
        total === undefined ? formatInteger(done) : `${formatInteger(done)} / ${formatInteger(total)}`;
      const line = `  ${phase}  ${amount} ${unit}${unit === 'indexed' ? '' : `  ${formatNumber(rate)}/s`}  ${seconds.toFixed(1)} s`;
      if (now - lastPrinted >= intervalMs || (total !== undefined && done >= total && unit !== 'indexed')) {
        output.info(line);
        lastPrinted = now;
        held = undefined;
      } else {
        held = line;
      }
    },
    warn(message) {
      output.warn(message);
    },
    stop: flush,
  };
}

export type BenchFormat = 'table' | 'json' | 'markdown';

export interface BenchReportOptions {
  format: BenchFormat;
  comparison: BaselineComparison | undefined;
  maxRegression: number;
  /** Collections kept with `--keep`. */
  kept: readonly string[];
}

/**
 * The end of a run: the result on stdout (a table, `benchJson` with `--json`, or Markdown for a
 * job summary with `--markdown`, printed even with `--quiet` since it was asked for), then the
 * baseline verdict on stderr, one `error:` line per regressed metric.
 */
export function renderBenchResult(output: Output, result: BenchResult, options: BenchReportOptions): void {
  if (options.format === 'json') {
    output.data(benchJson(result));
  } else if (options.format === 'markdown') {
    output.stdout.write(
      redactText(
        renderMarkdown(result, { comparison: options.comparison, maxRegression: options.maxRegression }),
      ),
    );
  } else {
    for (const line of resultLines(output, result)) output.result(line);
  }
  for (const name of options.kept)
    output.info(`kept collection ${name} (delete it with: taboot collection delete ${name} --yes)`);
  const comparison = options.comparison;
  if (!comparison) return;
  const allowed = formatPercent(options.maxRegression);
  if (comparison.regressions.length === 0) {
    output.info(`baseline: no regression in ${comparison.compared} metrics (${allowed} allowed)`);
  } else {
    for (const regression of comparison.regressions)
      output.error(`regressed: ${describeRegression(regression)}`);
  }
  if (comparison.skipped.length > 0) {
    output.info(
      `baseline: not compared: ${comparison.skipped.map((entry) => `${entry.metric} (${entry.reason})`).join('; ')}`,
    );
  }
}

/** The human-readable tables, one block per section. */
function resultLines(output: Output, result: BenchResult): string[] {
  const c = output.c;
  const lines: string[] = [];
  const section = (title: string, about: string) => {
    if (lines.length > 0) lines.push('');
    lines.push(`${c.bold(title)}  ${c.dim(about)}`);
  };
  if (result.upsert) {
    const u = result.upsert;
    section(
      'upsert',
      `${formatInteger(u.count)} vectors × ${u.dim}d, batches of ${u.batch_size}, ${u.parallel} in flight`,
    );
    lines.push(
      ...table(
        ['upload', 'vec/s', 'mean', 'p50', 'p95', 'p99', 'index', 'total', 'client CPU'],
        [
          [
            formatSeconds(u.upload_seconds),
            formatNumber(u.upload_vps),
            formatMs(u.mean_ms),
            formatMs(u.p50_ms),
            formatMs(u.p95_ms),
            formatMs(u.p99_ms),
            formatSeconds(u.index_seconds),
            formatSeconds(u.total_seconds),
            formatPercent(u.client_cpu_share),
          ],
        ],
      ),
    );
  }
  if (result.search) {
    const s = result.search;
    section('search', `${formatInteger(s.queries)} queries against ${s.collection}`);
    lines.push(...table(searchLevelHeaders, searchLevelRows(s.levels)));
  }
  if (result.embed) {
    const e = result.embed;
    section('embed', [e.model, e.batch_size ? `batches of ${e.batch_size}` : ''].filter(Boolean).join(', '));
    lines.push(...table(embedLevelHeaders, embedLevelRows(e.levels)));
  }
  if (result.ingest) {
    const i = result.ingest;
    const counts = [
      i.documents !== undefined ? `${formatInteger(i.documents)} documents` : '',
      i.chunks !== undefined ? `${formatInteger(i.chunks)} chunks` : '',
    ].filter(Boolean);
    section('ingest', counts.join(', '));
    lines.push(
      ...table(
        ['docs/s', 'chunks/s', 'vec/s', 'index', 'total'],
        [
          [
            formatNumber(i.docs_per_second),
            formatNumber(i.chunks_per_second),
            formatNumber(i.vps),
            formatSeconds(i.index_seconds),
            formatSeconds(i.total_seconds),
          ],
        ],
      ),
      '',
    );
    const bottleneck = bottleneckStage(result);
    lines.push(
      ...table(
        ['stage', 'busy', 'bottleneck share'],
        INGEST_STAGES.map((stage) => [
          stage === bottleneck ? `${stage} (bottleneck)` : stage,
          formatSeconds(i.stages[stage].seconds),
          formatPercent(i.stages[stage].bottleneck_share),
        ]),
      ),
    );
  }
  return lines;
}

/** Columns padded to their widest cell: the first left-aligned, the rest right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd()}`;
  return [line(headers), ...rows.map(line)];
}
