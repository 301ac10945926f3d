import { formatBytes, formatCount, formatDuration } from '../format.js';
import type { IngestSummary } from '../pipeline/summary.js';
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
      : summary.stopped
        ? `stopped: collection ${summary.collection} has what was acknowledged below`
        : `ingested into collection ${summary.collection}`;
  const rows: Array<[string, string]> = [
    ['files', describeFiles(summary)],
    ['documents', describeDocuments(summary)],
    ['chunks', describeChunks(summary)],
  ];
  if (!summary.dry_run) {
    rows.push(['vectors', formatCount(summary.vectors)]);
    rows.push(['vec/s', describeRates(summary)]);
  }
  const deleted = describeDeleted(summary);
  if (deleted) rows.push(['deleted', deleted]);
  rows.push(['skipped', colourIf(summary.skipped > 0, c.yellow, formatCount(summary.skipped))]);
  if (!summary.dry_run)
    rows.push(['failed', colourIf(summary.failed > 0, c.red, formatCount(summary.failed))]);
  const counted =
    summary.tokens_counted > 0 ? `, ${formatCount(summary.tokens_counted)} counted by the embedder` : '';
  rows.push(['tokens', `${formatCount(summary.tokens_estimated)} estimated${counted}`]);
  if (summary.truncated > 0)
    rows.push(['truncated', `${formatCount(summary.truncated)} chunks over TEI's input limit`]);
  if (summary.retries > 0) rows.push(['retries', formatCount(summary.retries)]);
  rows.push(['wall time', formatDuration(summary.wall_seconds * 1000)]);
  if (summary.index_seconds !== undefined)
    rows.push(['indexing', `${formatDuration(summary.index_seconds * 1000)} after the load (--bulk)`]);
  const stages = summary.stage_seconds;
  const busy = [`read ${seconds(stages.read)}`, `chunk ${seconds(stages.chunk)}`];
  if (!summary.dry_run) busy.push(`embed ${seconds(stages.embed)}`, `upsert ${seconds(stages.upsert)}`);
  if (summary.delete_requests > 0) busy.push(`delete ${seconds(stages.delete)}`);
  // Embed and upsert overlap their requests, so their busy time can exceed the wall time.
  rows.push(['busy time', `${busy.join(', ')} ${c.dim('(summed over requests in flight)')}`]);
  if (!summary.dry_run) rows.push(['TEI time', describeTeiTime(summary)]);
  rows.push(['peak RSS', `${formatCount(summary.peak_rss_mb)} MiB`]);
  if (summary.reindex) rows.push(['alias', describeReindex(summary.reindex)]);
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
  const sizes = estimate.chunks;
  output.result(output.c.bold('chunk sizes (estimated tokens)'));
  output.result(
    `  min ${formatCount(sizes.min)}, median ${formatCount(sizes.median)}, p95 ${formatCount(sizes.p95)}, max ${formatCount(sizes.max)}`,
  );
  output.result(
    `  ${formatCount(sizes.headingOnly)} heading-only, ${formatCount(sizes.tiny)} under the minimum, ${formatCount(sizes.overBudget)} over the budget`,
  );
  output.result(output.c.bold('largest chunks (estimated tokens)'));
  for (const chunk of estimate.largest_chunks) {
    const section = chunk.section ? `  ${chunk.section}` : '';
    output.result(`  ${String(chunk.tokens).padStart(6)}  ${chunk.docId}#${chunk.chunkIndex}${section}`);
  }
}

/** `docs -> docs_20261130T044812Z (was docs_20261129T020000Z; deleted 1 older)` or why it was left. */
function describeReindex(reindex: NonNullable<IngestSummary['reindex']>): string {
  if (!reindex.switched)
    return `${reindex.alias} left as it was (${reindex.collection} not finished, deleted)`;
  const was = reindex.previous ? `was ${reindex.previous}` : 'new alias';
  const deleted = reindex.deleted.length > 0 ? `; deleted ${reindex.deleted.length} older` : '';
  return `${reindex.alias} -> ${reindex.collection} (${was}${deleted})`;
}

/** `120 found, 87 read` (all read: just the count). */
function describeFiles(summary: IngestSummary): string {
  if (summary.files_read >= summary.files) return formatCount(summary.files);
  return `${formatCount(summary.files)} found, ${formatCount(summary.files_read)} read`;
}

/** `120: 3 new, 2 changed, 110 unchanged, 5 empty, 1 duplicate`, naming only what occurred. */
function describeDocuments(summary: IngestSummary): string {
  const parts = (
    [
      [summary.new, 'new'],
      [summary.changed, 'changed'],
      [summary.unchanged, 'unchanged'],
      [summary.empty, 'empty'],
      [summary.duplicates, summary.duplicates === 1 ? 'duplicate' : 'duplicates'],
    ] as const
  )
    .filter(([count]) => count > 0)
    .map(([count, label]) => `${formatCount(count)} ${label}`);
  const total = formatCount(summary.documents);
  return parts.length > 0 ? `${total}: ${parts.join(', ')}` : total;
}

/** `4,210 (1,000 precomputed)`: how many came with a vector, when any did. */
function describeChunks(summary: IngestSummary): string {
  const total = formatCount(summary.chunks);
  return summary.precomputed > 0 ? `${total} (${formatCount(summary.precomputed)} precomputed)` : total;
}

/** `12 stale chunks, 3 pruned documents`, or nothing when nothing was deleted. */
function describeDeleted(summary: IngestSummary): string | undefined {
  const parts: string[] = [];
  if (summary.chunks_deleted > 0) parts.push(`${formatCount(summary.chunks_deleted)} stale chunks`);
  if (summary.pruned > 0) {
    const verb = summary.dry_run ? 'would be pruned' : 'pruned';
    parts.push(`${formatCount(summary.pruned)} documents ${verb}`);
  }
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** `1,234 mean, 2,345 peak over 5 s`; a run no longer than the peak window has only a mean. */
function describeRates(summary: IngestSummary): string {
  const mean = `${formatCount(summary.mean_vps)} mean`;
  const window = `${formatCount(summary.peak_window_s)} s`;
  if (summary.wall_seconds <= summary.peak_window_s)
    return `${mean} (too short a run for a peak over ${window})`;
  return `${mean}, ${formatCount(summary.peak_vps)} peak over ${window}`;
}

/**
 * TEI's own queue and inference time, or `n/a` where TEI sent no timing headers (not 0); then how
 * long it was left without work while chunks waited, which says whether TEI or taboot set the pace.
 */
function describeTeiTime(summary: IngestSummary): string {
  const stages = summary.stage_seconds;
  const figure = (value: number | null) => (value === null ? 'n/a' : seconds(value));
  const note =
    stages.tei_queue === null && stages.tei_inference === null ? ' (not reported by the embedder)' : '';
  const idle =
    summary.embedded > 0 ? `; left idle ${seconds(summary.embed_wait_seconds)} with chunks waiting` : '';
  return `queue ${figure(stages.tei_queue)}, inference ${figure(stages.tei_inference)}${note}${idle}`;
}

function seconds(value: number): string {
  return formatDuration(value * 1000);
}

function colourIf(condition: boolean, colour: (text: string) => string, text: string): string {
  return condition ? colour(text) : text;
}
