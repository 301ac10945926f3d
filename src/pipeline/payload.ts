import type { Chunk } from '../chunking/markdown-chunker.js';
import type { PayloadValue } from '../qdrant/point-encoder.js';
import type { SourceDocument } from '../sources/document.js';
import { sectionOf } from './owned-keys.js';

/**
 * A chunk's payload (DESIGN section 3): the document's metadata (front matter, extra JSONL
 * fields) plus taboot's own keys (`owned-keys.ts` says which a document may set). `created_at`
 * arrives as Unix seconds from the readers.
 */
export function buildPayload(
  document: SourceDocument,
  chunk: Pick<Chunk, 'chunkIndex' | 'text' | 'section'>,
  chunkCount: number,
): Record<string, PayloadValue> {
  const payload: Record<string, PayloadValue> = {};
  for (const [key, value] of Object.entries(document.metadata)) {
    const converted = toPayloadValue(value);
    if (converted !== undefined) payload[key] = converted;
  }
  payload.doc_id = document.docId;
  payload.source = document.source;
  payload.chunk_index = chunk.chunkIndex;
  payload.chunk_count = chunkCount;
  payload.doc_hash = document.docHash;
  payload.content = chunk.text;
  payload.section = sectionOf(document, chunk.section);
  if (document.title !== undefined) payload.title = document.title;
  return payload;
}

/** JSON and YAML values as Qdrant payload: dates become ISO strings, undefined is dropped. */
export function toPayloadValue(value: unknown): PayloadValue | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return Number(value);
    case 'object': {
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
      if (Array.isArray(value)) {
        return value.map((item) => toPayloadValue(item)).filter((item) => item !== undefined);
      }
      const object: Record<string, PayloadValue> = {};
      for (const [key, inner] of Object.entries(value)) {
        const converted = toPayloadValue(inner);
        if (converted !== undefined) object[key] = converted;
      }
      return object;
    }
    default:
      return undefined;
  }
}
