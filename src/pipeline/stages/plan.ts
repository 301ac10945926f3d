import type { SourceDocument } from '../../sources/document.js';
import { asRetriedChunk, type RetriedChunk } from '../failed-chunks.js';

/** A document with what the run will do with it. */
export interface PlannedDocument {
  document: SourceDocument;
  /** A chunk read back from `--failed-out`: one chunk of its document, written under its old identity. */
  retried: RetriedChunk | undefined;
}

/** Decides, for each document read, what the rest of the pipeline does with it. */
export async function* planStage(documents: AsyncIterable<SourceDocument>): AsyncGenerator<PlannedDocument> {
  for await (const document of documents) {
    yield { document, retried: asRetriedChunk(document) };
  }
}
