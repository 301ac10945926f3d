import { describe, expect, it } from 'vitest';
import { compareWithBaseline } from '../../src/bench/baseline.js';
import { escapeHtml, ticks } from '../../src/bench/report/charts.js';
import { benchReport, plainText, type ReportOptions } from '../../src/bench/report/model.js';
import { benchRenderers } from '../../src/bench/report/renderers.js';
import type { BenchResult } from '../../src/bench/result.js';

const renderMarkdown = (result: BenchResult, options?: ReportOptions) =>
  benchRenderers.markdown(benchReport(result, options));
const renderHtml = (result: BenchResult, options?: ReportOptions) =>
  benchRenderers.html(benchReport(result, options));

function sample(): BenchResult {
  return {
    version: 1,
    taboot_version: '0.1.0',
    started_at: '2026-01-02T10:00:00.000Z',
    machine: { cpus: 16, node: 'v20.20.2', cpu_model: 'AMD EPYC' },
    settings: { qdrant_url: 'http://localhost:6334', seed: 1, levels: [1, 4] },
    upsert: {
      count: 100_000,
      dim: 1024,
      batch_size: 500,
      parallel: 4,
      upload_seconds: 5,
      upload_vps: 20_000,
      mean_ms: 90.5,
      p50_ms: 80,
      p95_ms: 150,
      p99_ms: 200,
      index_seconds: 30,
      total_seconds: 35,
      client_cpu_share: 0.42,
      timeline: [
        [1, 18_000],
        [2, 21_000],
        [3, 20_500],
        [4, 19_000],
        [5, 21_500],
      ],
    },
    search: {
      collection: 'bench',
      queries: 1000,
      levels: [16, 64, 128].flatMap((ef) =>
        [1, 4].map((concurrency) => ({
          concurrency,
          hnsw_ef: ef,
          qps: (concurrency * 5000) / ef,
          mean_ms: ef / 50,
          p50_ms: ef / 60,
          p95_ms: ef / 30,
          p99_ms: ef / 20,
          recall: 1 - 2 / ef,
          k: 10,
        })),
      ),
    },
    embed: {
      model: 'Qwen/Qwen3-Embedding-0.6B',
      batch_size: 32,
      levels: [1, 2, 4].map((concurrency) => ({
        concurrency,
        docs_per_second: 300 * concurrency,
        tokens_per_second: 90_000 * concurrency,
        mean_ms: 100,
        p50_ms: 95,
        p95_ms: 130,
        p99_ms: 150,
      })),
    },
    ingest: {
      documents: 300,
      chunks: 5000,
      docs_per_second: 50,
      chunks_per_second: 800,
      vps: 800,
      stages: {
        read: { seconds: 0.5, bottleneck_share: 0.05 },
        chunk: { seconds: 0.5, bottleneck_share: 0.05 },
        embed: { seconds: 8, bottleneck_share: 0.8 },
        upsert: { seconds: 1, bottleneck_share: 0.1 },
      },
      index_seconds: 2,
      total_seconds: 8,
    },
  };
}

describe('renderMarkdown', () => {
  it('renders one table per section with formatted values', () => {
    const markdown = renderMarkdown(sample());
    for (const heading of ['## taboot bench', '### Upsert', '### Search', '### Embed', '### Ingest']) {
      expect(markdown).toContain(heading);
    }
    expect(markdown).toContain('| 5 s | 20,000 | 90.5 ms | 80 ms | 150 ms | 200 ms | 30 s | 35 s | 42.0% |');
    expect(markdown).toContain('| 4 | 128 | 10 | 156 | 2.56 ms | 2.13 ms | 4.27 ms | 6.4 ms | 0.984 |');
    expect(markdown).toContain('| **embed (bottleneck)** | 8 s | 80.0% |');
    expect(markdown).toContain('| levels | 1, 4 |');
  });

  it('leaves out sections that did not run', () => {
    const result = sample();
    delete result.search;
    delete result.embed;
    const markdown = renderMarkdown(result);
    expect(markdown).not.toContain('### Search');
    expect(markdown).not.toContain('### Embed');
  });

  it('escapes names that would break a table or inject HTML', () => {
    const result = sample();
    result.search!.collection = 'a|b`<img>';
    result.settings = { 'x|y': '<script>alert(1)</script>' };
    const markdown = renderMarkdown(result);
    expect(markdown).toContain("`a\\|b'<img>`");
    expect(markdown).toContain('| x\\|y | &lt;script&gt;alert(1)&lt;/script&gt; |');
    expect(markdown).not.toContain('<script>');
  });

  it('puts the baseline verdict first, with the regressions', () => {
    const baseline = sample();
    baseline.upsert!.upload_vps = 40_000;
    const comparison = compareWithBaseline(sample(), baseline);
    const markdown = renderMarkdown(sample(), { comparison, maxRegression: 0.1 });
    expect(markdown.indexOf('### Baseline')).toBeLessThan(markdown.indexOf('### Upsert'));
    expect(markdown).toContain(`❌ 1 regression in ${comparison.compared} metrics (10.0% allowed).`);
    expect(markdown).toContain('| `upsert.upload_vps` | 40,000 | 20,000 | -50.0% ❌ |');
    const clean = renderMarkdown(sample(), { comparison: compareWithBaseline(sample(), sample()) });
    expect(clean).toContain('✅ No regression');
  });
});

