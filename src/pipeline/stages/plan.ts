import type { StoredManifest } from '../../qdrant/document-store.js';
import type { SourceDocument } from '../../sources/document.js';
import type { DocumentLedger, LedgerEntry } from '../document-ledger.js';
import { asRetriedChunk, type RetriedChunk } from '../failed-chunks.js';
import { fingerprint } from '../fingerprint.js';
import type { IngestRun } from '../ingest-run.js';
import { ownedKeyConflict, withOwnSource } from '../owned-keys.js';

/**
 * What the run does with a document. `skip`: Qdrant already holds exactly what this run would
 * write. `write`: chunk, embed and upsert it, then bring its stored chunks in line. `retry`: a chunk
 * read back from `--failed-out`, written alone under its old identity.
 */
export type PlanAction = 'write' | 'skip' | 'retry';

export interface PlannedDocument {
  document: SourceDocument;
  action: PlanAction;
  /** The fingerprint its points carry as `doc_hash` ('' for a retried chunk, which keeps its own). */
  fingerprint: string;
  /** What Qdrant holds of the document before this write, when it holds its chunk 0. */
  stored: StoredManifest | undefined;
  retried: RetriedChunk | undefined;
  /** Set when this run read the same document id before: this occurrence replaces that one. */
  duplicateOf: LedgerEntry | undefined;
}

export interface PlanContext {
  run: IngestRun;
  ledger: DocumentLedger;
  /** Reads stored manifests; absent when nothing can be stored yet (a dry run, an empty collection). */
  readManifests: ((docIds: readonly string[]) => Promise<Map<string, StoredManifest>>) | undefined;
  /** The model key of the fingerprint, learned when the first document to embed is planned. */
  model: () => Promise<string>;
  /** `--reembed`: rewrite every document even when its fingerprint is unchanged. */
  rewriteAll: boolean;
  /**
   * The most documents per manifest read (the first groups of a run are smaller), and the most
   * text a group holds in memory.
   */
  groupDocuments?: number;
  groupBytes?: number;
}

const defaultGroupDocuments = 1000;
const defaultGroupBytes = 16 * 1024 * 1024;
const firstGroupDocuments = 16;

/**
 * Decides, for each document read, what the rest of the pipeline does with it, a group of
 * documents at a time: one `Points/Get` of the group's chunk-0 manifests, so that a document whose
 * fingerprint Qdrant already holds is skipped before it is chunked or embedded. A document id read
 * twice is reported; the later occurrence is written over the earlier one (the last wins).
 */
export async function* planStage(
  documents: AsyncIterable<SourceDocument>,
  context: PlanContext,
): AsyncGenerator<PlannedDocument[]> {
  const maxDocuments = context.groupDocuments ?? defaultGroupDocuments;
  const maxBytes = context.groupBytes ?? defaultGroupBytes;
  // The embedder waits for the first group: start small, then grow to the full size.
  let limit = Math.min(firstGroupDocuments, maxDocuments);
  let group: SourceDocument[] = [];
  let bytes = 0;
  for await (const document of documents) {
    group.push(document);
    bytes += document.text.length;
    if (group.length >= limit || bytes >= maxBytes) {
      yield await planGroup(group, context);
      group = [];
      bytes = 0;
      limit = Math.min(limit * 2, maxDocuments);
    }
  }
  if (group.length > 0) yield await planGroup(group, context);
}

/**
 * What a group weighs against a full one (its documents or its text, whichever is nearer the
 * limit): for reading ahead of the embedder by a bounded amount.
 */
export function groupShare(group: readonly PlannedDocument[]): number {
  let bytes = 0;
  for (const entry of group) bytes += entry.document.text.length;
  return Math.max(group.length / defaultGroupDocuments, bytes / defaultGroupBytes);
}

async function planGroup(group: SourceDocument[], context: PlanContext): Promise<PlannedDocument[]> {
  const { ledger, run } = context;
  const planned: PlannedDocument[] = [];
  const lookups: PlannedDocument[] = [];
  const model = group.some((document) => !document.vector && !asRetriedChunk(document))
    ? await context.model()
    : '';
  const settings = { ...run.chunking, model };
  for (const read of group) {
    const retried = asRetriedChunk(read);
    if (retried) {
      planned.push({
        document: read,
        action: 'retry',
        fingerprint: '',
        stored: undefined,
        retried,
        duplicateOf: undefined,
      });
      continue;
    }
    const conflict = ownedKeyConflict(read);
    if (conflict) {
      run.problem({ ...conflict, file: run.displayFile(conflict.file) });
      continue;
    }
    const document = withOwnSource(read);
    const duplicateOf = ledger.get(document.docId);
    if (duplicateOf) run.duplicate(document, duplicateOf);
    const entry: PlannedDocument = {
      document,
      action: 'write',
      fingerprint: fingerprint(document, settings),
      stored: undefined,
      retried: undefined,
      duplicateOf,
    };
    planned.push(entry);
    if (duplicateOf) continue;
    // Recorded now, with its chunk count filled in when it is written or skipped.
    ledger.set(document.docId, { file: document.file, line: document.line, chunkCount: 0 });
    lookups.push(entry);
  }
  if (context.readManifests && lookups.length > 0) {
    const manifests = await context.readManifests(lookups.map((entry) => entry.document.docId));
    for (const entry of lookups) {
      entry.stored = manifests.get(entry.document.docId);
      if (entry.stored && entry.stored.fingerprint === entry.fingerprint && !context.rewriteAll) {
        entry.action = 'skip';
      }
    }
  }
  return planned;
}
