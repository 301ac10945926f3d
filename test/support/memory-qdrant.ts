import { ServiceError } from '../../src/errors.js';
import type {
  DocumentCursor,
  DocumentPage,
  DocumentStore,
  StoredManifest,
} from '../../src/qdrant/document-store.js';
import type { EncodablePoint, PayloadValue } from '../../src/qdrant/point-encoder.js';
import { pointId } from '../../src/qdrant/point-id.js';
import type { PointSink } from '../../src/qdrant/point-sink.js';

export interface StoredPoint {
  id: string;
  vector: Float32Array;
  payload: Record<string, PayloadValue | undefined>;
}

/** One write as the store applied it, in order. */
export type Operation =
  | { kind: 'upsert'; ids: string[] }
  | { kind: 'mark'; ids: string[]; chunkCount: number }
  | { kind: 'delete'; ids: string[] }
  | { kind: 'delete-from'; docIds: string[] }
  | { kind: 'delete-documents'; docIds: string[] }
  | { kind: 'metadata'; keys: string[] };

/**
 * A collection held in memory with the semantics sync relies on (Get by id, set payload on ids,
 * delete by id or by `doc_id`/`chunk_index`, scroll a source's chunk 0s, metadata merged key by
 * key), serving both the point sink and the document store, so that unit tests can drive the
 * whole pipeline and compare collections point by point. `crashAfter(n)` makes it apply n more
 * writes and then refuse everything, as if the process driving it had been killed: what was
 * applied stays, nothing after it lands.
 */
export class MemoryQdrant implements PointSink, DocumentStore {
  readonly points = new Map<string, StoredPoint>();
  metadata: Record<string, unknown> = {};
  readonly log: Operation[] = [];
  private writesLeft = Number.POSITIVE_INFINITY;
  calls = { upsert: 0, get: 0, delete: 0, mark: 0 };

  /** Apply `writes` more writes, then fail every request for good. */
  crashAfter(writes: number): void {
    this.writesLeft = writes;
  }

  /** Back to normal: the next run talks to a healthy server holding what was applied. */
  recover(): void {
    this.writesLeft = Number.POSITIVE_INFINITY;
  }

  async upsert(points: readonly EncodablePoint[]): Promise<number> {
    this.write();
    this.calls.upsert += 1;
    for (const point of points) {
      this.points.set(String(point.id), {
        id: String(point.id),
        vector: Float32Array.from(point.vector),
        payload: structuredClone({ ...point.payload }),
      });
    }
    this.log.push({ kind: 'upsert', ids: points.map((point) => String(point.id)) });
    return points.length * 100;
  }

  pointBytes(): number {
    return 100;
  }

  async close(): Promise<void> {}

  async readManifests(docIds: readonly string[]): Promise<Map<string, StoredManifest>> {
    this.read();
    this.calls.get += 1;
    const manifests = new Map<string, StoredManifest>();
    for (const docId of docIds) {
      const point = this.points.get(pointId(docId, 0));
      if (!point) continue;
      manifests.set(docId, {
        fingerprint: String(point.payload.doc_hash ?? ''),
        chunkCount: Number(point.payload.chunk_count ?? 1),
      });
    }
    return manifests;
  }

  async markRewriting(documents: ReadonlyArray<{ docId: string; chunkCount: number }>): Promise<void> {
    this.write();
    this.calls.mark += 1;
    for (const { docId, chunkCount } of documents) {
      const point = this.points.get(pointId(docId, 0));
      if (!point)
        throw new ServiceError('qdrant', 'memory', `NOT_FOUND No point with id ${pointId(docId, 0)}`);
      point.payload.doc_hash = '';
      point.payload.chunk_count = chunkCount;
      this.log.push({ kind: 'mark', ids: [point.id], chunkCount });
    }
  }

  async deletePoints(ids: readonly string[]): Promise<void> {
    this.write();
    this.calls.delete += 1;
    for (const id of ids) this.points.delete(id);
    this.log.push({ kind: 'delete', ids: [...ids] });
  }

  async deleteChunksFrom(documents: ReadonlyArray<{ docId: string; fromChunk: number }>): Promise<void> {
    this.write();
    this.calls.delete += 1;
    for (const { docId, fromChunk } of documents) {
      for (const [id, point] of this.points) {
        if (point.payload.doc_id === docId && Number(point.payload.chunk_index) >= fromChunk)
          this.points.delete(id);
      }
    }
    this.log.push({ kind: 'delete-from', docIds: documents.map((document) => document.docId) });
  }

  async deleteDocuments(docIds: readonly string[]): Promise<void> {
    this.write();
    this.calls.delete += 1;
    const gone = new Set(docIds);
    for (const [id, point] of this.points) if (gone.has(String(point.payload.doc_id))) this.points.delete(id);
    this.log.push({ kind: 'delete-documents', docIds: [...docIds] });
  }

  /** Pages of two in id order, going on after the last id seen (as Qdrant's scroll offset does), to exercise the cursor. */
  async documentPage(
    source: string,
    cursor: DocumentCursor | undefined,
    options: { anyChunk?: boolean } = {},
  ): Promise<DocumentPage> {
    this.read();
    const after = cursor?.offset as string | undefined;
    const points = [...this.points.values()]
      .filter((point) => point.payload.source === source)
      .filter((point) => options.anyChunk || Number(point.payload.chunk_index) === 0)
      .filter((point) => after === undefined || point.id > after)
      .sort((a, b) => a.id.localeCompare(b.id));
    const page = points.slice(0, 2);
    return {
      docIds: page.map((point) => String(point.payload.doc_id)),
      next: points.length > 2 ? { offset: page[1]!.id } : undefined,
    };
  }

  async barrier(): Promise<void> {
    this.read();
  }

  async writeMetadata(entries: Record<string, unknown>): Promise<void> {
    this.write();
    this.metadata = { ...this.metadata, ...structuredClone(entries) };
    this.log.push({ kind: 'metadata', keys: Object.keys(entries) });
  }

  /** Every point as `id -> {payload, vector}`, for comparing two collections. */
  snapshot(): Map<string, { payload: Record<string, unknown>; vector: number[] }> {
    const snapshot = new Map<string, { payload: Record<string, unknown>; vector: number[] }>();
    for (const [id, point] of [...this.points].sort(([a], [b]) => a.localeCompare(b))) {
      snapshot.set(id, { payload: { ...point.payload }, vector: Array.from(point.vector) });
    }
    return snapshot;
  }

  private write(): void {
    this.read();
    this.writesLeft -= 1;
  }

  private read(): void {
    if (this.writesLeft < 0) {
      throw new ServiceError('qdrant', 'memory', 'PERMISSION_DENIED the process was killed', {
        code: 'PERMISSION_DENIED',
      });
    }
  }
}
