import type { BaselineComparison } from './baseline.js';
import { escapeHtml, groupedBarChart, horizontalBarChart, lineChart } from './report-charts.js';
import {
  bottleneckStage,
  describeRun,
  embedLevelRows,
  formatChange,
  formatInteger,
  formatMs,
  formatNumber,
  formatPercent,
  formatRecall,
  formatSeconds,
  type ReportOptions,
  searchLevelRows,
  settingText,
} from './report-markdown.js';
import type {
  BenchResult,
  EmbedLevel,
  EmbedResult,
  IngestResult,
  IngestStage,
  SearchLevel,
  SearchResult,
  UpsertResult,
} from './result.js';
import { INGEST_STAGES } from './result.js';

/**
 * One self-contained HTML page for a bench result: inline CSS and SVG, no script, no font or
 * image to fetch (a Content-Security-Policy forbids loading anything), light and dark themes
 * from `prefers-color-scheme`. Every string from the result is escaped.
 */
export function renderHtml(result: BenchResult, options: ReportOptions = {}): string {
  const sections = [
    options.comparison ? baselineBanner(options.comparison, options.maxRegression) : '',
    highlights(result),
    result.upsert ? upsertSection(result.upsert) : '',
    result.search ? searchSection(result.search) : '',
    result.embed ? embedSection(result.embed) : '',
    result.ingest ? ingestSection(result.ingest, bottleneckStage(result)) : '',
    options.comparison ? comparisonSection(options.comparison) : '',
    settingsSection(result),
  ];
  const title = `taboot bench · ${result.started_at}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header><h1>taboot bench</h1><p class="meta">${escapeHtml(describeRun(result))}</p></header>
${sections.filter(Boolean).join('\n')}
<footer>taboot ${escapeHtml(result.taboot_version)} · result format v${result.version}</footer>
</main>
</body>
</html>
`;
}

function highlights(result: BenchResult): string {
  const tiles: Array<[label: string, value: string, detail: string]> = [];
  if (result.upsert) {
    const upsert = result.upsert;
    tiles.push([
      'upload',
      `${formatNumber(upsert.upload_vps)} vec/s`,
      `${formatInteger(upsert.count)} × ${upsert.dim}d`,
    ]);
    tiles.push(['upsert p99', formatMs(upsert.p99_ms), `per batch of ${upsert.batch_size}`]);
    tiles.push([
      'index build',
      formatSeconds(upsert.index_seconds),
      `${formatSeconds(upsert.total_seconds)} in all`,
    ]);
  }
  const best = result.search?.levels.reduce<SearchLevel | undefined>(
    (a, b) => (a && a.qps >= b.qps ? a : b),
    undefined,
  );
  if (best) {
    tiles.push([
      'search',
      `${formatNumber(best.qps)} QPS`,
      `concurrency ${best.concurrency}, hnsw_ef ${best.hnsw_ef}`,
    ]);
  }
  const accurate = result.search?.levels.reduce<SearchLevel | undefined>(
    (a, b) => (a && (a.hnsw_ef > b.hnsw_ef || (a.hnsw_ef === b.hnsw_ef && a.recall >= b.recall)) ? a : b),
    undefined,
  );
  if (accurate) {
    tiles.push([`recall@${accurate.k}`, formatRecall(accurate.recall), `at hnsw_ef ${accurate.hnsw_ef}`]);
  }
  const embed = result.embed?.levels.reduce<EmbedLevel | undefined>(
    (a, b) => (a && a.docs_per_second >= b.docs_per_second ? a : b),
    undefined,
  );
  if (embed) {
    tiles.push([
      'embed',
      `${formatNumber(embed.docs_per_second)} docs/s`,
      `${formatNumber(embed.tokens_per_second)} tokens/s`,
    ]);
  }
  if (result.ingest) {
    tiles.push([
      'ingest',
      `${formatNumber(result.ingest.vps)} vec/s`,
      `${formatNumber(result.ingest.docs_per_second)} docs/s`,
    ]);
    const stage = bottleneckStage(result);
    if (stage)
      tiles.push([
        'bottleneck',
        stage,
        `${formatPercent(result.ingest.stages[stage].bottleneck_share)} of stage time`,
      ]);
  }
  if (tiles.length === 0) return '';
  const items = tiles.map(
    ([label, value, detail]) =>
      `<div class="tile"><div class="tile-label">${escapeHtml(label)}</div><div class="tile-value">${escapeHtml(value)}</div><div class="tile-detail">${escapeHtml(detail)}</div></div>`,
  );
  return `<section class="tiles">${items.join('')}</section>`;
}

