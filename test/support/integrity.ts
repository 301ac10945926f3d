/**
 * What the integrity suites (test/e2e/integrity-*.test.ts) share: a snapshot of a collection as
 * the Qdrant test server stores it (ids, payloads, vectors) and a diff of two snapshots; a clock
 * that counts server calls (Qdrant methods and TEI requests) so that a test can act at "the k-th
 * call" instead of after a time; and corpus generators sized for CI.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Distance, FieldType, QdrantClient } from '@qdrant/js-client-grpc';
import { expect } from 'vitest';
import type { IngestSummary } from '../../src/pipeline/summary.js';
import { payloadToJson } from '../../src/qdrant/payload-json.js';
import type { Json, QdrantTestServer } from './qdrant-server/index.js';
import type { TestStack } from './stack.js';

export interface StoredPoint {
  /** Canonical JSON of the payload, keys sorted at every depth. */
  payload: string;
  doc: Record<string, Json>;
  vector: Float32Array | undefined;
}

/** A collection as stored, by point id, after every acknowledged write is applied. */
export type Snapshot = Map<string, StoredPoint>;

/** Keys sorted at every depth, so equal payloads serialise the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    return Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

/**
 * Every point of `collection`, once the writes Qdrant acknowledged are applied (a killed client's
 * acknowledged writes are in Qdrant's WAL: they land whether or not the client lives to see it).
 */
export function snapshot(server: QdrantTestServer, collection: string): Snapshot {
  server.applyPending(collection);
  const inspected = server.collection(collection);
  if (!inspected) throw new Error(`collection ${collection} does not exist on the test server`);
  const points: Snapshot = new Map();
  for (const point of inspected.points) {
    points.set(String(point.id), {
      payload: canonicalJson(point.payload),
      doc: point.payload,
      vector: point.vector,
    });
  }
  return points;
}

/** The collection's metadata as plain JSON (sync markers, the model). */
export function metadataOf(server: QdrantTestServer, collection: string): Record<string, Json> {
  const metadata = server.collection(collection)?.info().config?.metadata ?? {};
  return payloadToJson(metadata) as Record<string, Json>;
}

function officialClient(url: string): QdrantClient {
  return new QdrantClient({ url, checkCompatibility: false, compression: false });
}

/**
 * A plain collection (Cosine vectors of `size`, 1024 by default, and the payload indexes sync
 * filters by) made with the official client: for tests that need many collections and none of
 * `taboot collection create`'s other settings.
 */
export async function createBareCollection(url: string, collection: string, size = 1024): Promise<void> {
  const client = officialClient(url);
  await client.api('collections').create({
    collectionName: collection,
    vectorsConfig: { config: { case: 'params', value: { size: BigInt(size), distance: Distance.Cosine } } },
  });
  // The payload indexes sync filters by (without them ingest warns, rightly, on every run).
  for (const [fieldName, fieldType] of [
    ['doc_id', FieldType.FieldTypeKeyword],
    ['source', FieldType.FieldTypeKeyword],
    ['chunk_index', FieldType.FieldTypeInteger],
  ] as const) {
    await client
      .api('points')
      .createFieldIndex({ collectionName: collection, fieldName, fieldType, wait: true });
  }
}

/** Every point's payload as JSON, read with the official client (so a real Qdrant works too). */
export async function storedPayloads(url: string, collection: string): Promise<Array<Record<string, Json>>> {
  const points = officialClient(url).api('points');
  const payloads: Array<Record<string, Json>> = [];
  let offset: Parameters<typeof points.scroll>[0]['offset'];
  do {
    const page = await points.scroll({
      collectionName: collection,
      limit: 256,
      offset,
      withPayload: { selectorOptions: { case: 'enable', value: true } },
    });
    for (const point of page.result) {
      payloads.push(payloadToJson(point.payload) as Record<string, Json>);
    }
    offset = page.nextPageOffset;
  } while (offset);
  return payloads;
}

