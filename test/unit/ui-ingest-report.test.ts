import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { IngestSummary } from '../../src/pipeline/summary.js';
import { renderIngestSummary } from '../../src/ui/ingest-report.js';
import { Output } from '../../src/ui/output.js';

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return { stream, text: () => text };
}

function render(summary: IngestSummary, json = false): string {
  const stdout = capture();
  const output = new Output({
    json,
    quiet: false,
    debug: false,
    color: false,
    stdout: stdout.stream,
    stderr: capture().stream,
  });
  renderIngestSummary(output, summary);
  return stdout.text();
}

const summary: IngestSummary = {
  collection: 'technical_docs',
  dry_run: false,
  interrupted: false,
  stopped: false,
  files: 120,
  files_read: 120,
  documents: 120,
  new: 120,
  changed: 0,
  unchanged: 0,
  empty: 0,
  duplicates: 0,
  pruned: 0,
  chunks: 4_210,
  vectors: 4_210,
  precomputed: 0,
  embedded: 4_210,
  embed_requests: 140,
  chunks_deleted: 0,
  delete_requests: 0,
  skipped: 0,
  failed: 0,
  warnings: 0,
  retries: 4,
  tokens_estimated: 1_128_000,
  tokens_counted: 1_140_500,
  truncated: 0,
  wall_seconds: 47.2,
  mean_vps: 89,
  peak_vps: 131,
  peak_window_s: 5,
  stage_seconds: {
    read: 0.42,
    chunk: 0.9,
    embed: 152.3,
    upsert: 8.5,
    delete: 0,
    tei_queue: 61.2,
    tei_inference: 88.7,
  },
  embed_wait_seconds: 1.2,
  failed_out: undefined,
  peak_rss_mb: 84,
};

describe('the ingest summary', () => {
  it('labels busy time as such, shows the peak window, TEI time and peak RSS', () => {
    expect(render(summary)).toBe(
      [
        'ingested into collection technical_docs',
        '  files      120',
        '  documents  120: 120 new',
        '  chunks     4,210',
        '  vectors    4,210',
        '  vec/s      89 mean, 131 peak over 5 s',
        '  skipped    0',
        '  failed     0',
        '  tokens     1,128,000 estimated, 1,140,500 counted by the embedder',
        '  retries    4',
        '  wall time  47.2 s',
        '  busy time  read 420 ms, chunk 900 ms, embed 2m 32s, upsert 8.5 s (summed over requests in flight)',
        '  TEI time   queue 1m 01s, inference 1m 28s; left idle 1.2 s with chunks waiting',
        '  peak RSS   84 MiB',
        '',
      ].join('\n'),
    );
  });

  it('shows only the mean for a run no longer than the peak window, and n/a for TEI times not reported', () => {
    const short: IngestSummary = {
      ...summary,
      retries: 0,
      wall_seconds: 2.1,
      mean_vps: 2_000,
      peak_vps: 2_000,
      stage_seconds: {
        read: 0.1,
        chunk: 0.2,
        embed: 3.1,
        upsert: 2.6,
        delete: 0,
        tei_queue: null,
        tei_inference: null,
      },
    };
    const lines = render(short).split('\n');
    expect(lines).toContain('  vec/s      2,000 mean (too short a run for a peak over 5 s)');
    expect(lines).toContain(
      '  TEI time   queue n/a, inference n/a (not reported by the embedder); left idle 1.2 s with chunks waiting',
    );
    expect(lines).toContain(
      '  busy time  read 100 ms, chunk 200 ms, embed 3.1 s, upsert 2.6 s (summed over requests in flight)',
    );
  });

  it('shows read and chunk time, and no rates, for a dry run', () => {
    const lines = render({ ...summary, dry_run: true, vectors: 0, mean_vps: 0, peak_vps: 0 }).split('\n');
    expect(lines[0]).toBe('dry run for collection technical_docs (nothing sent)');
    expect(lines).toContain('  busy time  read 420 ms, chunk 900 ms (summed over requests in flight)');
    expect(lines.some((line) => /vec\/s|TEI time|failed/.test(line))).toBe(false);
    expect(lines).toContain('  peak RSS   84 MiB');
  });

  it('prints the summary object alone with --json, null where TEI reported nothing', () => {
    const parsed = JSON.parse(
      render(
        { ...summary, stage_seconds: { ...summary.stage_seconds, tei_queue: null, tei_inference: null } },
        true,
      ),
    ) as IngestSummary;
    expect(parsed.stage_seconds.tei_queue).toBeNull();
    expect(parsed.peak_rss_mb).toBe(84);
    expect(parsed.peak_window_s).toBe(5);
  });
});
