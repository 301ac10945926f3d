import { Distance, QdrantClient } from '@qdrant/js-client-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Qdrant } from '../../src/qdrant/client.js';
import { QdrantDocumentStore } from '../../src/qdrant/document-store.js';
import { pointId } from '../../src/qdrant/point-id.js';
import { type QdrantTestServer, startQdrantServer } from '../support/qdrant-server/index.js';
import { skipSuiteOnReal } from '../support/real-servers.js';

let server: QdrantTestServer;
let client: QdrantClient;

beforeAll(async () => {
  // Acknowledged writes are applied only by a wait=true write: a loaded Qdrant, as slow as can be.
  server = await startQdrantServer({ visibility: 'deferred', applyDelayMs: Number.POSITIVE_INFINITY });
  client = new QdrantClient({ url: server.url, checkCompatibility: false, compression: false });
});
afterAll(async () => {
  await server?.close();
});

const text = (value: string) => ({ kind: { case: 'stringValue' as const, value } });
const integer = (value: number) => ({ kind: { case: 'integerValue' as const, value: BigInt(value) } });

describe('QdrantDocumentStore.readManifests after a run that was killed', () => {
  skipSuiteOnReal('qdrant', 'holds acknowledged writes back, which only the test server can');

  it('sees the writes Qdrant acknowledged before it, not yet applied, and waits for them only once', async () => {
    const collection = 'killed_run';
    await client.api('collections').create({
      collectionName: collection,
      vectorsConfig: { config: { case: 'params', value: { size: 2n, distance: Distance.Cosine } } },
    });
    const id = { pointIdOptions: { case: 'uuid' as const, value: pointId('guide.md', 0) } };
    // A complete document, applied...
    await client.api('points').upsert({
      collectionName: collection,
      wait: true,
      points: [
        {
          id,
          vectors: { vectorsOptions: { case: 'vector', value: { data: [1, 0] } } },
          payload: { doc_id: text('guide.md'), doc_hash: text('h1'), chunk_count: integer(2) },
        },
      ],
    });
    // ...then marked as being rewritten by a run killed before it wrote anything else: the mark
    // is acknowledged and queued when the next run starts.
    await client.api('points').setPayload({
      collectionName: collection,
      wait: false,
      payload: { doc_hash: text(''), chunk_count: integer(5) },
      pointsSelector: { pointsSelectorOneOf: { case: 'points', value: { ids: [id] } } },
    });
    expect(server.collection(collection)?.pending).toBe(1);

    const store = new QdrantDocumentStore(new Qdrant({ url: server.url, timeoutMs: 10_000 }), collection);
    const before = server.calls.get('Points/SetPayload') ?? 0;
    expect(await store.readManifests(['guide.md'])).toEqual(
      new Map([['guide.md', { fingerprint: '', chunkCount: 5 }]]),
    );
    await store.readManifests(['guide.md']);
    // One barrier for the store, not one per read.
    expect((server.calls.get('Points/SetPayload') ?? 0) - before).toBe(1);
  });
});
