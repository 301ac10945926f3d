import { create } from '@bufbuild/protobuf';
import {
  type Condition,
  ConditionSchema,
  DeletePointsSchema,
  type Filter,
  FilterSchema,
  GetPointsSchema,
  type PointId,
  PointIdSchema,
  type PointsSelector,
  ScrollPointsSchema,
  SetPayloadPointsSchema,
  type Value,
  ValueSchema,
} from '@qdrant/js-client-grpc';
import type { Qdrant } from './client.js';
import { payloadKeys } from './payload-keys.js';
import { pointId } from './point-id.js';

/** What Qdrant holds of a document, from its chunk 0 (the manifest). */
export interface StoredManifest {
  /** `doc_hash`: the fingerprint the document was last completely written with; '' while being rewritten. */
  fingerprint: string;
  /** `chunk_count`: the chunks the document has (or, while being rewritten, may have). */
  chunkCount: number;
}

/** Where a listing of documents goes on from: opaque to callers. */
export type DocumentCursor = { readonly offset: unknown };

export interface DocumentPage {
  docIds: string[];
  next: DocumentCursor | undefined;
}

/** What sync needs from Qdrant besides upserts (see `QdrantDocumentStore`); a fake in tests. */
export interface DocumentStore {
  readManifests(docIds: readonly string[]): Promise<Map<string, StoredManifest>>;
  markRewriting(documents: ReadonlyArray<{ docId: string; chunkCount: number }>): Promise<void>;
  deletePoints(ids: readonly string[]): Promise<void>;
  deleteChunksFrom(documents: ReadonlyArray<{ docId: string; fromChunk: number }>): Promise<void>;
  deleteDocuments(docIds: readonly string[]): Promise<void>;
  /**
   * One page of the ids of `source`'s documents that have a chunk 0 (with `anyChunk`, of any chunk:
   * an id may then repeat across pages); `next` continues it.
   */
  documentPage(
    source: string,
    cursor: DocumentCursor | undefined,
    options?: { anyChunk?: boolean },
  ): Promise<DocumentPage>;
  barrier(): Promise<void>;
}

/** Ids per `Points/Get` and per delete request: one request each, well under any size limit. */
const idsPerRequest = 1000;

/**
 * What sync needs from Qdrant besides upserts: read documents' manifests, mark documents as being
 * rewritten, delete chunks and documents, list a source's documents, and wait until everything
 * sent is applied. Requests address points by id wherever possible (a lookup per id); only
 * pruning and crash recovery filter by payload, which scans unless `doc_id`, `source` and
 * `chunk_index` have payload indexes. Writes are sent with `wait=false`, like upserts; `barrier`
 * waits for all of them.
 */
export class QdrantDocumentStore implements DocumentStore {
  /** Settles once every write sent before this store's first manifest read is applied. */
  private earlierWrites: Promise<void> | undefined;

  constructor(
    private readonly qdrant: Qdrant,
    private readonly collectionName: string,
  ) {}

  /**
   * The manifests of those documents that have a chunk 0 in the collection. The first read waits
   * (`barrier`) until every write Qdrant acknowledged before it is applied: a run killed with
   * writes still queued (its marks, say) would otherwise have them applied after this read, over
   * documents this run took for unchanged and skipped, and this run would end with them marked
   * as being rewritten.
   */
  async readManifests(docIds: readonly string[]): Promise<Map<string, StoredManifest>> {
    this.earlierWrites ??= this.barrier().catch((error: unknown) => {
      this.earlierWrites = undefined;
      throw error;
    });
    await this.earlierWrites;
    const manifests = new Map<string, StoredManifest>();
    for (const part of slices(docIds, idsPerRequest)) {
      const request = create(GetPointsSchema, {
        collectionName: this.collectionName,
        ids: part.map((docId) => uuidId(pointId(docId, 0))),
        withPayload: {
          selectorOptions: {
            case: 'include',
            value: { fields: [payloadKeys.docId, payloadKeys.docHash, payloadKeys.chunkCount] },
          },
        },
        withVectors: { selectorOptions: { case: 'enable', value: false } },
      });
      const response = await this.qdrant.call(`read manifests from ${this.collectionName}`, (apis) =>
        apis.points.get(request),
      );
      for (const point of response.result) {
        const docId = stringOf(point.payload[payloadKeys.docId]);
        if (docId === undefined) continue;
        manifests.set(docId, {
          fingerprint: stringOf(point.payload[payloadKeys.docHash]) ?? '',
          chunkCount: integerOf(point.payload[payloadKeys.chunkCount]) ?? 1,
        });
      }
    }
    return manifests;
  }