function upsertSection(upsert: UpsertResult): string {
  const chart = lineChart({
    title: 'Upload throughput over time',
    series: [{ name: 'vectors/s', points: upsert.timeline }],
    xLabel: 'seconds since the upload began',
    yLabel: 'vectors / s',
    formatX: (value) => `${Number(value.toFixed(1))}s`,
    area: true,
    markers: upsert.timeline.length <= 12,
    reference: { value: upsert.upload_vps, label: `mean ${formatNumber(upsert.upload_vps)}` },
  });
  const rows = [
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
  ];
  const lede = `${formatInteger(upsert.count)} vectors of ${upsert.dim} dimensions, batches of ${upsert.batch_size}, ${upsert.parallel} in flight. Latency is per batch.`;
  return section('Upsert', lede, [
    chart,
    table(['upload', 'vec/s', 'mean', 'p50', 'p95', 'p99', 'index', 'total', 'client CPU'], rows),
  ]);
}

function searchSection(search: SearchResult): string {
  const lede = `${formatInteger(search.queries)} queries against ${search.collection}.`;
  if (search.levels.length === 0) return section('Search', lede, []);
  const efs = [...new Set(search.levels.map((level) => level.hnsw_ef))].sort((a, b) => a - b);
  // With several hnsw_ef values the latency chart shows the one measured at the most concurrency levels.
  const counts = efs.map((ef) => search.levels.filter((level) => level.hnsw_ef === ef).length);
  const chartEf = efs.reduce(
    (best, ef, index) => (counts[index]! >= counts[efs.indexOf(best)]! ? ef : best),
    efs[0]!,
  );
  const latencyLevels = search.levels
    .filter((level) => level.hnsw_ef === chartEf)
    .sort((a, b) => a.concurrency - b.concurrency);
  const concurrencies = [...new Set(search.levels.map((level) => level.concurrency))].sort((a, b) => a - b);
  const charts = [
    groupedBarChart({
      title: `Search latency by concurrency${efs.length > 1 ? ` (hnsw_ef ${chartEf})` : ''}`,
      groups: latencyLevels.map((level) => ({
        label: `${level.concurrency} in flight`,
        values: [level.p50_ms, level.p95_ms, level.p99_ms],
      })),
      seriesNames: ['p50', 'p95', 'p99'],
      yLabel: 'ms',
    }),
  ];
  if (efs.length > 1) {
    charts.push(
      lineChart({
        title: 'Recall against hnsw_ef',
        series: [
          {
            name: 'recall',
            points: efs.map((ef) => {
              const atEf = search.levels.filter((level) => level.hnsw_ef === ef);
              return [ef, atEf.reduce((sum, level) => sum + level.recall, 0) / atEf.length] as const;
            }),
          },
        ],
        xLabel: 'hnsw_ef',
        yLabel: 'recall',
        xScale: 'log',
        yDomain: recallDomain(search.levels.map((level) => level.recall)),
        formatY: (value) => value.toFixed(2),
        markers: true,
      }),
      lineChart({
        title: 'Throughput against hnsw_ef',
        series: concurrencies.map((concurrency) => ({
          name: `${concurrency} in flight`,
          points: search.levels
            .filter((level) => level.concurrency === concurrency)
            .map((level) => [level.hnsw_ef, level.qps] as const),
        })),
        xLabel: 'hnsw_ef',
        yLabel: 'queries / s',
        xScale: 'log',
        markers: true,
      }),
    );
  }
  const rows = searchLevelRows(search.levels);
  return section('Search', lede, [
    `<div class="charts">${charts.join('')}</div>`,
    table(['concurrency', 'hnsw_ef', 'k', 'QPS', 'mean', 'p50', 'p95', 'p99', 'recall'], rows),
  ]);
}

/** A y range for recall that shows differences: from a tenth below the lowest value, up to 1. */
function recallDomain(values: readonly number[]): [number, number] {
  const lowest = Math.min(...values);
  return [Math.max(0, Math.floor((lowest - 0.05) * 10) / 10), 1];
}

