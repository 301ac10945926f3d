import { formatChange, formatCount, formatNumber, formatPercent } from '../../format.js';
import type { BaselineComparison, MetricComparison } from '../baseline.js';
import {
  type BenchResult,
  type BenchSection,
  type BenchSettingValue,
  type EmbedLevel,
  INGEST_STAGES,
  type IngestResult,
  type IngestStage,
  type SearchLevel,
  type UpsertResult,
} from '../result.js';

/**
 * The report of a bench run, once, for every format: sections of titled tables whose cells are
 * already formatted. The renderers (`renderers.ts`) lay it out as terminal text, Markdown or HTML
 * and never name a column themselves; the HTML renderer adds charts drawn from `result`.
 */
export interface BenchReport {
  /** The result the report shows (charts and highlights read it). */
  result: BenchResult;
  /** `taboot 0.1.0 · 2026-01-02 10:00 UTC · 16 CPUs (AMD EPYC) · Node v20.20.2`. */
  run: string;
  /** One section per scenario that ran, in the result's order, then the settings. */
  sections: ReportSection[];
  /** The ingest stage with the largest bottleneck share, when an ingest ran. */
  bottleneck: IngestStage | undefined;
  /** The comparison with `--baseline`, when there was one. */
  baseline: BaselineReport | undefined;
}

/** Text in which names from the outside (collections, models, metrics) are code. */
export type Inline = string | { code: string };

export interface ReportSection {
  id: BenchSection | 'settings';
  title: string;
  /** What ran and how to read the figures: a sentence or two under the title. */
  about: Inline[];
  tables: ReportTable[];
}

export interface ReportTable {
  headers: string[];
  rows: ReportRow[];
  /** `numbers`: every column after the first holds a figure (right-aligned); `text`: keys and values. */
  kind: 'numbers' | 'text';
}

export interface ReportRow {
  cells: Inline[];
  /** `highlight`: the row to look at first (the bottleneck); `regressed`: worse than the baseline allows. */
  mark?: 'highlight' | 'regressed';
}

export interface BaselineReport {
  /** `no regression in 12 metrics (10% allowed)`, `2 regressions in 12 metrics (10% allowed)`. */
  verdict: string;
  regressed: number;
  /** One line per regressed metric: `upsert.upload_vps fell 50.0% (40000 -> 20000)`. */
  regressions: string[];
  /** Every compared metric, the regressed ones marked. */
  table: ReportTable;
  /** Metrics not compared, and why. */
  skipped: Array<{ metric: string; reason: string }>;
}

export interface ReportOptions {
  /** The baseline comparison to show (`--baseline`). */
  comparison?: BaselineComparison | undefined;
  /** The allowed regression the comparison used, a fraction, for the verdict. */
  maxRegression?: number | undefined;
}

/** A column: its header, its cell for a row, and, for optional figures, whether to show it at all. */
interface Column<Row> {
  header: string;
  cell: (row: Row) => Inline;
  shown?: (rows: readonly Row[]) => boolean;
}

interface Latencies {
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
}

const ms = (value: number) => `${formatNumber(value)} ms`;
const seconds = (value: number) => `${formatNumber(value)} s`;
/** Recall with three decimals (0.987): differences of a thousandth matter. */
const recall = (value: number) => (Number.isFinite(value) ? value.toFixed(3) : '–');

const latencyColumns: Column<Latencies>[] = [
  { header: 'mean', cell: (row) => ms(row.mean_ms) },
  { header: 'p50', cell: (row) => ms(row.p50_ms) },
  { header: 'p95', cell: (row) => ms(row.p95_ms) },
  { header: 'p99', cell: (row) => ms(row.p99_ms) },
];

const upsertColumns: Column<UpsertResult>[] = [
  { header: 'upload', cell: (row) => seconds(row.upload_seconds) },
  { header: 'vec/s', cell: (row) => formatNumber(row.upload_vps) },
  ...latencyColumns,
  { header: 'index', cell: (row) => seconds(row.index_seconds) },
  { header: 'total', cell: (row) => seconds(row.total_seconds) },
  { header: 'client CPU', cell: (row) => formatPercent(row.client_cpu_share) },
];

const searchColumns: Column<SearchLevel>[] = [
  { header: 'concurrency', cell: (row) => String(row.concurrency) },
  { header: 'hnsw_ef', cell: (row) => String(row.hnsw_ef) },
  { header: 'k', cell: (row) => String(row.k) },
  { header: 'QPS', cell: (row) => formatNumber(row.qps) },
  ...latencyColumns,
  { header: 'recall', cell: (row) => recall(row.recall) },
];