function sameVector(a: Float32Array | undefined, b: Float32Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  return (
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

const where = (point: StoredPoint | undefined) =>
  point ? `${String(point.doc.doc_id)}#${String(point.doc.chunk_index)}` : '?';

/**
 * How `actual` differs from `expected`, one line per point (at most `limit` lines, then a count):
 * missing, extra, another payload, another vector. Empty when equal.
 */
export function diffSnapshots(actual: Snapshot, expected: Snapshot, limit = 12): string[] {
  const lines: string[] = [];
  for (const [id, want] of expected) {
    const got = actual.get(id);
    if (!got) lines.push(`missing ${id} (${where(want)})`);
    else if (got.payload !== want.payload)
      lines.push(`payload of ${id} (${where(want)}): ${got.payload} instead of ${want.payload}`);
    else if (!sameVector(got.vector, want.vector)) lines.push(`vector of ${id} (${where(want)}) differs`);
  }
  for (const [id, got] of actual) if (!expected.has(id)) lines.push(`extra ${id} (${where(got)})`);
  return lines.length > limit ? [...lines.slice(0, limit), `... and ${lines.length - limit} more`] : lines;
}

/**
 * What every collection taboot wrote must satisfy whatever happened on the way: each document's
 * chunks are exactly 0..chunk_count-1, once each, and agree on chunk_count and doc_hash. Returns
 * the documents by id with their chunk count.
 */
export function checkDocuments(points: Snapshot): Map<string, number> {
  const documents = new Map<string, { count: number; hash: string; seen: Set<number> }>();
  const problems: string[] = [];
  for (const [id, point] of points) {
    const docId = String(point.doc.doc_id);
    const index = Number(point.doc.chunk_index);
    const count = Number(point.doc.chunk_count);
    const hash = String(point.doc.doc_hash);
    const document = documents.get(docId) ?? { count, hash, seen: new Set<number>() };
    documents.set(docId, document);
    if (document.count !== count || document.hash !== hash)
      problems.push(`${docId}: chunks disagree on chunk_count or doc_hash (${id})`);
    if (document.seen.has(index)) problems.push(`${docId}: chunk ${index} twice`);
    if (!(index >= 0 && index < count)) problems.push(`${docId}: stray chunk ${index} of ${count} (${id})`);
    document.seen.add(index);
  }
  for (const [docId, document] of documents) {
    if (document.seen.size !== document.count)
      problems.push(`${docId}: ${document.seen.size} of ${document.count} chunks`);
  }
  expect(problems.slice(0, 12), `${problems.length} problem(s)`).toEqual([]);
  return new Map([...documents].map(([docId, document]) => [docId, document.count]));
}

/** One call a test server received: a Qdrant method (`Points/Upsert`) or a TEI route (`TEI /embed`). */
export interface ServerCall {
  /** 1-based, counted since the last `restart()`. */
  n: number;
  method: string;
}

/**
 * Counts the calls both test servers receive, as they arrive, and tells a listener about each one
 * synchronously, before the server handles it: "the k-th call" is a moment defined by the
 * client's progress, whatever the machine's speed. TEI requests are seen through a delay fault of
 * 0 ms on every POST route (so `tei.faults.reset()` removes the clock's view of TEI).
 */
export class CallClock {
  private count = 0;
  private onCall: ((call: ServerCall) => void) | undefined;
  readonly byMethod = new Map<string, number>();
  private readonly stopQdrant: () => void;

  constructor(stack: TestStack) {
    if (!stack.qdrant || !stack.tei) throw new Error('CallClock needs both test servers');
    this.stopQdrant = stack.qdrant.gauge.listen((event) => {
      if (event.phase === 'start') this.tick(event.method);
    });
    this.watchTei(stack);
  }

  /** Install the TEI side again, after a `tei.faults.reset()`. */
  watchTei(stack: TestStack): void {
    stack.tei!.faults.delay(() => {
      this.tick('TEI POST');
      return 0;
    });
  }

  /** Start counting from 0, calling `onCall` for each call from now on. */
  restart(onCall?: (call: ServerCall) => void): void {
    this.count = 0;
    this.onCall = onCall;
    this.byMethod.clear();
  }

  get calls(): number {
    return this.count;
  }

  dispose(): void {
    this.stopQdrant();
    this.onCall = undefined;
  }

  private tick(method: string): void {
    this.count += 1;
    this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
    this.onCall?.({ n: this.count, method });
  }
}

/** Parses the `--json` summary on stdout, failing the test with stderr when there is none. */
export function summaryOf(result: { stdout: string; stderr: string; code: number | null }): IngestSummary {
  try {
    return JSON.parse(result.stdout) as IngestSummary;
  } catch {
    throw new Error(`no JSON summary (exit ${result.code}); stderr:\n${result.stderr.slice(-4000)}`);
  }
}

const words = [
  'scrape',
  'target',
  'alert',
  'rule',
  'query',
  'label',
  'series',
  'storage',
  'remote',
  'relabel',
];

/** A page of `sections` `## ` sections of 40 words each, varied by `seed`. */
export function markdownPage(title: string, sections: number, seed: number): string {
  const body = Array.from({ length: sections }, (_, s) => {
    const text = Array.from({ length: 40 }, (_, w) => words[(seed * 7 + s * 3 + w * 5) % words.length]).join(
      ' ',
    );
    return `## ${title}, part ${s + 1}\n\n${text} (${seed}.${s}).\n`;
  }).join('\n');
  return `---\ntitle: ${title}\nrevision: ${seed}\n---\n# ${title}\n\n${body}`;
}

/** A JSONL record of one short text document. */
export function jsonlRecord(id: string, seed: number): string {
  const text = Array.from({ length: 30 }, (_, w) => words[(seed * 3 + w * 7) % words.length]).join(' ');
  return JSON.stringify({ id, text: `${text} (${seed})`, service_name: `svc-${seed % 5}` });
}

/**
 * A corpus of `pages` Markdown pages (multi-chunk with `--chunk-tokens 64`) under `pages/` and a
 * JSONL file of `records` documents, written into `dir` (emptied first).
 */
export function writeCorpus(dir: string, pages: number, records: number): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'pages'), { recursive: true });
  for (let i = 0; i < pages; i += 1) {
    writeFileSync(
      join(dir, 'pages', `page-${String(i).padStart(4, '0')}.md`),
      markdownPage(`Page ${i}`, 2 + (i % 4), i),
    );
  }
  const lines = Array.from({ length: records }, (_, i) => jsonlRecord(`rec-${i}`, i));
  writeFileSync(join(dir, 'records.jsonl'), `${lines.join('\n')}\n`);
}

/** Chunk settings that cut the generated pages into several chunks each. */
export const corpusChunkFlags = ['--chunk-tokens', '64', '--chunk-overlap', '0', '--min-chunk-tokens', '0'];
