import { formatCount, formatNumber, formatPercent } from '../../format.js';
import type { EmbedLevel, IngestResult, SearchLevel, SearchResult, UpsertResult } from '../result.js';
import { INGEST_STAGES } from '../result.js';
import { escapeHtml, groupedBarChart, horizontalBarChart, lineChart } from './charts.js';
import { STYLE } from './html-style.js';
import type { BaselineReport, BenchReport, Inline, ReportSection, ReportTable } from './model.js';

/**
 * One self-contained HTML page for a bench report: inline CSS and SVG, no script, no font or
 * image to fetch (a Content-Security-Policy forbids loading anything), light and dark themes
 * from `prefers-color-scheme`. Highlights and charts are drawn from the result; every table is
 * the report's. Every string from the result is escaped.
 */
export function renderHtml(report: BenchReport): string {
  const { result } = report;
  const sections = report.sections.filter((section) => section.id !== 'settings');
  const settings = report.sections.filter((section) => section.id === 'settings');
  const body = [
    report.baseline ? baselineBanner(report.baseline) : '',
    highlights(report),
    ...sections.map((section) => sectionHtml(section, charts(section, report))),
    report.baseline ? comparisonSection(report.baseline) : '',
    ...settings.map((section) => sectionHtml(section, [])),
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
<header><h1>taboot bench</h1><p class="meta">${escapeHtml(report.run)}</p></header>
${body.filter(Boolean).join('\n')}
<footer>taboot ${escapeHtml(result.taboot_version)} · result format v${result.version}</footer>
</main>
</body>
</html>
`;
}

/** The charts above a section's tables. */
function charts(section: ReportSection, report: BenchReport): string[] {
  const { result } = report;
  if (section.id === 'upsert' && result.upsert) return [upsertChart(result.upsert)];
  if (section.id === 'search' && result.search) return searchCharts(result.search);
  if (section.id === 'embed' && result.embed) return embedCharts(result.embed.levels);
  if (section.id === 'ingest' && result.ingest) return [ingestChart(result.ingest, report.bottleneck)];
  return [];
}

/** The headline figure of each section, as tiles above the details. */
function highlights(report: BenchReport): string {
  const { result } = report;
  const tiles: Array<[label: string, value: string, detail: string]> = [];
  if (result.upsert) {
    const upsert = result.upsert;
    tiles.push([
      'upload',
      `${formatNumber(upsert.upload_vps)} vec/s`,
      `${formatCount(upsert.count)} × ${upsert.dim}d`,
    ]);
    tiles.push(['upsert p99', `${formatNumber(upsert.p99_ms)} ms`, `per batch of ${upsert.batch_size}`]);
    tiles.push([
      'index build',
      `${formatNumber(upsert.index_seconds)} s`,
      `${formatNumber(upsert.total_seconds)} s in all`,
    ]);
  }
  const fastest = best(result.search?.levels, (a, b) => a.qps >= b.qps);
  if (fastest) {
    tiles.push([
      'search',
      `${formatNumber(fastest.qps)} QPS`,
      `concurrency ${fastest.concurrency}, hnsw_ef ${fastest.hnsw_ef}`,
    ]);
  }
  const accurate = best(
    result.search?.levels,
    (a, b) => a.hnsw_ef > b.hnsw_ef || (a.hnsw_ef === b.hnsw_ef && a.recall >= b.recall),
  );
  if (accurate) {
    tiles.push([`recall@${accurate.k}`, accurate.recall.toFixed(3), `at hnsw_ef ${accurate.hnsw_ef}`]);
  }
  const embed = best(result.embed?.levels, (a, b) => a.docs_per_second >= b.docs_per_second);
  if (embed) {
    tiles.push([
      'embed',
      `${formatNumber(embed.docs_per_second)} docs/s`,
      `${formatNumber(embed.tokens_per_second)} tokens/s`,
    ]);
  }
  if (result.ingest) {
    const ingest = result.ingest;
    tiles.push([
      'ingest',
      `${formatNumber(ingest.vps)} vec/s`,
      `${formatNumber(ingest.docs_per_second)} docs/s`,
    ]);
    if (report.bottleneck) {
      const share = ingest.stages[report.bottleneck].bottleneck_share;
      tiles.push(['bottleneck', report.bottleneck, `${formatPercent(share)} of stage time`]);
    }
    if (ingest.tei_busy_share !== undefined) {
      tiles.push(['TEI busy', formatPercent(ingest.tei_busy_share), 'of the run (test TEI counter)']);
    }
  }
  if (tiles.length === 0) return '';
  const items = tiles.map(
    ([label, value, detail]) =>
      `<div class="tile"><div class="tile-label">${escapeHtml(label)}</div><div class="tile-value">${escapeHtml(value)}</div><div class="tile-detail">${escapeHtml(detail)}</div></div>`,
  );
  return `<section class="tiles">${items.join('')}</section>`;
}

/** The level `better(a, b)` prefers over all others. */
function best<Level>(levels: readonly Level[] | undefined, better: (a: Level, b: Level) => boolean) {
  return levels?.reduce<Level | undefined>((a, b) => (a && better(a, b) ? a : b), undefined);
}

function upsertChart(upsert: UpsertResult): string {
  return lineChart({
    title: 'Upload throughput over time',
    series: [{ name: 'vectors/s', points: upsert.timeline }],
    xLabel: 'seconds since the upload began',
    yLabel: 'vectors / s',
    formatX: (value) => `${Number(value.toFixed(1))}s`,
    area: true,
    markers: upsert.timeline.length <= 12,
    reference: { value: upsert.upload_vps, label: `mean ${formatNumber(upsert.upload_vps)}` },
  });
}

function searchCharts(search: SearchResult): string[] {
  if (search.levels.length === 0) return [];
  const efs = [...new Set(search.levels.map((level) => level.hnsw_ef))].sort((a, b) => a - b);
  // With several hnsw_ef values the latency chart shows the one measured at the most concurrency levels.
  const counts = efs.map((ef) => search.levels.filter((level) => level.hnsw_ef === ef).length);
  const chartEf = efs.reduce(
    (chosen, ef, index) => (counts[index]! >= counts[efs.indexOf(chosen)]! ? ef : chosen),
    efs[0]!,
  );
  const latencyLevels = search.levels
    .filter((level) => level.hnsw_ef === chartEf)
    .sort((a, b) => a.concurrency - b.concurrency);
  const concurrencies = [...new Set(search.levels.map((level) => level.concurrency))].sort((a, b) => a - b);
  const result = [
    latencyChart(
      `Search latency by concurrency${efs.length > 1 ? ` (hnsw_ef ${chartEf})` : ''}`,
      latencyLevels,
    ),
  ];
  if (efs.length > 1) {
    result.push(
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
  return [`<div class="charts">${result.join('')}</div>`];
}

/** A y range for recall that shows differences: from a tenth below the lowest value, up to 1. */
function recallDomain(values: readonly number[]): [number, number] {
  const lowest = Math.min(...values);
  return [Math.max(0, Math.floor((lowest - 0.05) * 10) / 10), 1];
}

/** p50, p95 and p99 per concurrency level, as grouped bars. */
function latencyChart(title: string, levels: readonly (SearchLevel | EmbedLevel)[]): string {
  return groupedBarChart({
    title,
    groups: levels.map((level) => ({
      label: `${level.concurrency} in flight`,
      values: [level.p50_ms, level.p95_ms, level.p99_ms],
    })),
    seriesNames: ['p50', 'p95', 'p99'],
    yLabel: 'ms',
  });
}

function embedCharts(unsorted: readonly EmbedLevel[]): string[] {
  const levels = [...unsorted].sort((a, b) => a.concurrency - b.concurrency);
  const result = [latencyChart('Embedding latency by concurrency', levels)];
  if (levels.length > 1) {
    result.push(
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
  return [`<div class="charts">${result.join('')}</div>`];
}

function ingestChart(ingest: IngestResult, bottleneck: string | undefined): string {
  return horizontalBarChart(
    'Busy time per stage',
    INGEST_STAGES.map((stage) => ({
      label: stage,
      value: ingest.stages[stage].seconds,
      note: formatPercent(ingest.stages[stage].bottleneck_share),
      highlight: stage === bottleneck,
    })),
    (value) => `${formatNumber(value)} s`,
  );
}

function baselineBanner(baseline: BaselineReport): string {
  const passed = baseline.regressed === 0;
  return `<p class="banner ${passed ? 'pass' : 'fail'}">${escapeHtml(`Baseline: ${baseline.verdict}.`)}</p>`;
}

function comparisonSection(baseline: BaselineReport): string {
  const skipped = baseline.skipped.map((entry) => `${entry.metric}: ${entry.reason}`);
  return sectionHtml(
    {
      id: 'settings',
      title: 'Against the baseline',
      about: skipped.length > 0 ? [`Not compared: ${skipped.join('; ')}.`] : [],
      tables: [baseline.table],
    },
    [],
  );
}

function sectionHtml(section: ReportSection, charts: readonly string[]): string {
  const intro = section.about.length > 0 ? `<p class="lede">${inline(section.about)}</p>` : '';
  const tables = section.tables.filter((table) => table.rows.length > 0).map(tableHtml);
  return `<section><h2>${escapeHtml(section.title)}</h2>${intro}${[...charts, ...tables].join('')}</section>`;
}

function tableHtml(table: ReportTable): string {
  const head = table.headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('');
  const body = table.rows.map((row) => {
    const className = row.mark ? ` class="${row.mark}"` : '';
    return `<tr${className}>${row.cells.map((cell) => `<td>${inline([cell])}</td>`).join('')}</tr>`;
  });
  return `<div class="table-wrap"><table class="${table.kind}"><thead><tr>${head}</tr></thead><tbody>${body.join('')}</tbody></table></div>`;
}

function inline(parts: readonly Inline[]): string {
  return parts
    .map((part) => (typeof part === 'string' ? escapeHtml(part) : `<code>${escapeHtml(part.code)}</code>`))
    .join('');
}
