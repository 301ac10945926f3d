import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectError } from '@connectrpc/connect';
import {
  type CollectionInfo,
  type Condition,
  Distance,
  type Filter,
  type PointId,
  type PointStruct,
  QdrantClient,
  type Value,
} from '@qdrant/js-client-grpc';
import { realServers } from '../real-servers.js';
import { type QdrantServerOptions, type QdrantTestServer, startQdrantServer } from './index.js';

/**
 * Helpers for tests that talk to Qdrant through the official client: the same test runs against
 * the in-process server or, with `TABOOT_TEST_QDRANT_URL`, against a real Qdrant.
 */
export interface QdrantTarget {
  client: QdrantClient;
  /** The in-process server; undefined against a real Qdrant. */
  server: QdrantTestServer | undefined;
  collections: ReturnType<typeof collectionsApi>;
  points: ReturnType<typeof pointsApi>;
  /** A collection name no other run uses; deleted by `close()` against a real server. */
  name(label: string): string;
  /** Create a collection with an unnamed dense vector. */
  create(name: string, size: number, extra?: Record<string, unknown>): Promise<void>;
  info(name: string): Promise<CollectionInfo>;
  close(): Promise<void>;
}

const collectionsApi = (client: QdrantClient) => client.api('collections');
const pointsApi = (client: QdrantClient) => client.api('points');

/** The real Qdrant when `TABOOT_TEST_QDRANT_URL` is set, else a fresh test server with `options`. */
export async function qdrantTarget(options: QdrantServerOptions = {}): Promise<QdrantTarget> {
  const server = realServers.qdrant ? undefined : await startQdrantServer(options);
  const client = new QdrantClient({
    url: realServers.qdrant ?? server?.url,
    checkCompatibility: false,
    compression: false,
  });
  const created: string[] = [];
  const collections = collectionsApi(client);
  return {
    client,
    server,
    collections,
    points: pointsApi(client),
    name(label) {
      const name = `taboot_test_${label}_${randomUUID().slice(0, 8)}`;
      created.push(name);
      return name;
    },
    async create(name, size, extra = {}) {
      await collections.create({
        collectionName: name,
        vectorsConfig: {
          config: { case: 'params', value: { size: BigInt(size), distance: Distance.Cosine } },
        },
        ...extra,
      });
    },
    async info(name) {
      const info = (await collections.get({ collectionName: name })).result;
      if (!info) throw new Error(`no info for ${name}`);
      return info;
    },
    async close() {
      if (server) {
        await server.close();
        return;
      }
      for (const name of created) await collections.delete({ collectionName: name }).catch(() => undefined);
    },
  };
}

export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

/** A protobuf `Value` from plain JSON; integers become `integer_value`. */
export function value(v: Plain): Value {
  if (v === null) return { kind: { case: 'nullValue', value: 0 } } as Value;
  if (Array.isArray(v)) return { kind: { case: 'listValue', value: { values: v.map(value) } } } as Value;
  if (typeof v === 'object') return { kind: { case: 'structValue', value: { fields: payload(v) } } } as Value;
  if (typeof v === 'string') return { kind: { case: 'stringValue', value: v } } as Value;
  if (typeof v === 'boolean') return { kind: { case: 'boolValue', value: v } } as Value;
  return (
    Number.isInteger(v)
      ? { kind: { case: 'integerValue', value: BigInt(v) } }
      : { kind: { case: 'doubleValue', value: v } }
  ) as Value;
}

export function payload(fields: Record<string, Plain>): Record<string, Value> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, value(v)]));
}

/** Plain JSON back from a protobuf payload, for comparing. */
export function plain(fields: Record<string, Value> | undefined): Record<string, Plain> {
  const one = (v: Value): Plain => {
    const k = v.kind;
    switch (k.case) {
      case 'integerValue':
        return Number(k.value);
      case 'doubleValue':
      case 'stringValue':
      case 'boolValue':
        return k.value;
      case 'listValue':
        return k.value.values.map(one);
      case 'structValue':
        return plain(k.value.fields);
      default:
        return null;
    }
  };
  return Object.fromEntries(Object.entries(fields ?? {}).map(([k, v]) => [k, one(v)]));
}

export function id(n: number | string): PointId {
  return {
    pointIdOptions: typeof n === 'number' ? { case: 'num', value: BigInt(n) } : { case: 'uuid', value: n },
  } as PointId;
}

export function point(n: number | string, vector: number[], fields: Record<string, Plain> = {}): PointStruct {
  return {
    id: id(n),
    vectors: {
      vectorsOptions: { case: 'vector', value: { vector: { case: 'dense', value: { data: vector } } } },
    },
    payload: payload(fields),
  } as PointStruct;
}

export const idOf = (p: { id?: { pointIdOptions: { value?: unknown } } }) => p.id?.pointIdOptions.value;

export const keyword = (key: string, v: string) =>
  ({
    conditionOneOf: { case: 'field', value: { key, match: { matchValue: { case: 'keyword', value: v } } } },
  }) as Condition;

export const integerMatch = (key: string, v: number) =>
  ({
    conditionOneOf: {
      case: 'field',
      value: { key, match: { matchValue: { case: 'integer', value: BigInt(v) } } },
    },
  }) as Condition;

export const hasId = (...ids: Array<number | string>) =>
  ({ conditionOneOf: { case: 'hasId', value: { hasId: ids.map(id) } } }) as Condition;

export const must = (...conditions: Condition[]) => ({ must: conditions }) as Filter;

export const byIds = (...ids: Array<number | string>) =>
  ({ pointsSelectorOneOf: { case: 'points', value: { ids: ids.map(id) } } }) as const;

export const byFilter = (filter: Filter) =>
  ({ pointsSelectorOneOf: { case: 'filter', value: filter } }) as const;

export const allPayload = { selectorOptions: { case: 'enable', value: true } } as const;

/** The error a call fails with (a ConnectError), or a test failure when it succeeds. */
export async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(error)}`);
  return error;
}

/**
 * Poll `read` until `done` holds and return that value: for what a real Qdrant does in the
 * background (optimizers). Fails after `timeoutMs` with the last value seen.
 */
export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const current = await read();
    if (done(current)) return current;
    if (performance.now() > deadline) {
      throw new Error(`condition not reached within ${timeoutMs} ms; last: ${JSON.stringify(current, big)}`);
    }
    await sleep(20);
  }
}

function big(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
