import type { BaselineComparison } from './baseline.js';
import {
  type BenchResult,
  type BenchSettingValue,
  type EmbedLevel,
  INGEST_STAGES,
  type IngestStage,
  type SearchLevel,
} from './result.js';

/**
 * GitHub-flavoured Markdown for a job summary (`>> $GITHUB_STEP_SUMMARY`): one table per section,
 * the baseline verdict first when there is one, the settings folded away at the end.
 */

export interface ReportOptions {
  /** The baseline comparison to show (`--baseline`). */
  comparison?: BaselineComparison;
  /** The allowed regression the comparison used, for the verdict line (fraction). */
  maxRegression?: number;
}

export function renderMarkdown(result: BenchResult, options: ReportOptions = {}): string {
  const out: string[] = ['## taboot bench', '', cell(describeRun(result)), ''];
  if (options.comparison) out.push(...baselineSection(options.comparison, options.maxRegression));

  if (result.upsert) {
    const upsert = result.upsert;
    out.push('### Upsert', '');
    out.push(
      `${formatInteger(upsert.count)} vectors of ${upsert.dim} dimensions, batches of ${upsert.batch_size}, ${upsert.parallel} in flight.`,
      '',
    );
    out.push(
      table(
        ['upload', 'vec/s', 'mean', 'p50', 'p95', 'p99', 'index', 'total', 'client CPU'],
        [
          [
            formatSeconds(upsert.upload_seconds),
            formatNumber(upsert.upload_vps),
            formatMs(upsert.mean_ms),
            formatMs(upsert.p50_ms),
            formatMs(upsert.p95_ms),
            formatMs(upsert.p99_ms),
            formatSeconds(upsert.index_seconds),
            formatSeconds(upsert.total_seconds),
            formatPercent(upsert.client_cpu_share),
          ],
        ],
        'right',
      ),
      '',
    );
  }

  if (result.search) {
    const search = result.search;
    out.push(
      '### Search',
      '',
      `${formatInteger(search.queries)} queries against \`${code(search.collection)}\`.`,
      '',
    );
    out.push(table(searchLevelHeaders, searchLevelRows(search.levels), 'right'), '');
  }

  if (result.embed) {
    const embed = result.embed;
    const about = [
      embed.model ? `\`${code(embed.model)}\`` : '',
      embed.batch_size ? `batches of ${embed.batch_size}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    out.push('### Embed', '');
    if (about) out.push(`${about}.`, '');
    out.push(table(embedLevelHeaders, embedLevelRows(embed.levels), 'right'), '');
  }

  if (result.ingest) {
    const ingest = result.ingest;
    out.push('### Ingest', '');
    const counts = [
      ingest.documents !== undefined ? `${formatInteger(ingest.documents)} documents` : '',
      ingest.chunks !== undefined ? `${formatInteger(ingest.chunks)} chunks` : '',
    ].filter(Boolean);
    if (counts.length > 0) out.push(`${counts.join(', ')}.`, '');
    out.push(
      table(
        ['docs/s', 'chunks/s', 'vec/s', 'index', 'total'],
        [
          [
            formatNumber(ingest.docs_per_second),
            formatNumber(ingest.chunks_per_second),
            formatNumber(ingest.vps),
            formatSeconds(ingest.index_seconds),
            formatSeconds(ingest.total_seconds),
          ],
        ],
        'right',
      ),
      '',
    );
    const bottleneck = bottleneckStage(result);
    out.push(
      table(
        ['stage', 'busy', 'share'],
        INGEST_STAGES.map((stage) => [
          stage === bottleneck ? `**${stage}** (bottleneck)` : stage,
          formatSeconds(ingest.stages[stage].seconds),
          formatPercent(ingest.stages[stage].bottleneck_share),
        ]),
        'right',
      ),
      '',
    );
  }

  const settings = Object.entries(result.settings);
  if (settings.length > 0) {
    out.push('<details><summary>Settings</summary>', '');
    out.push(
      table(
        ['setting', 'value'],
        settings.map(([key, value]) => [cell(key), cell(settingText(value))]),
        'left',
      ),
    );
    out.push('', '</details>', '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function baselineSection(comparison: BaselineComparison, maxRegression: number | undefined): string[] {
  const allowed = maxRegression === undefined ? '' : ` (${formatPercent(maxRegression)} allowed)`;
  const out: string[] = ['### Baseline', ''];
  if (comparison.regressions.length === 0) {
    out.push(`✅ No regression in ${comparison.compared} metrics${allowed}.`, '');
  } else {
    const count = comparison.regressions.length;
    out.push(
      `❌ ${count} regression${count > 1 ? 's' : ''} in ${comparison.compared} metrics${allowed}.`,
      '',
    );
    out.push(comparisonTable(comparison.regressions), '');
  }
  if (comparison.comparisons.length > 0) {
    out.push('<details><summary>Every compared metric</summary>', '');
    out.push(comparisonTable(comparison.comparisons), '', '</details>', '');
  }
  if (comparison.skipped.length > 0) {
    const skipped = comparison.skipped.map((entry) => `\`${code(entry.metric)}\` ${cell(entry.reason)}`);
    out.push(`Not compared: ${skipped.join('; ')}.`, '');
  }
  return out;
}