describe('renderHtml', () => {
  it('is one page with inline SVG charts for every section', () => {
    const html = renderHtml(sample());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<svg');
    expect(html).toContain('Upload throughput over time');
    expect(html).toContain('Search latency by concurrency (hnsw_ef 128)');
    expect(html).toContain('Recall against hnsw_ef');
    expect(html).toContain('Busy time per stage');
    expect(html).toContain('Embedding latency by concurrency');
    expect(html).toContain('prefers-color-scheme:dark');
    expect((html.match(/<svg /g) ?? []).length).toBe(7);
  });

  it('references nothing outside itself', () => {
    const html = renderHtml(sample());
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(|src=|href=/i);
    // The setting is still shown, as text.
    expect(html).toContain('http:&#47;&#47;localhost:6334');
  });

  it('escapes a script tag in a collection name', () => {
    const result = sample();
    result.search!.collection = '<script>alert("x")</script>';
    result.embed!.model = '"><svg onload=alert(1)>';
    const html = renderHtml(result);
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<svg onload');
  });

  it('renders a result with a single section and empty levels', () => {
    const result = sample();
    delete result.upsert;
    delete result.embed;
    delete result.ingest;
    result.search!.levels = [];
    const html = renderHtml(result);
    expect(html).toContain('<h2>Search</h2>');
    expect(html).not.toContain('<h2>Upsert</h2>');
  });

  it('shows the baseline verdict and marks regressed rows', () => {
    const baseline = sample();
    baseline.search!.levels[0]!.qps = 1_000_000;
    const html = renderHtml(sample(), {
      comparison: compareWithBaseline(sample(), baseline),
      maxRegression: 0.1,
    });
    expect(html).toContain('class="banner fail"');
    expect(html).toMatch(
      /<tr class="regressed"><td><code>search\.levels\[concurrency=1,hnsw_ef=16\]\.qps<\/code><\/td>/,
    );
  });
});

describe('report helpers', () => {
  it('choose round tick values', () => {
    expect(ticks(0, 100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(ticks(0, 25_000)).toEqual([0, 5000, 10_000, 15_000, 20_000, 25_000]);
    expect(ticks(0.6, 1)).toEqual([0.6, 0.7, 0.8, 0.9, 1]);
  });

  it('escape the five HTML specials and URL schemes', () => {
    expect(escapeHtml(`<a href="x">'&'</a> https://e`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; https:&#47;&#47;e',
    );
  });
});

describe('one report model for every format', () => {
  it('shows every table of the model, headers and cells, in the terminal, Markdown and HTML alike', () => {
    const report = benchReport(sample());
    const text = benchRenderers.table(report);
    const markdown = benchRenderers.markdown(report);
    const html = benchRenderers.html(report);
    const figures = report.sections.filter((section) => section.id !== 'settings');
    expect(figures.map((section) => section.title)).toEqual(['Upsert', 'Search', 'Embed', 'Ingest']);
    for (const section of figures) {
      for (const table of section.tables) {
        for (const header of table.headers) {
          expect(text).toContain(header);
          expect(markdown).toContain(header);
          expect(html).toContain(`<th>${escapeHtml(header)}</th>`);
        }
        for (const row of table.rows) {
          for (const cell of row.cells) {
            const value = plainText([cell]);
            expect(text).toContain(value);
            expect(markdown).toContain(value);
            expect(html).toContain(escapeHtml(value));
          }
        }
      }
    }
  });

  it('marks the bottleneck stage in each format', () => {
    const report = benchReport(sample());
    expect(report.bottleneck).toBe('embed');
    const style = { bold: (text: string) => `<b>${text}</b>`, dim: (text: string) => text };
    expect(benchRenderers.table(report, style)).toMatch(/<b> {2}embed \(bottleneck\) +8 s +80\.0%<\/b>/);
    expect(benchRenderers.html(report)).toContain('<tr class="highlight"><td>embed (bottleneck)</td>');
  });

  it("shows TEI's queue, inference and busy share only where the run measured them, naming the busy counter", () => {
    const bare = benchReport(sample());
    expect(benchRenderers.markdown(bare)).not.toContain('TEI');
    const result = sample();
    Object.assign(result.ingest!, {
      tei_queue_seconds: 1.5,
      tei_inference_seconds: 6,
      tei_busy_share: 0.913,
    });
    const report = benchReport(result);
    const tei = report.sections.find((section) => section.id === 'ingest')!.tables[2]!;
    expect(tei.headers).toEqual(['TEI queue', 'TEI inference', 'TEI busy share']);
    expect(tei.rows[0]!.cells).toEqual(['1.5 s', '6 s', '91.3%']);
    for (const rendered of [benchRenderers.table(report), benchRenderers.markdown(report)]) {
      expect(rendered).toContain('te_backend_busy_seconds');
      expect(rendered).toContain('real TEI has none');
    }
    delete result.ingest!.tei_busy_share;
    expect(
      benchReport(result).sections.find((section) => section.id === 'ingest')!.tables[2]!.headers,
    ).toEqual(['TEI queue', 'TEI inference']);
  });

  it('states the baseline verdict once for every format', () => {
    const baseline = sample();
    baseline.upsert!.upload_vps = 40_000;
    const report = benchReport(sample(), {
      comparison: compareWithBaseline(sample(), baseline),
      maxRegression: 0.1,
    });
    expect(report.baseline!.verdict).toMatch(/^1 regression in \d+ metrics \(10\.0% allowed\)$/);
    expect(report.baseline!.regressions).toEqual(['upsert.upload_vps fell 50.0% (40000 -> 20000)']);
    expect(benchRenderers.markdown(report)).toContain(`❌ 1 regression in`);
    expect(benchRenderers.html(report)).toContain(`Baseline: ${report.baseline!.verdict}.`);
  });

  it('lists the machine with the settings and leaves empty tables out', () => {
    const result = sample();
    result.search!.levels = [];
    const markdown = benchRenderers.markdown(benchReport(result));
    expect(markdown).toContain('| machine.cpu_model | AMD EPYC |');
    expect(markdown).not.toContain('| concurrency | hnsw_ef |');
  });
});
