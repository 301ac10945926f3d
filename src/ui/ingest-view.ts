import { formatCount } from '../format.js';
import { formatLocation } from '../location.js';
import type { IngestEvents } from '../pipeline/ingest.js';
import type { IngestStats } from '../pipeline/stats.js';
import { type ProgressRenderer, resolveProgressMode, startProgress } from './ingest-progress.js';
import type { Output } from './output.js';

export { renderIngestSummary } from './ingest-report.js';

/**
 * What a person sees during an ingest: progress in the requested mode, and one line per problem
 * (`file:line: reason`), printed above the bars. Each retry is a line with `--debug` and an event
 * with `--progress ndjson`; with bars and plain lines, a burst of them is one notice.
 */
export function createIngestView(output: Output, requestedMode: string) {
  const mode = resolveProgressMode(requestedMode, output);
  let progress: ProgressRenderer | undefined;
  const log = (line: string) => (progress ? progress.log(line) : output.warn(line));
  let lastIndexing = { line: '', at: Number.NEGATIVE_INFINITY };
  const events: IngestEvents & { onStart(stats: IngestStats): void; onPhase(line: string): void } = {
    onStart(stats) {
      progress = startProgress(stats, output, mode);
    },
    onWarning(line) {
      log(line);
    },
    onPhase(line) {
      if (progress) progress.log(line);
      else output.info(line);
    },
    onProblem(problem) {
      const where = formatLocation(problem);
      const field = problem.field ? ` (${problem.field})` : '';
      const verdict = problem.severity === 'error' ? 'skipped: ' : '';
      log(`${where}${field}: ${verdict}${problem.reason}`);
    },
    onFailure(failure) {
      log(`${failure.location} chunk ${failure.item.chunkIndex}: ${failure.stage} failed: ${failure.reason}`);
    },
    onPruned(source, docIds, dryRun) {
      // A dry run is asked which documents would go: name each. A real prune says how many.
      if (dryRun) for (const docId of docIds) log(`would prune ${source}: ${docId}`);
      else log(`pruned ${docIds.length} document(s) of ${source} no longer in the input`);
    },
    onIndexing(sample) {
      // One line per change of the counts, at most every 2 s: the index can take minutes.
      const line = `indexing: ${formatCount(sample.indexedVectors)} of ${formatCount(sample.points)} vectors indexed, status ${sample.status}`;
      const now = performance.now();
      if (line === lastIndexing.line || now - lastIndexing.at < 2000) return;
      lastIndexing = { line, at: now };
      log(line);
    },
    onRetry(service, event) {
      output.trace(
        `retry ${event.attempt} of a ${service} request in ${event.delayMs} ms: ${event.error.message}`,
      );
      progress?.retry(service, event);
    },
  };
  return {
    events,
    stop: (lastLine = true) => progress?.stop(lastLine),
  };
}