function embedSection(embed: EmbedResult): string {
  const levels = [...embed.levels].sort((a, b) => a.concurrency - b.concurrency);
  const charts = [
    groupedBarChart({
      title: 'Embedding latency by concurrency',
      groups: levels.map((level) => ({
        label: `${level.concurrency} in flight`,
        values: [level.p50_ms, level.p95_ms, level.p99_ms],
      })),
      seriesNames: ['p50', 'p95', 'p99'],
      yLabel: 'ms',
    }),
  ];
  if (levels.length > 1) {
    charts.push(
      lineChart({
        title: 'Embedding throughput by concurrency',
        series: [
          {
            name: 'docs/s',
            points: levels.map((level) => [level.concurrency, level.docs_per_second] as const),
          },
        ],
        xLabel: 'requests in flight',
        yLabel: 'documents / s',
        xScale: 'log',
        markers: true,
      }),
    );
  }
  const rows = embedLevelRows(levels);
  const about = [embed.model, embed.batch_size ? `batches of ${embed.batch_size}` : undefined].filter(
    Boolean,
  );
  const lede = `${about.length > 0 ? `${about.join(', ')}. ` : ''}Latency is per request.`;
  return section('Embed', lede, [
    `<div class="charts">${charts.join('')}</div>`,
    table(['concurrency', 'docs/s', 'tokens/s', 'mean', 'p50', 'p95', 'p99'], rows),
  ]);
}

function ingestSection(ingest: IngestResult, bottleneck: IngestStage | undefined): string {
  const chart = horizontalBarChart(
    'Busy time per stage',
    INGEST_STAGES.map((stage) => ({
      label: stage,
      value: ingest.stages[stage].seconds,
      note: formatPercent(ingest.stages[stage].bottleneck_share),
      highlight: stage === bottleneck,
    })),
    formatSeconds,
  );
  const counts = [
    ingest.documents !== undefined ? `${formatInteger(ingest.documents)} documents` : '',
    ingest.chunks !== undefined ? `${formatInteger(ingest.chunks)} chunks` : '',
  ].filter(Boolean);
  const lede = `${counts.length > 0 ? `${counts.join(', ')}. ` : ''}Stage time is summed over concurrent requests; the largest share is the likely bottleneck.`;
  const rows = [
    [
      formatNumber(ingest.docs_per_second),
      formatNumber(ingest.chunks_per_second),
      formatNumber(ingest.vps),
      formatSeconds(ingest.index_seconds),
      formatSeconds(ingest.total_seconds),
    ],
  ];
  return section('Ingest', lede, [chart, table(['docs/s', 'chunks/s', 'vec/s', 'index', 'total'], rows)]);
}

function baselineBanner(comparison: BaselineComparison, maxRegression: number | undefined): string {
  const allowed = maxRegression === undefined ? '' : ` (${formatPercent(maxRegression)} allowed)`;
  const count = comparison.regressions.length;
  const text =
    count === 0
      ? `No regression against the baseline in ${comparison.compared} metrics${allowed}.`
      : `${count} regression${count > 1 ? 's' : ''} against the baseline in ${comparison.compared} metrics${allowed}.`;
  return `<p class="banner ${count === 0 ? 'pass' : 'fail'}">${escapeHtml(text)}</p>`;
}

function comparisonSection(comparison: BaselineComparison): string {
  const rows = comparison.comparisons.map((row) => ({
    cells: [row.metric, formatNumber(row.baseline), formatNumber(row.current), formatChange(row.change)],
    className: row.regressed ? 'regressed' : '',
  }));
  const skipped = comparison.skipped.map((entry) => `${entry.metric}: ${entry.reason}`);
  return section('Against the baseline', skipped.length > 0 ? `Not compared: ${skipped.join('; ')}.` : '', [
    table(['metric', 'baseline', 'current', 'change'], rows),
  ]);
}

function settingsSection(result: BenchResult): string {
  const machine = Object.entries(result.machine).map(([key, value]) => [`machine.${key}`, String(value)]);
  const settings = Object.entries(result.settings).map(([key, value]) => [key, settingText(value)]);
  return section('Settings', '', [table(['setting', 'value'], [...settings, ...machine], 'text')]);
}

function section(title: string, lede: string, body: readonly string[]): string {
  const intro = lede ? `<p class="lede">${escapeHtml(lede)}</p>` : '';
  return `<section><h2>${escapeHtml(title)}</h2>${intro}${body.filter(Boolean).join('')}</section>`;
}

