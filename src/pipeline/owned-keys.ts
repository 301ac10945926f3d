import { payloadKeys } from '../qdrant/payload-keys.js';
import type { SourceDocument, SourceProblem } from '../sources/document.js';

/**
 * Payload keys whose value taboot computes for every point; a document's own field of that name
 * would be overwritten, so one that differs is refused instead (never lost silently).
 *
 * | key | what a document's own value does |
 * | --- | --- |
 * | `doc_id` | must equal the document's id (front matter `doc_id`/`id`, the JSONL id field) |
 * | `chunk_index`, `chunk_count`, `doc_hash` | refused (only lines read back from `--failed-out` carry them) |
 * | `content` | must equal the document's text (a JSONL line whose text is in `text` and also has a different `content`) |
 *
 * Three more keys are the user's to set, and taboot keeps their values:
 * `source` (the document's source, which `--prune` scopes by, instead of the ingest root's name),
 * `section` (put before the chunk's heading path: `Install > Linux > Debian`) and `title`.
 */
const computedKeys = [payloadKeys.chunkIndex, payloadKeys.chunkCount, payloadKeys.docHash] as const;

/** The problem with a document's own fields, if one sets a key taboot owns to another value. */
export function ownedKeyConflict(document: SourceDocument): SourceProblem | undefined {
  const { metadata } = document;
  const refuse = (field: string, reason: string): SourceProblem => ({
    file: document.file,
    line: document.line,
    field,
    reason: `${reason}; this document was not ingested (rename the field, or see the README's payload keys)`,
    severity: 'error',
  });
  const docId = metadata[payloadKeys.docId];
  if (docId !== undefined && String(docId) !== document.docId) {
    return refuse(
      payloadKeys.docId,
      `\`${payloadKeys.docId}\` is ${JSON.stringify(docId)}, but taboot names this document "${document.docId}"`,
    );
  }
  for (const key of computedKeys) {
    if (metadata[key] !== undefined)
      return refuse(key, `\`${key}\` is set, but taboot computes it for every chunk`);
  }
  const content = metadata[payloadKeys.content];
  if (content !== undefined && content !== document.text) {
    return refuse(payloadKeys.content, `\`${payloadKeys.content}\` differs from the document's text`);
  }
  return undefined;
}

/** The document as ingested: a `source` field of its own names its source. */
export function withOwnSource(document: SourceDocument): SourceDocument {
  const source = document.metadata[payloadKeys.source];
  return typeof source === 'string' && source.trim() !== '' && source !== document.source
    ? { ...document, source: source.trim() }
    : document;
}

/** A chunk's `section`: the document's own section, if it has one, before the chunk's heading path. */
export function sectionOf(document: SourceDocument, headingPath: string): string {
  const own = document.metadata[payloadKeys.section];
  if (typeof own !== 'string' || own.trim() === '') return headingPath;
  return headingPath === '' ? own.trim() : `${own.trim()} > ${headingPath}`;
}