  /**
   * Marks documents as being rewritten before any of their new chunks is sent: chunk 0 loses its
   * fingerprint and records the larger of the old and new chunk counts, so that a crash in the
   * middle leaves a document the next run rewrites, and whose every chunk it can find. One request
   * per distinct count.
   */
  async markRewriting(documents: ReadonlyArray<{ docId: string; chunkCount: number }>): Promise<void> {
    const byCount = new Map<number, string[]>();
    for (const { docId, chunkCount } of documents) {
      const ids = byCount.get(chunkCount) ?? [];
      ids.push(pointId(docId, 0));
      byCount.set(chunkCount, ids);
    }
    for (const [chunkCount, ids] of byCount) {
      for (const part of slices(ids, idsPerRequest)) {
        const request = create(SetPayloadPointsSchema, {
          collectionName: this.collectionName,
          wait: false,
          payload: {
            [payloadKeys.docHash]: stringValue(''),
            [payloadKeys.chunkCount]: integerValue(chunkCount),
          },
          pointsSelector: idsSelector(part),
        });
        await this.qdrant.call(`mark documents in ${this.collectionName} as being rewritten`, (apis) =>
          apis.points.setPayload(request),
        );
      }
    }
  }

  /** Deletes points by id (chunks documents no longer have). */
  async deletePoints(ids: readonly string[]): Promise<void> {
    for (const part of slices(ids, idsPerRequest)) {
      await this.delete(`delete chunks from ${this.collectionName}`, idsSelector(part), false);
    }
  }

  /**
   * Deletes each document's chunks from `fromChunk` on, by filter: for documents whose chunk 0 is
   * missing after a crash, so that their chunk count is not known. Scans without payload indexes.
   */
  async deleteChunksFrom(documents: ReadonlyArray<{ docId: string; fromChunk: number }>): Promise<void> {
    for (const part of slices(documents, idsPerRequest)) {
      const filter = create(FilterSchema, {
        should: part.map(({ docId, fromChunk }) =>
          nestedFilter([
            keywordMatch(payloadKeys.docId, docId),
            rangeFrom(payloadKeys.chunkIndex, fromChunk),
          ]),
        ),
      });
      await this.delete(`delete stray chunks from ${this.collectionName}`, filterSelector(filter), false);
    }
  }

  /** Deletes every chunk of these documents (`--prune`). */
  async deleteDocuments(docIds: readonly string[]): Promise<void> {
    for (const part of slices(docIds, idsPerRequest)) {
      const filter = create(FilterSchema, {
        must: [
          create(ConditionSchema, {
            conditionOneOf: {
              case: 'field',
              value: {
                key: payloadKeys.docId,
                match: { matchValue: { case: 'keywords', value: { strings: [...part] } } },
              },
            },
          }),
        ],
      });
      await this.delete(`prune documents from ${this.collectionName}`, filterSelector(filter), false);
    }
  }

