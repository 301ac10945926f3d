import { randomUUID } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  CollectionStatus,
  type Condition,
  Distance,
  FieldType,
  PayloadSchemaType,
  type PointStruct,
  QdrantClient,
  QuantizationType,
  type Query,
  UpdateStatus,
  type Value,
} from '@qdrant/js-client-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QdrantTestServer, startQdrantServer } from '../support/qdrant-server/index.js';

const realUrl = process.env.TABOOT_TEST_QDRANT_URL;
let server: QdrantTestServer | undefined;
let client: QdrantClient;

beforeAll(async () => {
  if (!realUrl) server = await startQdrantServer();
  client = new QdrantClient({ url: realUrl ?? server?.url, checkCompatibility: false, compression: false });
});
afterAll(async () => {
  await server?.close();
});

const collections = () => client.api('collections');
const points = () => client.api('points');
const created: string[] = [];
afterAll(async () => {
  if (realUrl) for (const name of created) await collections().delete({ collectionName: name });
});

function uniqueName(label: string): string {
  const name = `taboot_test_${label}_${randomUUID().slice(0, 8)}`;
  created.push(name);
  return name;
}

async function createCollection(name: string, size: number, distance = Distance.Cosine): Promise<void> {
  await collections().create({
    collectionName: name,
    vectorsConfig: { config: { case: 'params', value: { size: BigInt(size), distance } } },
  });
}

function value(v: string | number | boolean | string[]): Value {
  if (Array.isArray(v)) {
    return { kind: { case: 'listValue', value: { values: v.map(value) } } } as Value;
  }
  if (typeof v === 'string') return { kind: { case: 'stringValue', value: v } } as Value;
  if (typeof v === 'boolean') return { kind: { case: 'boolValue', value: v } } as Value;
  return (
    Number.isInteger(v)
      ? { kind: { case: 'integerValue', value: BigInt(v) } }
      : { kind: { case: 'doubleValue', value: v } }
  ) as Value;
}

function point(
  id: number | string,
  vector: number[],
  payload: Record<string, Parameters<typeof value>[0]> = {},
) {
  return {
    id: {
      pointIdOptions:
        typeof id === 'number' ? { case: 'num', value: BigInt(id) } : { case: 'uuid', value: id },
    },
    vectors: {
      vectorsOptions: { case: 'vector', value: { vector: { case: 'dense', value: { data: vector } } } },
    },
    payload: Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, value(v)])),
  } as PointStruct;
}

const keyword = (key: string, v: string) =>
  ({
    conditionOneOf: { case: 'field', value: { key, match: { matchValue: { case: 'keyword', value: v } } } },
  }) as Condition;
const range = (key: string, r: { gte?: number; lt?: number }) =>
  ({ conditionOneOf: { case: 'field', value: { key, range: r } } }) as Condition;

const idOf = (p: { id?: { pointIdOptions: { value?: unknown } } }) => p.id?.pointIdOptions.value;

