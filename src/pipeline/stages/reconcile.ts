import type { IngestedDocument, SurplusChunkDeleter } from '../../qdrant/surplus-deleter.js';
import type { IngestRun } from '../ingest-run.js';
import { withRetry } from '../retry.js';
import type { ChunkedDocument } from './chunk.js';

/** Documents per surplus-chunk delete request. */
const surplusBatch = 256;

/**
 * Brings what Qdrant holds for each ingested document in line with what was just written: chunks
 * a document no longer has are deleted, many documents per request.
 */
export class Reconciler {
  private pending: IngestedDocument[] = [];

  constructor(
    private readonly deleter: SurplusChunkDeleter | undefined,
    private readonly run: IngestRun,
  ) {}

  /** Note a document whose chunks are on their way; may send a delete request. */
  async track({ document, retried, items }: ChunkedDocument): Promise<void> {
    // A chunk read back from --failed-out is one chunk of its document, not all of it.
    if (retried || items.length === 0) return;
    this.pending.push({ docId: document.docId, chunkCount: items.length });
    if (this.pending.length >= surplusBatch) await this.flush();
  }

  /** Send what is pending. */
  async flush(): Promise<void> {
    const documents = this.pending.splice(0);
    if (!this.deleter || documents.length === 0) return;
    const { config, signal } = this.run;
    await withRetry(
      () => this.deleter!.deleteSurplus(documents),
      this.run.retryPolicy(config.ingest.maxRetries),
      { signal, onRetry: (event) => this.run.retried('qdrant', event) },
    );
  }
}
