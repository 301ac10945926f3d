import { Code } from '@connectrpc/connect';
import { FieldType } from '@qdrant/js-client-grpc';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  byFilter,
  byIds,
  hasId,
  id,
  integerMatch,
  keyword,
  must,
  payload,
  point,
  type QdrantTarget,
  qdrantTarget,
  rejection,
} from '../support/qdrant-server/client.js';
import type { QdrantTestServer } from '../support/qdrant-server/index.js';
import { skipSuiteOnReal } from '../support/real-servers.js';

/**
 * What a client costs the test server: calls and points scanned per method, and the REST
 * `/telemetry` view of the calls that a real Qdrant gives. Tests hold taboot to these numbers.
 */
skipSuiteOnReal('qdrant', 'call and scan accounting exists only in the test server');

let q: QdrantTarget;
let server: QdrantTestServer;
const name = 'costs';

beforeAll(async () => {
  q = await qdrantTarget({ restPort: 0 });
  if (!q.server) return;
  server = q.server;
  await q.create(name, 2);
  // 100 points: doc a (10), b (90); n = i; tag only on even ids.
  const points = Array.from({ length: 100 }, (_, i) =>
    point(i + 1, [1, i], { doc: i < 10 ? 'a' : 'b', n: i, ...(i % 2 === 1 ? { tag: 'even' } : {}) }),
  );
  await q.points.upsert({ collectionName: name, wait: true, points });
  for (const [fieldName, fieldType] of [
    ['doc', FieldType.FieldTypeKeyword],
    ['n', FieldType.FieldTypeInteger],
  ] as const) {
    await q.points.createFieldIndex({ collectionName: name, wait: true, fieldName, fieldType });
  }
});
afterAll(async () => {
  await q.close();
});
beforeEach(() => {
  server?.counters.reset();
});

const count = (filter?: ReturnType<typeof must>) => q.points.count({ collectionName: name, filter });

describe('points scanned per method', () => {
  it('charges a filter on a field without an index a full scan, an indexed match the points it selects, has_id the ids', async () => {
    await count(must(keyword('tag', 'even')));
    expect(server.scanned.get('Points/Count')).toBe(100);
    server.counters.reset();
    await count(must(keyword('doc', 'a')));
    expect(server.scanned.get('Points/Count')).toBe(10);
    server.counters.reset();
    await count(must(integerMatch('n', 42)));
    expect(server.scanned.get('Points/Count')).toBe(1);
    server.counters.reset();
    await count(must(hasId(1, 2, 3, 999)));
    expect(server.scanned.get('Points/Count')).toBe(4);
    server.counters.reset();
    // The cheapest indexed condition decides; the rest are checked on what it selects.
    await count(must(keyword('tag', 'even'), keyword('doc', 'a')));
    expect(server.scanned.get('Points/Count')).toBe(10);
    server.counters.reset();
    await count();
    expect(server.scanned.get('Points/Count') ?? 0).toBe(0);
    expect(server.calls.get('Points/Count')).toBe(1);
  });

  it('charges writes by filter or ids where they are applied, and the end-of-write barrier nothing', async () => {
    await q.points.setPayload({
      collectionName: name,
      wait: true,
      payload: payload({ seen: true }),
      pointsSelector: byFilter(must(keyword('tag', 'even'))),
    });
    await q.points.delete({ collectionName: name, wait: true, points: byIds(1000, 1001) });
    await q.points.setPayload({
      collectionName: name,
      wait: true,
      payload: {},
      pointsSelector: byFilter(must(hasId())),
    });
    expect(Object.fromEntries(server.scanned)).toEqual({ 'Points/SetPayload': 100, 'Points/Delete': 2 });
    expect(server.counters.totals()).toEqual({ calls: 3, scanned: 102 });
  });

  it('charges a scroll the ids it streams through, up to one past the page, and a get the ids it names', async () => {
    await q.points.scroll({ collectionName: name, limit: 10 });
    expect(server.scanned.get('Points/Scroll')).toBe(11);
    server.counters.reset();
    // Every second point has the tag: 5 matches and the next one take 12 points.
    await q.points.scroll({ collectionName: name, limit: 5, filter: must(keyword('tag', 'even')) });
    expect(server.scanned.get('Points/Scroll')).toBe(12);
    server.counters.reset();
    await q.points.scroll({ collectionName: name, limit: 5, filter: must(keyword('doc', 'a')) });
    expect(server.scanned.get('Points/Scroll')).toBe(10);
    server.counters.reset();
    await q.points.get({ collectionName: name, ids: [id(1), id(2), id(5000)] });
    expect(server.scanned.get('Points/Get')).toBe(3);
  });
});

describe('REST /telemetry', () => {
  const telemetry = async (level: number) => {
    const response = await request(`${server.restUrl}/telemetry?details_level=${level}`);
    expect(response.statusCode).toBe(200);
    return (await response.body.json()) as {
      status: string;
      result: {
        app: { name: string; version: string; features?: { gpu: boolean } };
        requests: { grpc: { responses: Record<string, Record<string, Record<string, unknown>>> } };
      };
    };
  };

  it("counts gRPC calls per method and status code in Qdrant's shape", async () => {
    await count();
    await count();
    await rejection(q.points.count({ collectionName: 'no_such_collection' }));
    const body = await telemetry(3);
    expect(body.status).toBe('ok');
    expect(body.result.app).toMatchObject({ name: 'qdrant', version: '1.19.0', features: { gpu: false } });
    const counts = body.result.requests.grpc.responses['/qdrant.Points/Count'];
    expect(counts?.['0']).toMatchObject({
      count: 2,
      avg_duration_micros: expect.any(Number),
      min_duration_micros: expect.any(Number),
      max_duration_micros: expect.any(Number),
      total_duration_micros: expect.any(Number),
      last_responded: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(counts?.[String(Code.NotFound)]).toMatchObject({ count: 1 });
  });

  it('gives only count and average at details_level 0, and no app features', async () => {
    await count();
    const body = await telemetry(0);
    expect(body.result.app.features).toBeUndefined();
    expect(
      Object.keys(body.result.requests.grpc.responses['/qdrant.Points/Count']?.['0'] ?? {}).sort(),
    ).toEqual(['avg_duration_micros', 'count']);
  });
});