async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe('Qdrant gRPC test server, through the official client', () => {
  it('answers the health check with Qdrant 1.19', async () => {
    const reply = await client.api('service').healthCheck({});
    expect(reply.title).toBe('qdrant - vector search engine');
    expect(reply.version).toMatch(/^1\.19\./);
  });

  it('creates, reports, lists, updates and deletes a collection', async () => {
    const name = uniqueName('lifecycle');
    await collections().create({
      collectionName: name,
      vectorsConfig: { config: { case: 'params', value: { size: 8n, distance: Distance.Dot } } },
      hnswConfig: { m: 32n, efConstruct: 256n },
      optimizersConfig: { defaultSegmentNumber: 2n },
      quantizationConfig: {
        quantization: {
          case: 'scalar',
          value: { type: QuantizationType.Int8, quantile: 0.99, alwaysRam: true },
        },
      },
      shardNumber: 1,
      replicationFactor: 1,
    });
    expect((await collections().collectionExists({ collectionName: name })).result?.exists).toBe(true);
    expect((await collections().list({})).collections.map((c) => c.name)).toContain(name);

    const info = (await collections().get({ collectionName: name })).result;
    expect(info?.status).toBe(CollectionStatus.Green);
    expect(info?.optimizerStatus?.ok).toBe(true);
    expect(info?.pointsCount).toBe(0n);
    const params = info?.config?.params;
    expect(params?.vectorsConfig?.config.case).toBe('params');
    expect(params?.vectorsConfig?.config.value).toMatchObject({ size: 8n, distance: Distance.Dot });
    expect(params?.shardNumber).toBe(1);
    expect(params?.replicationFactor).toBe(1);
    expect(info?.config?.hnswConfig).toMatchObject({ m: 32n, efConstruct: 256n });
    expect(info?.config?.optimizerConfig?.defaultSegmentNumber).toBe(2n);
    expect(info?.config?.quantizationConfig?.quantization.case).toBe('scalar');

    await collections().update({
      collectionName: name,
      hnswConfig: { m: 0n },
      params: { onDiskPayload: false },
    });
    const updated = (await collections().get({ collectionName: name })).result;
    expect(updated?.config?.hnswConfig?.m).toBe(0n);
    expect(updated?.config?.hnswConfig?.efConstruct).toBe(256n);
    expect(updated?.config?.params?.onDiskPayload).toBe(false);

    expect((await collections().delete({ collectionName: name })).result).toBe(true);
    expect((await collections().collectionExists({ collectionName: name })).result?.exists).toBe(false);
  });

  it("refuses a duplicate collection with ALREADY_EXISTS and Qdrant's message", async () => {
    const name = uniqueName('duplicate');
    await createCollection(name, 4);
    const error = await rejection(createCollection(name, 4));
    expect(error.code).toBe(Code.AlreadyExists);
    expect(error.rawMessage).toBe(`Wrong input: Collection \`${name}\` already exists!`);
  });

  it("answers NOT_FOUND with Qdrant's message for a missing collection, reads and writes alike", async () => {
    const name = uniqueName('missing');
    // One call at a time: a second promise made up front could reject before anything awaits it.
    for (const call of [
      () => collections().get({ collectionName: name }),
      () => points().upsert({ collectionName: name, wait: true, points: [point(1, [1, 0])] }),
    ]) {
      const error = await rejection(call());
      expect(error.code).toBe(Code.NotFound);
      expect(error.rawMessage).toBe(`Not found: Collection \`${name}\` doesn't exist!`);
    }
  });

  it('rejects a vector of the wrong dimension with INVALID_ARGUMENT and writes nothing', async () => {
    const name = uniqueName('dimension');
    await createCollection(name, 1024);
    const good = Array.from({ length: 1024 }, (_, i) => i / 1024);
    const bad = good.slice(1);
    const error = await rejection(
      points().upsert({ collectionName: name, wait: true, points: [point(1, good), point(2, bad)] }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe('Wrong input: Vector dimension error: expected dim: 1024, got 1023');
    expect((await points().count({ collectionName: name, exact: true })).result?.count).toBe(0n);
  });

  it('rejects invalid collection parameters with INVALID_ARGUMENT', async () => {
    const zero = await rejection(createCollection(uniqueName('zero'), 0));
    expect(zero.code).toBe(Code.InvalidArgument);
    const unknown = await rejection(createCollection(uniqueName('nodist'), 4, Distance.UnknownDistance));
    expect(unknown.code).toBe(Code.InvalidArgument);
  });

  it('acknowledges wait=false writes, completes wait=true ones, and counts operation ids up', async () => {
    const name = uniqueName('status');
    await createCollection(name, 2);
    const first = await points().upsert({ collectionName: name, points: [point(1, [1, 0])] });
    const second = await points().upsert({ collectionName: name, wait: true, points: [point(2, [0, 1])] });
    expect(first.result?.status).toBe(UpdateStatus.Acknowledged);
    expect(second.result?.status).toBe(UpdateStatus.Completed);
    expect(second.result?.operationId ?? 0n).toBeGreaterThan(first.result?.operationId ?? 0n);
  });

  it('overwrites by id and canonicalises UUIDs', async () => {
    const name = uniqueName('ids');
    await createCollection(name, 2);
    const uuid = randomUUID();
    const loud = uuid.replaceAll('-', '').toUpperCase();
    await points().upsert({
      collectionName: name,
      wait: true,
      points: [point(loud, [1, 0], { v: 1 }), point(7, [0, 1])],
    });
    await points().upsert({ collectionName: name, wait: true, points: [point(uuid, [1, 1], { v: 2 })] });
    const got = await points().get({
      collectionName: name,
      ids: [{ pointIdOptions: { case: 'uuid', value: uuid.toUpperCase() } }],
      withPayload: { selectorOptions: { case: 'enable', value: true } },
    });
    expect(got.result).toHaveLength(1);
    expect(idOf(got.result[0] ?? {})).toBe(uuid);
    expect(got.result[0]?.payload.v?.kind).toEqual({ case: 'integerValue', value: 2n });
    expect((await points().count({ collectionName: name, exact: true })).result?.count).toBe(2n);
  });

  it('scrolls in id order with offset, limit, filter and payload selection', async () => {
    const name = uniqueName('scroll');
    await createCollection(name, 2);
    await points().upsert({
      collectionName: name,
      wait: true,
      points: [1, 2, 3, 4, 5].map((i) =>
        point(i, [i, 1], { source: i % 2 ? 'odd' : 'even', n: i, extra: 'x' }),
      ),
    });
    const page1 = await points().scroll({ collectionName: name, limit: 2 });
    expect(page1.result.map(idOf)).toEqual([1n, 2n]);
    expect(idOf(page1.nextPageOffset ? { id: page1.nextPageOffset } : {})).toBe(3n);
    const page2 = await points().scroll({ collectionName: name, limit: 2, offset: page1.nextPageOffset });
    expect(page2.result.map(idOf)).toEqual([3n, 4n]);

    const odd = await points().scroll({
      collectionName: name,
      filter: { must: [keyword('source', 'odd')] },
      withPayload: { selectorOptions: { case: 'include', value: { fields: ['n'] } } },
      withVectors: { selectorOptions: { case: 'enable', value: true } },
    });
    expect(odd.result.map(idOf)).toEqual([1n, 3n, 5n]);
    expect(Object.keys(odd.result[0]?.payload ?? {})).toEqual(['n']);
    expect(odd.result[0]?.vectors?.vectorsOptions.case).toBe('vector');
    expect(odd.nextPageOffset).toBeUndefined();
  });

  it('counts with must, should, must_not, range, match any and is_empty filters', async () => {
    const name = uniqueName('filters');
    await createCollection(name, 2);
    await points().upsert({
      collectionName: name,
      wait: true,
      points: [
        point(1, [1, 0], { tags: ['a', 'b'], n: 1, meta: 'x' }),
        point(2, [1, 0], { tags: ['b'], n: 5 }),
        point(3, [1, 0], { tags: ['c'], n: 10, meta: 'y' }),
      ],
    });
    const count = async (filter: Parameters<ReturnType<typeof points>['count']>[0]['filter']) =>
      (await points().count({ collectionName: name, exact: true, filter })).result?.count;
    expect(await count({ must: [keyword('tags', 'b')] })).toBe(2n);
    expect(await count({ must: [keyword('tags', 'b')], mustNot: [range('n', { gte: 5 })] })).toBe(1n);
    expect(await count({ should: [keyword('tags', 'c'), range('n', { lt: 2 })] })).toBe(2n);
    const any = {
      conditionOneOf: {
        case: 'field',
        value: { key: 'tags', match: { matchValue: { case: 'keywords', value: { strings: ['a', 'c'] } } } },
      },
    } as Condition;
    expect(await count({ must: [any] })).toBe(2n);
    const empty = { conditionOneOf: { case: 'isEmpty', value: { key: 'meta' } } } as Condition;
    expect(await count({ must: [empty] })).toBe(1n);
  });

  it('queries nearest points by cosine with score threshold, offset, filter and included payload fields', async () => {
    const name = uniqueName('query');
    await createCollection(name, 2);
    await points().upsert({
      collectionName: name,
      wait: true,
      points: [
        point(1, [1, 0], { title: 'east', group: 'g' }),
        point(2, [1, 1], { title: 'north-east', group: 'g' }),
        point(3, [0, 1], { title: 'north', group: 'h' }),
      ],
    });
    const nearest = {
      variant: { case: 'nearest', value: { variant: { case: 'dense', value: { data: [2, 0] } } } },
    } as Query;
    const all = await points().query({
      collectionName: name,
      query: nearest,
      params: { hnswEf: 128n, exact: false, quantization: { rescore: true, oversampling: 2 } },
      withPayload: { selectorOptions: { case: 'include', value: { fields: ['title'] } } },
    });
    expect(all.result.map(idOf)).toEqual([1n, 2n, 3n]);
    expect(all.result[0]?.score).toBeCloseTo(1, 5);
    expect(all.result[1]?.score).toBeCloseTo(Math.SQRT1_2, 5);
    expect(all.result[0]?.payload).toEqual({
      title: expect.objectContaining({ kind: { case: 'stringValue', value: 'east' } }),
    });

    const filtered = await points().query({
      collectionName: name,
      query: nearest,
      filter: { must: [keyword('group', 'g')] },
      scoreThreshold: 0.5,
      offset: 1n,
      limit: 5n,
    });
    expect(filtered.result.map(idOf)).toEqual([2n]);
    expect(filtered.result[0]?.payload).toEqual({});
  });

  it('ranks by Euclid distance ascending and reports the distance as the score', async () => {
    const name = uniqueName('euclid');
    await createCollection(name, 2, Distance.Euclid);
    await points().upsert({ collectionName: name, wait: true, points: [point(1, [0, 0]), point(2, [3, 4])] });
    const result = await points().query({
      collectionName: name,
      query: { variant: { case: 'nearest', value: { variant: { case: 'dense', value: { data: [3, 3] } } } } },
    });
    expect(result.result.map(idOf)).toEqual([2n, 1n]);
    expect(result.result[0]?.score).toBeCloseTo(1, 5);
    expect(result.result[1]?.score).toBeCloseTo(Math.sqrt(18), 4);
  });

  it('deletes points by id and by filter', async () => {
    const name = uniqueName('delete');
    await createCollection(name, 2);
    await points().upsert({
      collectionName: name,
      wait: true,
      points: [
        point(1, [1, 0], { source: 'a' }),
        point(2, [1, 0], { source: 'b' }),
        point(3, [1, 0], { source: 'b' }),
      ],
    });
    await points().delete({
      collectionName: name,
      wait: true,
      points: {
        pointsSelectorOneOf: {
          case: 'points',
          value: { ids: [{ pointIdOptions: { case: 'num', value: 1n } }] },
        },
      },
    });
    await points().delete({
      collectionName: name,
      wait: true,
      points: { pointsSelectorOneOf: { case: 'filter', value: { must: [keyword('source', 'b')] } } },
    });
    expect((await points().count({ collectionName: name, exact: true })).result?.count).toBe(0n);
  });

  it('reports payload indexes in payload_schema with their type and point counts', async () => {
    const name = uniqueName('index');
    await createCollection(name, 2);
    await points().upsert({
      collectionName: name,
      wait: true,
      points: [point(1, [1, 0], { doc_id: 'a', created_at: 10 }), point(2, [1, 0], { doc_id: 'b' })],
    });
    await points().createFieldIndex({
      collectionName: name,
      wait: true,
      fieldName: 'doc_id',
      fieldType: FieldType.FieldTypeKeyword,
    });
    await points().createFieldIndex({
      collectionName: name,
      wait: true,
      fieldName: 'created_at',
      fieldType: FieldType.FieldTypeInteger,
    });
    const info = (await collections().get({ collectionName: name })).result;
    expect(info?.payloadSchema.doc_id).toMatchObject({ dataType: PayloadSchemaType.Keyword, points: 2n });
    expect(info?.payloadSchema.created_at).toMatchObject({ dataType: PayloadSchemaType.Integer, points: 1n });
    expect(info?.pointsCount).toBe(2n);

    await points().deleteFieldIndex({ collectionName: name, wait: true, fieldName: 'created_at' });
    expect(
      Object.keys((await collections().get({ collectionName: name })).result?.payloadSchema ?? {}),
    ).toEqual(['doc_id']);
  });
});
