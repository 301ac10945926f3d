import type { StoredManifest } from '../../qdrant/document-store.js';
import { payloadKeys } from '../../qdrant/payload-keys.js';
import { pointId } from '../../qdrant/point-id.js';
import type { DocumentLedger } from '../document-ledger.js';
import type { IngestRun } from '../ingest-run.js';
import type { ItemFailure, WorkItem } from '../work-item.js';
import type { ChunkedDocument } from './chunk.js';
import { DeleteBatcher, type SyncStore } from './delete-batcher.js';

type Embedded = WorkItem & { vector: Float32Array };

export interface ReconcilerOptions {
  run: IngestRun;
  /** Absent in `--dry-run`: nothing is marked or deleted. */
  store: SyncStore | undefined;
  ledger: DocumentLedger;
  /** Whether an earlier run of this source stopped midway, so that its new documents may have stray chunks. */
  recovering: (source: string) => boolean;
  /** Marks a source as being written; awaited before its first write. */
  beginSource: (source: string) => Promise<void> | undefined;
  /** Hands a point to the upsert stage (waits while it is full). */
  upsert: (item: Embedded) => Promise<void>;
}

/** One document being written: its chunks in flight, and what must follow their acknowledgement. */
interface Written {
  docId: string;
  siblingsPending: number;
  chunk0Done: boolean;
  /** Chunk 0 (the manifest) goes last, once the others are acknowledged and the surplus deleted. */
  holdsChunk0: boolean;
  held: Embedded | undefined;
  released: boolean;
  failed: boolean;
  /** Ids of stored chunks the document no longer has. */
  surplus: string[];
}

/**
 * Keeps Qdrant's copy of each document whole across changes and crashes, with this order of
 * writes for a document that already has chunks in Qdrant:
 *
 * 1. before any new chunk is sent, chunk 0 is marked as being rewritten (`markRewriting`: its
 *    fingerprint cleared, the larger chunk count recorded), when the new version has more than
 *    one chunk;
 * 2. chunks 1..n-1 are upserted;
 * 3. once they are acknowledged, the chunks it no longer has are deleted by id, in one request
 *    with other documents';
 * 4. once that is acknowledged, chunk 0 is upserted with the new fingerprint and chunk count.
 *
 * A crash before step 4 leaves a chunk 0 whose fingerprint matches no input, so the next run
 * rewrites the document and, from the recorded count, finds every chunk to delete. A new document
 * has no chunk 0 to mark; after a crash, the next run of its source deletes, by filter, any chunk
 * past its new count (`recovering`). A document that became empty has all its chunks deleted.
 */
export class Reconciler {
  private readonly written = new Map<string, Written>();
  private readonly deletes: DeleteBatcher;
  private readonly releases = new Set<Promise<void>>();
  /** Every source a document was read from, for `--prune`. */
  readonly sourcesRead = new Set<string>();

  constructor(private readonly options: ReconcilerOptions) {
    const { run, store } = options;
    this.deletes = new DeleteBatcher(run, store);
  }

  /** The first fatal error of a delete, if any: the run must stop. */
  get fatal(): unknown {
    return this.deletes.fatal;
  }

  /** True while deletes, released chunks or held chunks are outstanding. */
  get busy(): boolean {
    return this.deletes.busy || this.releases.size > 0;
  }

  /**
   * Steps 1 (and, for a recovering source, the stray-chunk delete of new documents) for a group,
   * before any of its chunks is sent. Duplicates are prepared alone, later (`prepareDuplicate`).
   */
  async prepare(group: readonly ChunkedDocument[]): Promise<void> {
    const { store, run } = this.options;
    if (!store) return;
    const sources = new Set(
      group.filter((entry) => entry.action !== 'skip').map((entry) => entry.document.source),
    );
    for (const source of sources) await this.options.beginSource(source);
    const marks: Array<{ docId: string; chunkCount: number }> = [];
    const strays: Array<{ docId: string; fromChunk: number }> = [];
    for (const { document, action, stored, items, duplicateOf } of group) {
      if (action !== 'write' || duplicateOf) continue;
      if (stored && items.length > 1) {
        marks.push({ docId: document.docId, chunkCount: Math.max(stored.chunkCount, items.length) });
      } else if (!stored && this.options.recovering(document.source)) {
        strays.push({ docId: document.docId, fromChunk: items.length });
      }
    }
    if (marks.length > 0) await this.deletes.request(() => store.markRewriting(marks));
    if (strays.length > 0) await this.deletes.request(() => store.deleteChunksFrom(strays));
    run.stats.documentsMarked += marks.length;
  }

  /**
   * A document id read again: once the earlier occurrence is settled (the caller drains first),
   * its chunk 0 is deleted so that no manifest claims a half-written document, and the chunks it
   * has beyond the new count become surplus.
   */
  async prepareDuplicate(chunked: ChunkedDocument): Promise<void> {
    const earlier = this.options.ledger.get(chunked.document.docId);
    chunked.stored = { fingerprint: '', chunkCount: earlier?.chunkCount ?? 0 };
    const store = this.options.store;
    if (store && (earlier?.chunkCount ?? 0) > 0) {
      const id = pointId(chunked.document.docId, 0);
      await this.deletes.request(() => store.deletePoints([id]));
    }
  }

