/**
 * The payload keys taboot writes on every point (DESIGN section 3). Sync reads them back: `doc_hash`
 * and `chunk_count` on chunk 0 are a document's manifest, `doc_id`, `source` and `chunk_index`
 * select a document's or a source's points.
 */
export const payloadKeys = {
  docId: 'doc_id',
  source: 'source',
  chunkIndex: 'chunk_index',
  chunkCount: 'chunk_count',
  /** The document's fingerprint: its text, payload, chunking settings and embedding model. */
  docHash: 'doc_hash',
  content: 'content',
  section: 'section',
  title: 'title',
} as const;

/** Fields that sync filters on: without a payload index, each filter scans the collection. */
export const syncIndexedFields = [payloadKeys.docId, payloadKeys.source, payloadKeys.chunkIndex] as const;

/**
 * The line to show when a collection lacks payload indexes sync filters on, or nothing. `indexed`
 * names the fields that have one.
 */
export function missingSyncIndexes(collection: string, indexed: Iterable<string>): string | undefined {
  const have = new Set(indexed);
  const missing = syncIndexedFields.filter((field) => !have.has(field));
  if (missing.length === 0) return undefined;
  return (
    `collection ${collection} has no payload index on ${missing.join(', ')}: --prune and the clean-up ` +
    'after an interrupted run filter by them, and without an index each such request scans every point ' +
    `(add them to collection.payloadIndexes and run taboot collection create --update)`
  );
}
