import { Code } from '@connectrpc/connect';
import { Direction, FieldType, UpdateStatus } from '@qdrant/js-client-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allPayload,
  byFilter,
  byIds,
  hasId,
  id,
  idOf,
  keyword,
  must,
  payload,
  plain,
  point,
  type QdrantTarget,
  qdrantTarget,
  rejection,
} from '../support/qdrant-server/client.js';

/**
 * What a sync needs of Qdrant's points, with the semantics and messages of Qdrant 1.19: reads with
 * payload selectors and paging, payload edits, deletes, batches. Runs against the test server, or
 * a real Qdrant with TABOOT_TEST_QDRANT_URL.
 */
let q: QdrantTarget;
beforeAll(async () => {
  q = await qdrantTarget();
});
afterAll(async () => {
  await q.close();
});

describe('reads', () => {
  let name: string;
  beforeAll(async () => {
    name = q.name('reads');
    await q.create(name, 2);
    await q.points.upsert({
      collectionName: name,
      wait: true,
      points: [
        point(1, [1, 0], { doc: 'a', n: { p: 1, q: 2 }, k: 30 }),
        point(2, [0, 1], { doc: 'b', k: 10 }),
        point(3, [1, 1], { doc: 'a', k: 20 }),
        point(4, [1, 2], { doc: 'c' }),
      ],
    });
  });

  it('gets points by id without payload or vectors unless asked, as Qdrant gRPC defaults', async () => {
    const got = await q.points.get({ collectionName: name, ids: [id(1), id(99)] });
    expect(got.result.map(idOf)).toEqual([1n]);
    expect(got.result[0]?.payload).toEqual({});
    expect(got.result[0]?.vectors).toBeUndefined();
    const full = await q.points.get({
      collectionName: name,
      ids: [id(1)],
      withPayload: allPayload,
      withVectors: { selectorOptions: { case: 'enable', value: true } },
    });
    expect(plain(full.result[0]?.payload)).toEqual({ doc: 'a', n: { p: 1, q: 2 }, k: 30 });
    expect(full.result[0]?.vectors?.vectorsOptions.case).toBe('vector');
    expect((await q.points.get({ collectionName: name, ids: [] })).result).toEqual([]);
  });

  it('selects payload fields to include or exclude, nested paths too', async () => {
    const get = (selector: object) =>
      q.points.get({
        collectionName: name,
        ids: [id(1)],
        withPayload: { selectorOptions: selector } as never,
      });
    const included = await get({ case: 'include', value: { fields: ['n.p', 'doc'] } });
    expect(plain(included.result[0]?.payload)).toEqual({ doc: 'a', n: { p: 1 } });
    const excluded = await get({ case: 'exclude', value: { fields: ['n.p', 'k'] } });
    expect(plain(excluded.result[0]?.payload)).toEqual({ doc: 'a', n: { q: 2 } });
  });

  it('scrolls with payload by default, pages by offset and next_page_offset, and filters', async () => {
    const first = await q.points.scroll({ collectionName: name, limit: 2 });
    expect(first.result.map(idOf)).toEqual([1n, 2n]);
    expect(plain(first.result[1]?.payload)).toEqual({ doc: 'b', k: 10 });
    expect(first.nextPageOffset?.pointIdOptions.value).toBe(3n);
    const second = await q.points.scroll({ collectionName: name, limit: 2, offset: first.nextPageOffset });
    expect(second.result.map(idOf)).toEqual([3n, 4n]);
    expect(second.nextPageOffset).toBeUndefined();
    const filtered = await q.points.scroll({
      collectionName: name,
      filter: must(keyword('doc', 'a')),
      withPayload: { selectorOptions: { case: 'enable', value: false } },
    });
    expect(filtered.result.map(idOf)).toEqual([1n, 3n]);
    expect(filtered.result[0]?.payload).toEqual({});
    const zero = await rejection(q.points.scroll({ collectionName: name, limit: 0 }));
    expect(zero.rawMessage).toBe('Validation error in body: [limit: value 0 invalid, must be 1 or larger]');
  });

  it('orders a scroll by an indexed number, and refuses order_by without a range index or with an offset', async () => {
    const noIndex = await rejection(q.points.scroll({ collectionName: name, orderBy: { key: 'k' } }));
    expect(noIndex.code).toBe(Code.InvalidArgument);
    expect(noIndex.rawMessage).toMatch(
      /^Wrong input: No range index for `order_by` key: `k`\. Please create one/,
    );
    await q.points.createFieldIndex({
      collectionName: name,
      wait: true,
      fieldName: 'k',
      fieldType: FieldType.FieldTypeInteger,
    });
    const ascending = await q.points.scroll({ collectionName: name, orderBy: { key: 'k' } });
    expect(ascending.result.map(idOf)).toEqual([2n, 3n, 1n]);
    expect(ascending.result[0]?.orderValue?.variant).toEqual({ case: 'int', value: 10n });
    expect(ascending.nextPageOffset).toBeUndefined();
    const descending = await q.points.scroll({
      collectionName: name,
      limit: 2,
      orderBy: { key: 'k', direction: Direction.Desc },
    });
    expect(descending.result.map(idOf)).toEqual([1n, 3n]);
    const from = await q.points.scroll({
      collectionName: name,
      orderBy: { key: 'k', startFrom: { value: { case: 'integer', value: 15n } } },
    });
    expect(from.result.map(idOf)).toEqual([3n, 1n]);
    const withOffset = await rejection(
      q.points.scroll({ collectionName: name, offset: id(1), orderBy: { key: 'k' } }),
    );
    expect(withOffset.rawMessage).toMatch(/^Wrong input: Cannot use an `offset` when using `order_by`/);
  });

  it('counts exactly, with and without a filter', async () => {
    expect((await q.points.count({ collectionName: name })).result?.count).toBe(4n);
    expect(
      (await q.points.count({ collectionName: name, exact: true, filter: must(keyword('doc', 'a')) })).result
        ?.count,
    ).toBe(2n);
    expect(
      (await q.points.count({ collectionName: name, filter: must(hasId(2, 4, 99)) })).result?.count,
    ).toBe(2n);
  });

  it('answers a query without a vector in id order, with score 1 and version 0', async () => {
    const result = (await q.points.query({ collectionName: name, limit: 2n })).result;
    expect(result.map(idOf)).toEqual([1n, 2n]);
    expect(result.map((r) => [r.score, r.version])).toEqual([
      [1, 0n],
      [1, 0n],
    ]);
  });
});

