import { hash } from 'node:crypto';
import { CHUNKER_VERSION } from '../chunking/version.js';
import type { SourceDocument } from '../sources/document.js';

/** What, besides a document's own content, decides the points it becomes. */
export interface FingerprintSettings {
  chunkTokens: number;
  chunkOverlap: number;
  minChunkTokens: number;
  /** The model the collection's vectors are made with, and their size: `Qwen/Qwen3-Embedding-0.6B@1024`. */
  model: string;
}

/**
 * A document's fingerprint, stored as `doc_hash` on each of its points: sha256 over its content
 * hash (text, payload fields and any precomputed vector) and, for text to be chunked and embedded,
 * the chunker version, the chunk settings and the model. Equal fingerprints mean the points in
 * Qdrant are exactly what this run would write, so the document is skipped. A precomputed vector
 * does not depend on the chunker or the model, so they are left out of its fingerprint.
 */
export function fingerprint(document: SourceDocument, settings: FingerprintSettings): string {
  // One call with the whole input: a Hash object per document cost more than the hashing.
  if (document.vector) return hash('sha256', document.docHash);
  return hash(
    'sha256',
    `${document.docHash}\0chunker=${CHUNKER_VERSION};tokens=${settings.chunkTokens};` +
      `overlap=${settings.chunkOverlap};min=${settings.minChunkTokens};model=${settings.model}`,
  );
}