type Row = readonly string[] | { cells: readonly string[]; className: string };

function table(
  headers: readonly string[],
  rows: readonly Row[],
  kind: 'numbers' | 'text' = 'numbers',
): string {
  const head = headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('');
  const body = rows.map((row) => {
    const cells = 'cells' in row ? row.cells : row;
    const className = 'cells' in row && row.className ? ` class="${row.className}"` : '';
    return `<tr${className}>${cells.map((value) => `<td>${escapeHtml(value)}</td>`).join('')}</tr>`;
  });
  return `<div class="table-wrap"><table class="${kind}"><thead><tr>${head}</tr></thead><tbody>${body.join('')}</tbody></table></div>`;
}

const STYLE = `
:root{--bg:#f6f7f9;--surface:#fff;--text:#1f2328;--muted:#59636e;--border:#d8dee4;--grid:#e7eaee;
--s0:#2563eb;--s1:#d97706;--s2:#dc2626;--s3:#059669;--accent:#dc2626;--pass:#1a7f37;--fail:#cf222e;}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--surface:#161b22;--text:#e6edf3;--muted:#9198a1;
--border:#30363d;--grid:#262c36;--s0:#58a6ff;--s1:#e3b341;--s2:#ff7b72;--s3:#3fb950;--accent:#ff7b72;--pass:#3fb950;--fail:#f85149;}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:32px 20px 48px}
h1{font-size:28px;margin:0}
h2{font-size:19px;margin:0 0 4px}
.meta,.lede,footer{color:var(--muted)}
.meta{margin:4px 0 24px}
.lede{margin:0 0 16px}
section{background:var(--surface);border:1px solid var(--border);border-radius:10px;padding:20px;margin:0 0 20px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px;background:none;border:0;padding:0}
.tile{background:var(--surface);border:1px solid var(--border);border-radius:10px;padding:14px 16px}
.tile-label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.06em}
.tile-value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums;margin:2px 0}
.tile-detail{color:var(--muted);font-size:13px}
.banner{border-radius:10px;padding:12px 16px;font-weight:600;margin:0 0 20px;border:1px solid}
.banner.pass{color:var(--pass);border-color:var(--pass)}
.banner.fail{color:var(--fail);border-color:var(--fail)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:24px}
figure.chart{margin:0 0 16px;max-width:760px}
figcaption{font-weight:600;margin:0 0 6px}
svg{width:100%;height:auto;display:block;overflow:visible}
svg text{fill:var(--muted);font-size:13px;font-variant-numeric:tabular-nums}
svg .axis-label{font-size:13px}
svg .value{fill:var(--text)}
.grid{stroke:var(--grid);stroke-width:1}
.axis-line{fill:none;stroke:var(--border);stroke-width:1}
.line{fill:none;stroke-width:2.5;stroke-linejoin:round;stroke-linecap:round}
.area{stroke:none;opacity:.15}
.reference{stroke:var(--muted);stroke-dasharray:5 4;stroke-width:1}
svg .reference-label{fill:var(--muted);font-size:13px;paint-order:stroke;stroke:var(--surface);stroke-width:5px;stroke-linejoin:round}
.line.series-0{stroke:var(--s0)}.line.series-1{stroke:var(--s1)}.line.series-2{stroke:var(--s2)}.line.series-3{stroke:var(--s3)}
.bar.series-0,.dot.series-0,.area.series-0,.swatch.series-0{fill:var(--s0);background:var(--s0)}
.bar.series-1,.dot.series-1,.swatch.series-1{fill:var(--s1);background:var(--s1)}
.bar.series-2,.dot.series-2,.swatch.series-2{fill:var(--s2);background:var(--s2)}
.bar.series-3,.dot.series-3,.swatch.series-3{fill:var(--s3);background:var(--s3)}
.bar.accent{fill:var(--accent)}
.dot{stroke:var(--surface);stroke-width:2}
.legend{display:flex;gap:16px;font-size:13px;color:var(--muted);margin:6px 0 0 10%}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--border);white-space:nowrap}
th{color:var(--muted);font-weight:600;text-align:right}
td{text-align:right}
th:first-child,td:first-child,table.text td,table.text th{text-align:left}
table.text td{white-space:normal;word-break:break-word}
tr.regressed td{color:var(--fail);font-weight:600}
footer{font-size:13px;text-align:center;margin-top:8px}
`;