describe('payload edits and deletes', () => {
  const fresh = async () => {
    const name = q.name('edits');
    await q.create(name, 2);
    await q.points.upsert({
      collectionName: name,
      wait: true,
      points: [
        point(1, [1, 0], { a: 'x', n: { p: 1, q: 2 } }),
        point(2, [0, 1], { a: 'z', k: 5 }),
        point(3, [1, 1], { a: 'x', k: 3 }),
      ],
    });
    return name;
  };
  const payloadOf = async (name: string, n: number) =>
    plain(
      (await q.points.get({ collectionName: name, ids: [id(n)], withPayload: allPayload })).result[0]
        ?.payload,
    );

  it('merges SetPayload into the payload (null removes a key), at a nested key, and by filter', async () => {
    const name = await fresh();
    await q.points.setPayload({
      collectionName: name,
      wait: true,
      payload: payload({ a: null, b: 'new' }),
      pointsSelector: byIds(1),
    });
    expect(await payloadOf(name, 1)).toEqual({ n: { p: 1, q: 2 }, b: 'new' });
    await q.points.setPayload({
      collectionName: name,
      wait: true,
      key: 'n',
      payload: payload({ r: 9 }),
      pointsSelector: byIds(1),
    });
    expect(await payloadOf(name, 1)).toEqual({ n: { p: 1, q: 2, r: 9 }, b: 'new' });
    await q.points.setPayload({
      collectionName: name,
      wait: true,
      payload: payload({ tag: 't' }),
      pointsSelector: byFilter(must(keyword('a', 'x'))),
    });
    expect(
      (await q.points.count({ collectionName: name, filter: must(keyword('tag', 't')) })).result?.count,
    ).toBe(1n);
  });

  it('replaces the payload with OverwritePayload, removes keys with DeletePayload, empties it with ClearPayload', async () => {
    const name = await fresh();
    await q.points.overwritePayload({
      collectionName: name,
      wait: true,
      payload: payload({ only: 'o' }),
      pointsSelector: byIds(2),
    });
    expect(await payloadOf(name, 2)).toEqual({ only: 'o' });
    await q.points.deletePayload({
      collectionName: name,
      wait: true,
      keys: ['a', 'n.q'],
      pointsSelector: byIds(1),
    });
    expect(await payloadOf(name, 1)).toEqual({ n: { p: 1 } });
    await q.points.clearPayload({ collectionName: name, wait: true, points: byIds(3) });
    expect(await payloadOf(name, 3)).toEqual({});
  });

  it('answers NOT_FOUND for a point it does not have, after editing the ids named before it', async () => {
    const name = await fresh();
    const error = await rejection(
      q.points.setPayload({
        collectionName: name,
        wait: true,
        payload: payload({ seen: true }),
        pointsSelector: byIds(1, 77),
      }),
    );
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toBe('Not found: No point with id 77 found');
    expect(await payloadOf(name, 1)).toMatchObject({ seen: true });
    const noSelector = await rejection(
      q.points.setPayload({ collectionName: name, wait: true, payload: payload({ a: 1 }) }),
    );
    expect([noSelector.code, noSelector.rawMessage]).toEqual([
      Code.InvalidArgument,
      'points_selector is expected',
    ]);
  });

  it('deletes by ids (missing ones are no error) and by filter, and refuses a delete without a selector', async () => {
    const name = await fresh();
    await q.points.delete({ collectionName: name, wait: true, points: byIds(1, 55) });
    await q.points.delete({ collectionName: name, wait: true, points: byFilter(must(keyword('a', 'z'))) });
    expect((await q.points.scroll({ collectionName: name })).result.map(idOf)).toEqual([3n]);
    const error = await rejection(q.points.delete({ collectionName: name, wait: true }));
    expect([error.code, error.rawMessage]).toEqual([Code.InvalidArgument, 'PointSelector is missing']);
    const empty = await rejection(q.points.upsert({ collectionName: name, wait: true, points: [] }));
    expect([empty.code, empty.rawMessage]).toEqual([
      Code.InvalidArgument,
      'Bad request: Empty update request',
    ]);
  });

  it('runs an UpdateBatch in order with one result per operation, keeping those before a failing one', async () => {
    const name = await fresh();
    const batch = await q.points.updateBatch({
      collectionName: name,
      wait: true,
      operations: [
        { operation: { case: 'upsert', value: { points: [point(10, [1, 0])] } } },
        {
          operation: { case: 'setPayload', value: { payload: payload({ u: 1 }), pointsSelector: byIds(10) } },
        },
        { operation: { case: 'deletePoints', value: { points: byIds(3) } } },
      ] as never,
    });
    expect(batch.result.map((r) => r.status)).toEqual([
      UpdateStatus.Completed,
      UpdateStatus.Completed,
      UpdateStatus.Completed,
    ]);
    const ids = batch.result.map((r) => r.operationId ?? 0n);
    expect(ids[1]).toBe(ids[0]! + 1n);
    expect(ids[2]).toBe(ids[1]! + 1n);
    expect(await payloadOf(name, 10)).toEqual({ u: 1 });
    const failing = await rejection(
      q.points.updateBatch({
        collectionName: name,
        wait: true,
        operations: [
          { operation: { case: 'upsert', value: { points: [point(12, [1, 0])] } } },
          { operation: { case: 'upsert', value: { points: [point(13, [1, 0, 1])] } } },
        ] as never,
      }),
    );
    expect(failing.rawMessage).toBe('Wrong input: Vector dimension error: expected dim: 2, got 3');
    expect((await q.points.get({ collectionName: name, ids: [id(12), id(13)] })).result.map(idOf)).toEqual([
      12n,
    ]);
    const none = await rejection(q.points.updateBatch({ collectionName: name, wait: true, operations: [] }));
    expect(none.rawMessage).toBe(
      'Validation error in body: [operations: value [] invalid, must be at least 1 characters]',
    );
  });

  it('acknowledges a wait=false write with an unknown vector name, which then fails unseen; wait=true reports it', async () => {
    const name = await fresh();
    const named = {
      ...point(7, [1, 0]),
      vectors: {
        vectorsOptions: {
          case: 'vectors',
          value: { vectors: { foo: { vector: { case: 'dense', value: { data: [1, 0] } } } } },
        },
      },
    } as never;
    const acknowledged = await q.points.upsert({ collectionName: name, points: [named] });
    expect(acknowledged.result?.status).toBe(UpdateStatus.Acknowledged);
    const waited = await rejection(q.points.upsert({ collectionName: name, wait: true, points: [named] }));
    expect(waited.rawMessage).toBe('Wrong input: Not existing vector name error: foo');
    expect((await q.points.get({ collectionName: name, ids: [id(7)] })).result).toEqual([]);
    const dimension = await rejection(
      q.points.upsert({ collectionName: name, points: [point(8, [1, 0, 0])] }),
    );
    expect(dimension.rawMessage).toBe('Wrong input: Vector dimension error: expected dim: 2, got 3');
  });
});
