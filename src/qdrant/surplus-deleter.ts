import { create } from '@bufbuild/protobuf';
import { DeletePointsSchema, type Filter, FilterSchema } from '@qdrant/js-client-grpc';
import type { Qdrant } from './client.js';

/** A document as just ingested: its points are chunk 0 .. chunkCount - 1. */
export interface IngestedDocument {
  docId: string;
  chunkCount: number;
}

/**
 * Removes chunks a document no longer has. A document that shrank from 12 chunks to 9 leaves
 * points 9..11 from the earlier run; they would turn up in search as stale text. Deleting
 * `chunk_index >= chunkCount` for the document never touches the chunks being written (they are
 * all below), so it is safe to send at any time, and many documents share one request.
 */
export interface SurplusChunkDeleter {
  deleteSurplus(documents: readonly IngestedDocument[]): Promise<void>;
}

/** `Points/Delete` by filter: one `should` clause per document, on the `doc_id` and `chunk_index` payload. */
export function surplusFilter(documents: readonly IngestedDocument[]): Filter {
  return create(FilterSchema, {
    should: documents.map((document) => ({
      conditionOneOf: {
        case: 'filter' as const,
        value: {
          must: [
            {
              conditionOneOf: {
                case: 'field' as const,
                value: {
                  key: 'doc_id',
                  match: { matchValue: { case: 'keyword' as const, value: document.docId } },
                },
              },
            },
            {
              conditionOneOf: {
                case: 'field' as const,
                value: { key: 'chunk_index', range: { gte: document.chunkCount } },
              },
            },
          ],
        },
      },
    })),
  });
}

export class QdrantSurplusDeleter implements SurplusChunkDeleter {
  constructor(
    private readonly qdrant: Qdrant,
    private readonly collectionName: string,
  ) {}

  async deleteSurplus(documents: readonly IngestedDocument[]): Promise<void> {
    if (documents.length === 0) return;
    const request = create(DeletePointsSchema, {
      collectionName: this.collectionName,
      wait: false,
      points: { pointsSelectorOneOf: { case: 'filter', value: surplusFilter(documents) } },
    });
    await this.qdrant.call('delete surplus chunks', (apis) => apis.points.delete(request));
  }
}