const embedColumns: Column<EmbedLevel>[] = [
  { header: 'concurrency', cell: (row) => String(row.concurrency) },
  { header: 'docs/s', cell: (row) => formatNumber(row.docs_per_second) },
  { header: 'tokens/s', cell: (row) => formatNumber(row.tokens_per_second) },
  ...latencyColumns,
];

const ingestColumns: Column<IngestResult>[] = [
  { header: 'docs/s', cell: (row) => formatNumber(row.docs_per_second) },
  { header: 'chunks/s', cell: (row) => formatNumber(row.chunks_per_second) },
  { header: 'vec/s', cell: (row) => formatNumber(row.vps) },
  { header: 'index', cell: (row) => seconds(row.index_seconds) },
  { header: 'total', cell: (row) => seconds(row.total_seconds) },
];

/** TEI's own view of the run: shown as far as TEI reported it. */
const teiColumns: Column<IngestResult>[] = [
  optional('TEI queue', (row) => row.tei_queue_seconds, seconds),
  optional('TEI inference', (row) => row.tei_inference_seconds, seconds),
  optional('TEI busy share', (row) => row.tei_busy_share, formatPercent),
];

interface StageRow {
  stage: IngestStage;
  seconds: number;
  share: number;
  bottleneck: boolean;
}

const stageColumns: Column<StageRow>[] = [
  { header: 'stage', cell: (row) => (row.bottleneck ? `${row.stage} (bottleneck)` : row.stage) },
  { header: 'busy', cell: (row) => seconds(row.seconds) },
  { header: 'bottleneck share', cell: (row) => formatPercent(row.share) },
];

const comparisonColumns: Column<MetricComparison>[] = [
  { header: 'metric', cell: (row) => ({ code: row.metric }) },
  { header: 'baseline', cell: (row) => formatNumber(row.baseline) },
  { header: 'current', cell: (row) => formatNumber(row.current) },
  { header: 'change', cell: (row) => formatChange(row.change) },
];

const settingColumns: Column<[key: string, value: string]>[] = [
  { header: 'setting', cell: ([key]) => key },
  { header: 'value', cell: ([, value]) => value },
];

function optional<Row>(
  header: string,
  value: (row: Row) => number | undefined,
  format: (value: number) => string,
): Column<Row> {
  return {
    header,
    cell: (row) => {
      const figure = value(row);
      return figure === undefined ? '–' : format(figure);
    },
    shown: (rows) => rows.some((row) => value(row) !== undefined),
  };
}

function table<Row>(
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  options: { kind?: ReportTable['kind']; mark?: (row: Row) => ReportRow['mark'] } = {},
): ReportTable {
  const shown = columns.filter((column) => column.shown?.(rows) ?? true);
  return {
    headers: shown.map((column) => column.header),
    rows: rows.map((row) => {
      const mark = options.mark?.(row);
      return { cells: shown.map((column) => column.cell(row)), ...(mark ? { mark } : {}) };
    }),
    kind: options.kind ?? 'numbers',
  };
}

/** The report of `result`, with the baseline comparison when `options` has one. */
export function benchReport(result: BenchResult, options: ReportOptions = {}): BenchReport {
  const bottleneck = bottleneckStage(result.ingest);
  const sections: ReportSection[] = [];
  if (result.upsert) sections.push(upsertSection(result.upsert));
  if (result.search) {
    const search = result.search;
    sections.push({
      id: 'search',
      title: 'Search',
      about: [`${formatCount(search.queries)} queries against `, { code: search.collection }, '.'],
      tables: [table(searchColumns, search.levels)],
    });
  }
  if (result.embed) {
    const embed = result.embed;
    const workload: Inline[] = [];
    if (embed.model) workload.push({ code: embed.model });
    if (embed.batch_size) workload.push(`${embed.model ? ', batches' : 'Batches'} of ${embed.batch_size}`);
    sections.push({
      id: 'embed',
      title: 'Embed',
      about: [...workload, `${workload.length > 0 ? '. ' : ''}Latency is per request.`],
      tables: [table(embedColumns, embed.levels)],
    });
  }
  if (result.ingest) sections.push(ingestSection(result.ingest, bottleneck));
  const settings: Array<[string, string]> = [
    ...Object.entries(result.settings).map(([key, value]): [string, string] => [key, settingText(value)]),
    ...Object.entries(result.machine).map(([key, value]): [string, string] => [
      `machine.${key}`,
      String(value),
    ]),
  ];
  sections.push({
    id: 'settings',
    title: 'Settings',
    about: [],
    tables: [table(settingColumns, settings, { kind: 'text' })],
  });
  return {
    result,
    run: describeRun(result),
    sections,
    bottleneck,
    baseline: options.comparison ? baselineReport(options.comparison, options.maxRegression) : undefined,
  };
}

