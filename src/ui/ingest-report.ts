import type { IngestSummary } from '../pipeline/summary.js';
import { formatBytes, formatCount, formatDuration } from './format.js';
import type { Output } from './output.js';

/** The end-of-run summary: a short table for people, one JSON object with `--json`. */
export function renderIngestSummary(output: Output, summary: IngestSummary): void {
  output.data(summary);
  if (output.json) return;
  const c = output.c;
  const title = summary.dry_run
    ? `dry run for collection ${summary.collection} (nothing sent)`
    : summary.interrupted
      ? `interrupted: collection ${summary.collection} has what was acknowledged below`
      : `ingested into collection ${summary.collection}`;
  const rows: Array<[string, string]> = [
    ['files', formatCount(summary.files)],
    ['documents', formatCount(summary.documents)],
    ['chunks', formatCount(summary.chunks)],
  ];
  if (!summary.dry_run) {
    rows.push(['vectors', formatCount(summary.vectors)]);
    rows.push(['vec/s', `${formatCount(summary.mean_vps)} mean, ${formatCount(summary.peak_vps)} peak`]);
  }
  rows.push(['skipped', colourIf(summary.skipped > 0, c.yellow, formatCount(summary.skipped))]);
  if (!summary.dry_run)
    rows.push(['failed', colourIf(summary.failed > 0, c.red, formatCount(summary.failed))]);
  const counted = summary.tokens_counted > 0 ? `, ${formatCount(summary.tokens_counted)} counted by TEI` : '';
  rows.push(['tokens', `${formatCount(summary.tokens_estimated)} estimated${counted}`]);
  if (summary.truncated > 0)
    rows.push(['truncated', `${formatCount(summary.truncated)} chunks over TEI's input limit`]);
  if (summary.retries > 0) rows.push(['retries', formatCount(summary.retries)]);
  rows.push(['wall time', formatDuration(summary.wall_seconds * 1000)]);
  const stages = summary.stage_seconds;
  rows.push([
    'stage time',
    `read ${formatDuration(stages.read * 1000)}, chunk ${formatDuration(stages.chunk * 1000)}` +
      (summary.dry_run
        ? ''
        : `, embed ${formatDuration(stages.embed * 1000)} (TEI queue ${formatDuration(stages.tei_queue * 1000)}, ` +
          `inference ${formatDuration(stages.tei_inference * 1000)}), upsert ${formatDuration(stages.upsert * 1000)}`),
  ]);
  if (summary.failed_out)
    rows.push(['failed-out', `${summary.failed_out.count} chunks in ${summary.failed_out.path}`]);

  output.result(c.bold(title));
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) output.result(`  ${label.padEnd(width)}  ${value}`);
  if (summary.estimate) renderEstimate(output, summary.estimate);
}

function renderEstimate(output: Output, estimate: NonNullable<IngestSummary['estimate']>): void {
  const { collection } = estimate;
  output.result('');
  output.result(output.c.bold('requests'));
  output.result(
    `  ${formatBytes(estimate.request_bytes)} of upsert requests, largest ${formatBytes(estimate.largest_request_bytes)}`,
  );
  output.result(output.c.bold(`collection estimate (${formatCount(collection.points)} points)`));
  output.result(`  vectors      ${formatBytes(collection.vectorBytes)} float32`);
  output.result(`  int8 copy    ${formatBytes(collection.quantizedBytes)}`);
  output.result(`  HNSW graph   ${formatBytes(collection.graphBytes)}`);
  output.result(`  payload      ${formatBytes(collection.payloadBytes)}`);
  output.result(`  RAM ~${formatBytes(collection.ramBytes)}, disk ~${formatBytes(collection.diskBytes)}`);
  output.result(output.c.bold('largest chunks (estimated tokens)'));
  for (const chunk of estimate.largest_chunks) {
    const section = chunk.section ? `  ${chunk.section}` : '';
    output.result(`  ${String(chunk.tokens).padStart(6)}  ${chunk.docId}#${chunk.chunkIndex}${section}`);
  }
}

function colourIf(condition: boolean, colour: (text: string) => string, text: string): string {
  return condition ? colour(text) : text;
}