  /** Starts tracking a planned document; counts it. */
  begin(chunked: ChunkedDocument): void {
    const { run, ledger } = this.options;
    const { stats } = run;
    const { document, action, stored, items } = chunked;
    stats.documents += 1;
    if (action === 'retry') return;
    this.sourcesRead.add(document.source);
    if (action === 'skip') {
      stats.documentsUnchanged += 1;
      ledger.setChunkCount(document.docId, stored?.chunkCount ?? 0);
      return;
    }
    const n = items.length;
    if (n === 0) stats.documentsEmpty += 1;
    else if (stored && !chunked.duplicateOf) stats.documentsChanged += 1;
    else if (!chunked.duplicateOf) stats.documentsNew += 1;
    ledger.setChunkCount(document.docId, n);
    const surplus = surplusIds(document.docId, n, stored);
    if (n === 0 && surplus.length === 0) return;
    const state: Written = {
      docId: document.docId,
      siblingsPending: Math.max(0, n - 1),
      chunk0Done: n === 0,
      holdsChunk0: n > 1 || surplus.length > 0,
      held: undefined,
      released: false,
      failed: false,
      surplus,
    };
    this.written.set(document.docId, state);
    if (state.siblingsPending === 0) this.ready(state);
  }

  /** Passes an embedded (or precomputed) chunk on to the upsert stage, or holds chunk 0 back. */
  async route(item: Embedded): Promise<void> {
    const state = this.written.get(item.docId);
    if (state && item.chunkIndex === 0 && state.holdsChunk0 && !state.released) {
      state.held = item;
      return;
    }
    if (state?.failed && item.chunkIndex === 0) markIncomplete(item);
    await this.options.upsert(item);
  }

  /** Called with every batch Qdrant acknowledged. */
  acknowledged(items: readonly WorkItem[]): void {
    for (const item of items) this.resolve(item, false);
  }

  /** Called with every chunk that failed for good. */
  failed(failure: ItemFailure): void {
    this.resolve(failure.item, true);
  }

  /** Sends pending deletes and waits for them and for the chunks they released. */
  async flush(): Promise<void> {
    await this.deletes.flush();
    while (this.releases.size > 0) await Promise.all(this.releases);
  }

  /** Chunks 0 still held when the run stopped: they were never sent. */
  takeHeld(): Embedded[] {
    const held: Embedded[] = [];
    for (const state of this.written.values()) {
      if (state.held) held.push(state.held);
      state.held = undefined;
    }
    return held;
  }

  private resolve(item: WorkItem, failed: boolean): void {
    const state = this.written.get(item.docId);
    if (!state) return;
    if (failed) state.failed = true;
    if (item.chunkIndex === 0) {
      state.chunk0Done = true;
    } else {
      state.siblingsPending -= 1;
      if (state.siblingsPending === 0) this.ready(state);
    }
    this.settleIfDone(state);
  }

  /** Every chunk but chunk 0 is settled: delete the surplus, then release chunk 0. */
  private ready(state: Written): void {
    if (state.surplus.length === 0) {
      this.release(state);
      return;
    }
    this.deletes.add(state.surplus, (ok) => {
      if (!ok) state.failed = true;
      if (state.chunk0Done || !ok) {
        // Nothing more to write for it (an emptied document), or the delete failed: chunk 0 must
        // not claim the document is whole.
        state.released = true;
        state.chunk0Done = true;
        state.held = undefined;
        this.settleIfDone(state);
      } else {
        this.release(state);
      }
    });
  }

  private release(state: Written): void {
    state.released = true;
    const item = state.held;
    state.held = undefined;
    if (!item) return;
    if (state.failed) markIncomplete(item);
    const sending = this.options
      .upsert(item)
      // A fatal error in the upsert stage keeps the item among its unsent ones.
      .catch(() => {})
      .finally(() => this.releases.delete(sending));
    this.releases.add(sending);
  }

  private settleIfDone(state: Written): void {
    if (state.chunk0Done && state.siblingsPending <= 0) this.written.delete(state.docId);
  }
}

/** Runs `prepare` on each group before passing it on (see `Reconciler.prepare`). */
export async function* prepareStage(
  groups: AsyncIterable<ChunkedDocument[]>,
  reconciler: Reconciler,
): AsyncGenerator<ChunkedDocument[]> {
  for await (const group of groups) {
    await reconciler.prepare(group);
    yield group;
  }
}

/** Ids of the stored chunks `n..stored-1` that a document with `n` chunks no longer has. */
function surplusIds(docId: string, n: number, stored: StoredManifest | undefined): string[] {
  const ids: string[] = [];
  for (let index = n; index < (stored?.chunkCount ?? 0); index += 1) ids.push(pointId(docId, index));
  return ids;
}

/**
 * Chunk 0 of a document some of whose chunks failed: written without its fingerprint, so that the
 * next run rewrites the whole document instead of skipping it.
 */
function markIncomplete(item: Embedded): void {
  item.payload[payloadKeys.docHash] = '';
}