function comparisonTable(rows: BaselineComparison['comparisons']): string {
  return table(
    ['metric', 'baseline', 'current', 'change', ''],
    rows.map((row) => [
      `\`${code(row.metric)}\``,
      formatNumber(row.baseline),
      formatNumber(row.current),
      formatChange(row.change),
      row.regressed ? '❌' : '',
    ]),
    'right',
  );
}

/** `taboot 0.1.0 · 2026-01-02 10:00 UTC · 16 CPUs · Node v20.20.2`. */
export function describeRun(result: BenchResult): string {
  const machine = result.machine;
  const started = Number.isNaN(Date.parse(result.started_at))
    ? result.started_at
    : `${new Date(result.started_at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return [
    `taboot ${result.taboot_version}`,
    started,
    `${machine.cpus} CPU${machine.cpus === 1 ? '' : 's'}${machine.cpu_model ? ` (${machine.cpu_model})` : ''}`,
    `Node ${machine.node}`,
    machine.gpu ? `GPU ${machine.gpu}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/** The ingest stage with the largest share of the time, if there is an ingest section. */
export function bottleneckStage(result: BenchResult): IngestStage | undefined {
  const stages = result.ingest?.stages;
  if (!stages) return undefined;
  return INGEST_STAGES.reduce((best, stage) =>
    stages[stage].bottleneck_share > stages[best].bottleneck_share ? stage : best,
  );
}

/** Thousands separated, precision shrinking as values grow, no trailing zeros: 12,345 · 123 · 12.3 · 1.23 · 0.5. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
  const [whole = '', fraction = ''] = magnitude.toFixed(digits).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const decimals = fraction.replace(/0+$/, '');
  const sign = value < 0 && /[1-9]/.test(whole + decimals) ? '-' : '';
  return `${sign}${grouped}${decimals ? `.${decimals}` : ''}`;
}

export function formatInteger(value: number): string {
  return formatNumber(Math.round(value));
}

export function formatMs(value: number): string {
  return `${formatNumber(value)} ms`;
}

export function formatSeconds(value: number): string {
  return `${formatNumber(value)} s`;
}

/** A fraction as a percentage: 0.123 -> `12.3%`. */
export function formatPercent(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return `${Number((value * 100).toFixed(1))}%`;
}

/** A signed change: -0.5 -> `-50.0%`, 0.052 -> `+5.2%`. */
export function formatChange(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return `${value > 0 ? '+' : value < 0 ? '-' : '±'}${Math.abs(value * 100).toFixed(1)}%`;
}

/** Recall with three decimals (0.987), since differences of a thousandth matter. */
export function formatRecall(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : '–';
}

export function settingText(value: BenchSettingValue): string {
  if (value === null) return '—';
  return Array.isArray(value) ? value.join(', ') : String(value);
}

function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: 'left' | 'right',
): string {
  const rule = headers.map((_, index) => (index === 0 || align === 'left' ? '---' : '--:'));
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(rule), ...rows.map(line)].join('\n');
}

/** Text for a Markdown table cell: no HTML, no pipes, no line breaks. */
function cell(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
}

/** Text inside backticks: a backtick would end the span, and pipes still split table cells. */
function code(text: string): string {
  return text.replace(/`/g, "'").replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Column headers and formatted cells of the per-level tables, shared by every report format. */
export const searchLevelHeaders = [
  'concurrency',
  'hnsw_ef',
  'k',
  'QPS',
  'mean',
  'p50',
  'p95',
  'p99',
  'recall',
];

export function searchLevelRows(levels: readonly SearchLevel[]): string[][] {
  return levels.map((level) => [
    String(level.concurrency),
    String(level.hnsw_ef),
    String(level.k),
    formatNumber(level.qps),
    formatMs(level.mean_ms),
    formatMs(level.p50_ms),
    formatMs(level.p95_ms),
    formatMs(level.p99_ms),
    formatRecall(level.recall),
  ]);
}

export const embedLevelHeaders = ['concurrency', 'docs/s', 'tokens/s', 'mean', 'p50', 'p95', 'p99'];

export function embedLevelRows(levels: readonly EmbedLevel[]): string[][] {
  return levels.map((level) => [
    String(level.concurrency),
    formatNumber(level.docs_per_second),
    formatNumber(level.tokens_per_second),
    formatMs(level.mean_ms),
    formatMs(level.p50_ms),
    formatMs(level.p95_ms),
    formatMs(level.p99_ms),
  ]);
}
