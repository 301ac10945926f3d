import { type Chunk, chunkMarkdown } from '../../chunking/markdown-chunker.js';
import { estimateTokens } from '../../chunking/tokens.js';
import { pointId } from '../../qdrant/point-id.js';
import type { SourceDocument } from '../../sources/document.js';
import type { IngestRun } from '../ingest-run.js';
import { buildPayload } from '../payload.js';
import { precomputedItem } from '../precomputed/prepared.js';
import type { WorkItem } from '../work-item.js';
import type { PlannedDocument } from './plan.js';

/** The longest the chunker runs before letting other work in, ms. */
const sliceMs = 10;

/** A planned document and the chunks it will be written as. */
export interface ChunkedDocument extends PlannedDocument {
  items: WorkItem[];
}

/**
 * Cuts each document to write into work items: Markdown and text by the chunker, a precomputed
 * vector as one point of the whole text, a chunk retried from `--failed-out` as itself. A skipped
 * document is not chunked at all. Each point's payload carries the document's fingerprint.
 */
export async function* chunkStage(
  groups: AsyncIterable<PlannedDocument[]>,
  run: IngestRun,
): AsyncGenerator<ChunkedDocument[]> {
  const { stats } = run;
  for await (const group of groups) {
    const chunked: ChunkedDocument[] = [];
    let started = performance.now();
    for (const plan of group) {
      chunked.push({ ...plan, items: plan.action === 'skip' ? [] : workItemsFor(plan, run.chunking) });
      // A group takes the chunker a while: let the embedder's answers in, so its queue never drains.
      if (performance.now() - started >= sliceMs) {
        stats.chunkMs += performance.now() - started;
        await new Promise((resolve) => setImmediate(resolve));
        started = performance.now();
      }
    }
    stats.chunkMs += performance.now() - started;
    yield chunked;
  }
}

function workItemsFor(
  { document, retried, fingerprint }: PlannedDocument,
  settings: { chunkTokens: number; chunkOverlap: number; minChunkTokens: number },
): WorkItem[] {
  if (retried) {
    const restored = {
      ...document,
      source: retried.source,
      docHash: retried.docHash,
      metadata: retried.metadata,
    };
    const chunk = { chunkIndex: retried.chunkIndex, text: document.text, section: retried.section };
    return [workItem(restored, chunk, retried.chunkCount, estimateTokens(document.text))];
  }
  // A precomputed vector belongs to the whole text: it is one point, never re-chunked.
  if (document.vector)
    return [precomputedItem(document as typeof document & { vector: Float32Array }, fingerprint)];
  const fingerprinted = { ...document, docHash: fingerprint };
  const chunks = chunkMarkdown(document.text, { ...settings, format: document.format });
  return chunks.map((chunk) => workItem(fingerprinted, chunk, chunks.length, chunk.estimatedTokens));
}

function workItem(
  document: SourceDocument,
  chunk: Pick<Chunk, 'chunkIndex' | 'text' | 'section'>,
  chunkCount: number,
  estimatedTokens: number,
): WorkItem {
  return {
    file: document.file,
    line: document.line,
    docId: document.docId,
    chunkIndex: chunk.chunkIndex,
    text: chunk.text,
    payload: buildPayload(document, chunk, chunkCount),
    pointId: pointId(document.docId, chunk.chunkIndex),
    estimatedTokens,
    vector: document.vector,
  };
}