function upsertSection(upsert: UpsertResult): ReportSection {
  return {
    id: 'upsert',
    title: 'Upsert',
    about: [
      `${formatCount(upsert.count)} vectors of ${upsert.dim} dimensions, batches of ${upsert.batch_size}, ` +
        `${upsert.parallel} in flight. Latency is per batch.`,
    ],
    tables: [table(upsertColumns, [upsert])],
  };
}

function ingestSection(ingest: IngestResult, bottleneck: IngestStage | undefined): ReportSection {
  const counts = [
    ingest.documents !== undefined ? `${formatCount(ingest.documents)} documents` : '',
    ingest.chunks !== undefined ? `${formatCount(ingest.chunks)} chunks` : '',
  ].filter(Boolean);
  const stages = INGEST_STAGES.map(
    (stage): StageRow => ({
      stage,
      seconds: ingest.stages[stage].seconds,
      share: ingest.stages[stage].bottleneck_share,
      bottleneck: stage === bottleneck,
    }),
  );
  const about = [
    `${counts.length > 0 ? `${counts.join(', ')}. ` : ''}Stage time is summed over concurrent requests; ` +
      'the largest share is the likely bottleneck.',
  ];
  if (ingest.tei_busy_share !== undefined) {
    about.push(
      " TEI busy share: the rise of te_backend_busy_seconds over the run, a counter of taboot's test TEI (real TEI has none).",
    );
  }
  const tei = table(teiColumns, [ingest]);
  return {
    id: 'ingest',
    title: 'Ingest',
    about,
    tables: [
      table(ingestColumns, [ingest]),
      table(stageColumns, stages, { mark: (row) => (row.bottleneck ? 'highlight' : undefined) }),
      ...(tei.headers.length > 0 ? [tei] : []),
    ],
  };
}

function baselineReport(comparison: BaselineComparison, maxRegression: number | undefined): BaselineReport {
  const regressed = comparison.regressions.length;
  const allowed = maxRegression === undefined ? '' : ` (${formatPercent(maxRegression)} allowed)`;
  const found = regressed === 0 ? 'no regression' : `${regressed} regression${regressed > 1 ? 's' : ''}`;
  return {
    verdict: `${found} in ${comparison.compared} metrics${allowed}`,
    regressed,
    regressions: comparison.regressions.map(describeRegression),
    table: table(comparisonColumns, comparison.comparisons, {
      mark: (row) => (row.regressed ? 'regressed' : undefined),
    }),
    skipped: comparison.skipped,
  };
}

/** One line for a regression: `upsert.upload_vps fell 50.0% (20000 -> 10000)`. */
export function describeRegression(comparison: MetricComparison): string {
  const verb = comparison.change < 0 ? 'fell' : 'rose';
  const value = (figure: number) =>
    Number.isInteger(figure) ? String(figure) : String(Number(figure.toPrecision(4)));
  return `${comparison.metric} ${verb} ${formatPercent(Math.abs(comparison.change))} (${value(comparison.baseline)} -> ${value(comparison.current)})`;
}

/** `taboot 0.1.0 · 2026-01-02 10:00 UTC · 16 CPUs · Node v20.20.2`. */
function describeRun(result: BenchResult): string {
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

/** The ingest stage with the largest share of the time. */
function bottleneckStage(ingest: IngestResult | undefined): IngestStage | undefined {
  const stages = ingest?.stages;
  if (!stages) return undefined;
  return INGEST_STAGES.reduce((best, stage) =>
    stages[stage].bottleneck_share > stages[best].bottleneck_share ? stage : best,
  );
}

function settingText(value: BenchSettingValue): string {
  if (value === null) return '—';
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** An inline's text without its code marking (for the terminal and charts). */
export function plainText(parts: readonly Inline[]): string {
  return parts.map((part) => (typeof part === 'string' ? part : part.code)).join('');
}