  async documentPage(
    source: string,
    cursor: DocumentCursor | undefined,
    options: { anyChunk?: boolean } = {},
  ): Promise<DocumentPage> {
    const must = [keywordMatch(payloadKeys.source, source)];
    if (!options.anyChunk) must.push(integerMatch(payloadKeys.chunkIndex, 0));
    const request = create(ScrollPointsSchema, {
      collectionName: this.collectionName,
      filter: create(FilterSchema, { must }),
      offset: cursor?.offset as PointId | undefined,
      limit: idsPerRequest,
      withPayload: { selectorOptions: { case: 'include', value: { fields: [payloadKeys.docId] } } },
      withVectors: { selectorOptions: { case: 'enable', value: false } },
    });
    const response = await this.qdrant.call(`list documents of ${this.collectionName}`, (apis) =>
      apis.points.scroll(request),
    );
    const docIds = response.result
      .map((point) => stringOf(point.payload[payloadKeys.docId]))
      .filter((id): id is string => id !== undefined);
    return { docIds, next: response.nextPageOffset ? { offset: response.nextPageOffset } : undefined };
  }

  /**
   * Returns once every write sent before it is applied and visible to searches. A `wait=false`
   * write is acknowledged once it is in Qdrant's write-ahead log; each shard applies its writes in
   * order. A payload update selected by a filter reaches every shard (ids would reach only their
   * own), and with `wait=true` answers only once each shard has applied everything queued before
   * it. The filter is an empty `has_id`, which no point matches and which Qdrant answers without
   * reading a point or needing a payload index; the payload set is empty, so a filter built wrong
   * could still change nothing.
   */
  async barrier(): Promise<void> {
    const request = create(SetPayloadPointsSchema, {
      collectionName: this.collectionName,
      wait: true,
      payload: {},
      pointsSelector: filterSelector(
        create(FilterSchema, {
          must: [create(ConditionSchema, { conditionOneOf: { case: 'hasId', value: { hasId: [] } } })],
        }),
      ),
    });
    await this.qdrant.call(`wait for writes to ${this.collectionName} to be applied`, (apis) =>
      apis.points.setPayload(request),
    );
  }

  private async delete(what: string, points: PointsSelector, wait: boolean): Promise<void> {
    const request = create(DeletePointsSchema, { collectionName: this.collectionName, wait, points });
    await this.qdrant.call(what, (apis) => apis.points.delete(request));
  }
}

function* slices<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}

function uuidId(uuid: string): PointId {
  return create(PointIdSchema, { pointIdOptions: { case: 'uuid', value: uuid } });
}

function idsSelector(ids: readonly string[]): PointsSelector {
  return { pointsSelectorOneOf: { case: 'points', value: { ids: ids.map(uuidId) } } } as PointsSelector;
}

function filterSelector(filter: Filter): PointsSelector {
  return { pointsSelectorOneOf: { case: 'filter', value: filter } } as PointsSelector;
}

function keywordMatch(key: string, value: string): Condition {
  return create(ConditionSchema, {
    conditionOneOf: { case: 'field', value: { key, match: { matchValue: { case: 'keyword', value } } } },
  });
}

function integerMatch(key: string, value: number): Condition {
  return create(ConditionSchema, {
    conditionOneOf: {
      case: 'field',
      value: { key, match: { matchValue: { case: 'integer', value: BigInt(value) } } },
    },
  });
}

function rangeFrom(key: string, from: number): Condition {
  return create(ConditionSchema, {
    conditionOneOf: { case: 'field', value: { key, range: { gte: from } } },
  });
}

function nestedFilter(must: Condition[]): Condition {
  return create(ConditionSchema, {
    conditionOneOf: { case: 'filter', value: create(FilterSchema, { must }) },
  });
}

function stringValue(value: string): Value {
  return create(ValueSchema, { kind: { case: 'stringValue', value } });
}

function integerValue(value: number): Value {
  return create(ValueSchema, { kind: { case: 'integerValue', value: BigInt(value) } });
}

function stringOf(value: Value | undefined): string | undefined {
  return value?.kind.case === 'stringValue' ? value.kind.value : undefined;
}

function integerOf(value: Value | undefined): number | undefined {
  if (value?.kind.case === 'integerValue') return Number(value.kind.value);
  if (value?.kind.case === 'doubleValue') return Math.trunc(value.kind.value);
  return undefined;
}
