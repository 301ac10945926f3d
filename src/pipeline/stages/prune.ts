import type { DocumentCursor, DocumentStore } from '../../qdrant/document-store.js';
import type { DocumentLedger } from '../document-ledger.js';
import type { IngestRun } from '../ingest-run.js';
import { withRetry } from '../retry.js';

/**
 * `--prune`: deletes the stored documents of the sources this run read that the run did not read
 * (files deleted from disk, lines gone from a JSONL). Never touches another source. Refused when
 * the run could not read all of its input (skipped files or lines, failed chunks, an interruption),
 * since a document that merely failed to read would then be deleted. Without `deleteDocuments`
 * (`--dry-run`), only lists what would go.
 */
export async function pruneStage(
  store: Pick<DocumentStore, 'documentPage'> & Partial<Pick<DocumentStore, 'deleteDocuments'>>,
  sources: Iterable<string>,
  ledger: DocumentLedger,
  run: IngestRun,
  /**
   * A source left over from a crash may hold chunks of a document whose chunk 0 was never written
   * and whose file is gone since: its documents are listed from every chunk, not chunk 0 alone.
   */
  recovering: (source: string) => boolean = () => false,
): Promise<void> {
  const dryRun = store.deleteDocuments === undefined;
  const { stats, events } = run;
  if (stats.skipped > 0 || stats.failed > 0 || run.signal.aborted) {
    events.onWarning?.(
      'not pruning: some input was skipped, failed or not read, and its documents would be deleted; ' +
        'fix the input (see above) and run again',
    );
    return;
  }
  const retryPolicy = run.retryPolicy(run.config.ingest.maxRetries);
  const retried = <T>(operation: () => Promise<T>) =>
    withRetry(operation, retryPolicy, {
      signal: run.signal,
      onRetry: (event) => run.retried('qdrant', event),
    });
  for (const source of sources) {
    let cursor: DocumentCursor | undefined;
    do {
      const page = await retried(() => store.documentPage(source, cursor, { anyChunk: recovering(source) }));
      cursor = page.next;
      const gone = [...new Set(page.docIds)].filter((docId) => !ledger.has(docId));
      if (gone.length === 0) continue;
      if (!dryRun) {
        const started = performance.now();
        await retried(() => store.deleteDocuments!(gone));
        stats.deleteRequests += 1;
        stats.deleteMs += performance.now() - started;
      }
      stats.documentsPruned += gone.length;
      events.onPruned?.(source, gone, dryRun);
    } while (cursor !== undefined);
  }
}
