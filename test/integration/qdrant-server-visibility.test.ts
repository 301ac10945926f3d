import { Code, ConnectError } from '@connectrpc/connect';
import { CollectionStatus, UpdateStatus } from '@qdrant/js-client-grpc';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  allPayload,
  byFilter,
  byIds,
  hasId,
  id,
  idOf,
  must,
  payload,
  plain,
  point,
  type QdrantTarget,
  qdrantTarget,
  until,
} from '../support/qdrant-server/client.js';
import { skipOnReal } from '../support/real-servers.js';

/**
 * `wait=false` means "in the WAL", not "visible": Qdrant acknowledges a write once queued and
 * applies it later, in order. A `wait=true` write returns only after everything queued before it
 * is applied. The test server models this with `visibility: 'deferred'` (and an apply delay of
 * Infinity here: nothing is applied until a `wait=true` write or `applyPending()`).
 */
let q: QdrantTarget;
beforeAll(async () => {
  q = await qdrantTarget({ visibility: 'deferred', applyDelayMs: Number.POSITIVE_INFINITY });
});
afterAll(async () => {
  await q.close();
});
afterEach(() => {
  q.server?.setVisibility('deferred', Number.POSITIVE_INFINITY);
});

const testServerOnly = 'a real Qdrant applies writes on its own schedule; holding them needs the test server';
const count = async (name: string) => Number((await q.points.count({ collectionName: name })).result?.count);

/** The cheapest `wait=true` write that reaches every shard: a payload edit of no point at all. */
const barrier = (name: string) =>
  q.points.setPayload({
    collectionName: name,
    wait: true,
    payload: {},
    pointsSelector: byFilter(must(hasId())),
  });

describe('deferred visibility of wait=false writes (test server)', () => {
  it('acknowledges a wait=false upsert at once but shows it to no read until it is applied', async (context) => {
    skipOnReal(context, 'qdrant', testServerOnly);
    const name = q.name('hidden');
    await q.create(name, 2);
    const reply = await q.points.upsert({ collectionName: name, points: [point(1, [1, 0], { a: 'x' })] });
    expect(reply.result?.status).toBe(UpdateStatus.Acknowledged);
    expect(await count(name)).toBe(0);
    expect((await q.points.get({ collectionName: name, ids: [id(1)] })).result).toEqual([]);
    expect((await q.points.scroll({ collectionName: name })).result).toEqual([]);
    expect((await q.points.query({ collectionName: name })).result).toEqual([]);
    const info = await q.info(name);
    expect(info.pointsCount).toBe(0n);
    expect(info.updateQueue?.length).toBe(1n);
    expect(q.server?.collection(name)?.pending).toBe(1);
    q.server?.applyPending(name);
    expect(await count(name)).toBe(1);
    expect((await q.info(name)).updateQueue?.length).toBe(0n);
  });

  it('applies everything queued, in order, before answering a wait=true write', async (context) => {
    skipOnReal(context, 'qdrant', testServerOnly);
    const name = q.name('ordered');
    await q.create(name, 2);
    await q.points.upsert({ collectionName: name, points: [point(1, [1, 0], { v: 1 }), point(2, [0, 1])] });
    await q.points.setPayload({ collectionName: name, payload: payload({ v: 2 }), pointsSelector: byIds(1) });
    await q.points.delete({ collectionName: name, points: byIds(2) });
    await q.points.upsert({ collectionName: name, points: [point(2, [1, 1], { back: true })] });
    await q.points.overwritePayload({
      collectionName: name,
      payload: payload({ v: 3 }),
      pointsSelector: byIds(1),
    });
    await q.points.updateBatch({
      collectionName: name,
      operations: [{ operation: { case: 'upsert', value: { points: [point(3, [1, 0])] } } }] as never,
    });
    expect(await count(name)).toBe(0);
    const done = await barrier(name);
    expect(done.result?.status).toBe(UpdateStatus.Completed);
    const all = await q.points.scroll({ collectionName: name, withPayload: allPayload });
    expect(all.result.map((p) => [idOf(p), plain(p.payload)])).toEqual([
      [1n, { v: 3 }],
      [2n, { back: true }],
      [3n, {}],
    ]);
  });

  it('applies acknowledged writes by itself once the apply delay has passed', async (context) => {
    skipOnReal(context, 'qdrant', testServerOnly);
    const name = q.name('delayed');
    await q.create(name, 2);
    q.server?.setVisibility('deferred', 5);
    await q.points.upsert({ collectionName: name, points: [point(1, [1, 0])] });
    expect(
      await until(
        () => count(name),
        (n) => n === 1,
      ),
    ).toBe(1);
  });

  it('drops a write that fails after it was acknowledged, and reports it only to the test', async (context) => {
    skipOnReal(context, 'qdrant', testServerOnly);
    const name = q.name('late');
    await q.create(name, 2);
    const reply = await q.points.setPayload({
      collectionName: name,
      payload: payload({ a: 1 }),
      pointsSelector: byIds(77),
    });
    expect(reply.result?.status).toBe(UpdateStatus.Acknowledged);
    await barrier(name);
    const late = q.server?.lateErrors.at(-1);
    expect(late?.collection).toBe(name);
    const error = late?.error as ConnectError;
    expect(error).toBeInstanceOf(ConnectError);
    expect([error.code, error.rawMessage]).toEqual([Code.NotFound, 'Not found: No point with id 77 found']);
  });

  it('counts the points of the collection info only once applied, and indexes them then', async (context) => {
    skipOnReal(context, 'qdrant', testServerOnly);
    const name = q.name('info');
    await q.create(name, 8, { optimizersConfig: { indexingThreshold: 10n, defaultSegmentNumber: 2n } });
    const vectors = Array.from({ length: 1000 }, (_, i) =>
      point(
        i + 1,
        Array.from({ length: 8 }, (_, j) => i + j + 1),
      ),
    );
    await q.points.upsert({ collectionName: name, points: vectors });
    expect(await q.info(name)).toMatchObject({
      pointsCount: 0n,
      indexedVectorsCount: 0n,
      status: CollectionStatus.Green,
    });
    await barrier(name);
    expect(await q.info(name)).toMatchObject({ pointsCount: 1000n, indexedVectorsCount: 1000n });
  });
});

describe('the end-of-write barrier', () => {
  it('makes every earlier wait=false write visible: a wait=true payload edit of no point, on every shard', async () => {
    const name = q.name('barrier');
    await q.create(name, 16, { shardNumber: 3 });
    const batches = 40;
    const size = 250;
    const sends: Array<Promise<unknown>> = [];
    for (let b = 0; b < batches; b++) {
      const batch = Array.from({ length: size }, (_, i) => {
        const n = b * size + i + 1;
        return point(
          n,
          Array.from({ length: 16 }, (_, j) => Math.cos(n + j) + 1.1),
          { batch: b },
        );
      });
      sends.push(q.points.upsert({ collectionName: name, points: batch }));
    }
    const replies = (await Promise.all(sends)) as Array<{ result?: { status: UpdateStatus } }>;
    expect(replies.every((r) => r.result?.status === UpdateStatus.Acknowledged)).toBe(true);
    const done = await barrier(name);
    expect(done.result?.status).toBe(UpdateStatus.Completed);
    expect(await count(name)).toBe(batches * size);
  });
});
