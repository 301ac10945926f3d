import * as http2 from 'node:http2';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import {
  Distance,
  type PointStruct,
  PointsOperationResponseSchema,
  QdrantClient,
  type QdrantClientResourceExhaustedError,
  UpdateStatus,
  UpsertPointsSchema,
} from '@qdrant/js-client-grpc';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadServices } from '../support/qdrant-server/descriptors.js';
import { type QdrantTestServer, seededRandom, startQdrantServer } from '../support/qdrant-server/index.js';
import { skipSuiteOnReal } from '../support/real-servers.js';

function point(id: number, vector: number[]): PointStruct {
  return {
    id: { pointIdOptions: { case: 'num', value: BigInt(id) } },
    vectors: {
      vectorsOptions: { case: 'vector', value: { vector: { case: 'dense', value: { data: vector } } } },
    },
    payload: {},
  } as PointStruct;
}

async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

/**
 * One unary gRPC call over a plain `node:http2` session, which never cancels it: status, message,
 * body and the stream's id. `headers` are added to the request's (`grpc-timeout`).
 */
function rawCall(
  session: http2.ClientHttp2Session,
  path: string,
  body: Uint8Array,
  headers: http2.OutgoingHttpHeaders = {},
) {
  return new Promise<{
    status: string | undefined;
    message: string | undefined;
    body: Buffer;
    streamId: number;
  }>((resolve, reject) => {
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    frame.set(body, 5);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    const chunks: Buffer[] = [];
    let answer: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => {
      answer = h;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('trailers', (t) => {
      answer = { ...answer, ...t };
    });
    stream.on('end', () =>
      resolve({
        status: answer['grpc-status'] as string | undefined,
        message: answer['grpc-message'] as string | undefined,
        body: Buffer.concat(chunks),
        streamId: stream.id ?? -1,
      }),
    );
    stream.on('error', reject);
    stream.end(frame);
  });
}

describe('Qdrant test server faults', () => {
  skipSuiteOnReal('qdrant', 'fault injection exists only in the test server');
  let server: QdrantTestServer;
  let client: QdrantClient;
  const collections = () => client.api('collections');
  const points = () => client.api('points');

  beforeAll(async () => {
    server = await startQdrantServer();
    client = new QdrantClient({ url: server.url, checkCompatibility: false, compression: false });
    await collections().create({
      collectionName: 'docs',
      vectorsConfig: { config: { case: 'params', value: { size: 2n, distance: Distance.Cosine } } },
    });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.faults.reset();
  });

  /**
   * A Points/Count on a connection of its own, which the test cancels (RST_STREAM, as a client
   * whose caller gave up sends) and then closes.
   */
  function holdCount(): { cancel: () => void; close: () => void } {
    const session = http2.connect(server.url);
    session.on('error', () => {});
    const stream = session.request({
      ':method': 'POST',
      ':path': '/qdrant.Points/Count',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.on('error', () => {});
    // CountPoints { collection_name: "docs" }, in one gRPC frame.
    const message = Buffer.from([0x0a, 0x04, ...Buffer.from('docs')]);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    stream.end(frame);
    return {
      cancel: () => stream.close(http2.constants.NGHTTP2_CANCEL),
      close: () => session.destroy(),
    };
  }

  it("fails the next N matching calls with the code and Qdrant's wording, then recovers", async () => {
    server.faults.failNext(2, Code.Unavailable, undefined, { method: 'Points/Upsert' });
    const before = server.calls.get('Points/Upsert') ?? 0;
    expect((await collections().list({})).collections.length).toBe(1);
    for (let i = 0; i < 2; i++) {
      const error = await rejection(points().upsert({ collectionName: 'docs', points: [point(1, [1, 0])] }));
      expect(error.code).toBe(Code.Unavailable);
      expect(error.rawMessage).toMatch(/^Shard temporarily unavailable: /);
    }
    expect(server.collection('docs')?.point(1)).toBeUndefined();
    await points().upsert({ collectionName: 'docs', wait: true, points: [point(1, [1, 0])] });
    expect(server.collection('docs')?.point(1)).toBeDefined();
    expect(server.calls.get('Points/Upsert')).toBe(before + 3);
  });

  it('fails every n-th matching call until reset', async () => {
    server.faults.failEvery(3, Code.Unavailable, undefined, { method: 'Points/Upsert' });
    const outcomes: string[] = [];
    for (let i = 1; i <= 7; i++) {
      const result = await points()
        .upsert({ collectionName: 'docs', points: [point(i, [1, 0])] })
        .then(() => 'ok')
        .catch((error: { code: Code }) => String(error.code));
      outcomes.push(result);
    }
    expect(outcomes).toEqual([
      'ok',
      'ok',
      String(Code.Unavailable),
      'ok',
      'ok',
      String(Code.Unavailable),
      'ok',
    ]);
    server.faults.reset();
    await points().upsert({ collectionName: 'docs', points: [point(9, [1, 0])] });
  });

  it('sends retry-after with RESOURCE_EXHAUSTED, which the official client moves into error.cause', async () => {
    server.faults.failNext(1, Code.ResourceExhausted, undefined, { retryAfterSeconds: 3 });
    const error = await rejection(collections().list({}));
    // js-client-grpc 1.19 rethrows it as QdrantClientResourceExhaustedError, which connect's
    // instanceof check does not recognise, so the caller gets Unknown with it as the cause.
    expect(error.code).toBe(Code.Unknown);
    const cause = error.cause;
    expect((cause as Error).name).toBe('QdrantClientResourceExhaustedError');
    expect((cause as QdrantClientResourceExhaustedError).code).toBe(Code.ResourceExhausted);
    expect((cause as QdrantClientResourceExhaustedError).retry_after).toBe(3);
    expect((cause as ConnectError).rawMessage).toMatch(/^Rate limiting exceeded: /);
  });

  it('puts retry-after in the response metadata a plain gRPC client reads', async () => {
    const { collections: service } = await loadServices();
    const plain = createClient(service, createGrpcTransport({ baseUrl: server.url }));
    server.faults.failNext(
      1,
      Code.ResourceExhausted,
      'Rate limiting exceeded: Write rate limit exceeded: 12 of 10',
      {
        retryAfterSeconds: 7,
      },
    );
    const error = await rejection(plain.list({}));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toBe('Rate limiting exceeded: Write rate limit exceeded: 12 of 10');
    expect(error.metadata.get('retry-after')).toBe('7');
  });

  it('drops the connection before a call is handled: the client sees ECONNRESET and nothing is written', async () => {
    server.faults.dropNext(1, { method: 'Points/Upsert' });
    const error = await rejection(points().upsert({ collectionName: 'docs', points: [point(10, [1, 0])] }));
    expect(error.code).toBe(Code.Aborted);
    expect(error.rawMessage).toMatch(/ECONNRESET/);
    expect(server.collection('docs')?.point(10)).toBeUndefined();
    // The client reconnects on the next call.
    await points().upsert({ collectionName: 'docs', wait: true, points: [point(10, [1, 0])] });
    expect(server.collection('docs')?.point(10)).toBeDefined();
  });

  it('drops the connection after handling: the write happened though the client saw an error', async () => {
    server.faults.dropNext(1, { method: 'Points/Upsert', afterHandling: true, mode: 'close' });
    const error = await rejection(points().upsert({ collectionName: 'docs', points: [point(11, [0, 1])] }));
    expect(error.code).toBe(Code.Canceled);
    expect(error.rawMessage).toMatch(/stream closed/);
    // Acknowledged means queued: with deferred visibility it shows once applied.
    server.applyPending('docs');
    expect(server.collection('docs')?.point(11)?.vector).toEqual(new Float32Array([0, 1]));
  });

  it('delays calls of one method by the configured latency, and no other method', async () => {
    // Told by the server's own gauge, not by a clock: a loaded machine can make any call slow.
    server.faults.latencyByMethod.set('Points/Count', 600_000);
    const held = holdCount();
    try {
      await vi.waitFor(() => expect(server.gauge.inFlight.get('Points/Count')).toBe(1));
      // Another method is answered while the Count is held.
      expect((await collections().list({})).collections.length).toBe(1);
      expect(server.gauge.inFlight.get('Points/Count')).toBe(1);
      // A client that gives up ends the call on the server too.
      held.cancel();
      await vi.waitFor(() => expect(server.gauge.inFlight.get('Points/Count')).toBe(0));
    } finally {
      held.close();
    }
  });

  it("ends a delayed call when the client's deadline passes first", async () => {
    server.faults.latencyByMethod.set('Points/Count', 600_000);
    // Any deadline works: however loaded the machine, it passes long before the latency does.
    const impatient = new QdrantClient({
      url: server.url,
      checkCompatibility: false,
      compression: false,
      timeout: 200,
    });
    const error = await rejection(impatient.api('points').count({ collectionName: 'docs' }));
    expect([Code.Canceled, Code.DeadlineExceeded]).toContain(error.code);
  });

  it('fails a seeded share of matching calls, the same calls for the same seed', async () => {
    const outcomes = async () => {
      const seen: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        seen.push(
          await points()
            .count({ collectionName: 'docs' })
            .then(() => false)
            .catch((error: ConnectError) => error.code === Code.Unavailable),
        );
      }
      return seen;
    };
    server.faults.failRate(0.25, Code.Unavailable, undefined, { method: 'Points/Count', seed: 7 });
    const first = await outcomes();
    const draw = seededRandom(7);
    expect(first).toEqual(Array.from({ length: 40 }, () => draw() < 0.25));
    expect(first.filter(Boolean).length).toBeGreaterThan(0);
    server.faults.reset();
    server.faults.failRate(0.25, Code.Unavailable, undefined, { method: 'Points/Count', seed: 7 });
    expect(await outcomes()).toEqual(first);
  });

  it.each([
    [Code.Unavailable, /^Shard temporarily unavailable: /],
    [Code.ResourceExhausted, /^Rate limiting exceeded: /],
    [Code.DeadlineExceeded, /^Timeout: /],
  ])("answers injected code %i with Qdrant's wording for it", async (code, message) => {
    const { collections: service } = await loadServices();
    const plain = createClient(service, createGrpcTransport({ baseUrl: server.url }));
    server.faults.failNext(1, code);
    const error = await rejection(plain.list({}));
    expect(error.code).toBe(code);
    expect(error.rawMessage).toMatch(message);
  });

  it('rounds retry-after up to whole seconds, as Qdrant does', async () => {
    const { collections: service } = await loadServices();
    const plain = createClient(service, createGrpcTransport({ baseUrl: server.url }));
    server.faults.failNext(1, Code.ResourceExhausted, undefined, { retryAfterSeconds: 0.2 });
    expect((await rejection(plain.list({}))).metadata.get('retry-after')).toBe('1');
  });

  it('draws a latency function again for every matching call', async () => {
    const drawn: number[] = [];
    server.faults.latencyByMethod.set('Points/Count', () => {
      drawn.push(0);
      return 0;
    });
    for (let i = 0; i < 3; i++) await points().count({ collectionName: 'docs' });
    await collections().list({});
    expect(drawn).toHaveLength(3);
    // The value drawn is the delay: a call held far longer than any test is seen held.
    server.faults.latencyByMethod.set('Points/Count', () => 600_000);
    const held = holdCount();
    try {
      await vi.waitFor(() => expect(server.gauge.inFlight.get('Points/Count')).toBe(1));
      held.cancel();
      await vi.waitFor(() => expect(server.gauge.inFlight.get('Points/Count')).toBe(0));
    } finally {
      held.close();
    }
  });

  it('sends GOAWAY after answering a call, then closes the session: the client reconnects for the next', async () => {
    server.faults.goAwayNext(1, { method: 'Collections/List' });
    const session = http2.connect(server.url);
    const goaway = new Promise<{ code: number; lastStreamId: number }>((resolve) =>
      session.once('goaway', (code, lastStreamId) => resolve({ code, lastStreamId })),
    );
    try {
      const reply = await rawCall(session, '/qdrant.Collections/List', new Uint8Array());
      expect(reply.status).toBe('0');
      expect(await goaway).toEqual({ code: http2.constants.NGHTTP2_NO_ERROR, lastStreamId: reply.streamId });
    } finally {
      session.destroy();
    }
    server.faults.goAwayNext(1, { method: 'Collections/List' });
    expect((await collections().list({})).collections.length).toBe(1);
    expect((await collections().list({})).collections.length).toBe(1);
  });

  it('refuses a call with GOAWAY and REFUSED_STREAM: not handled, safe to retry', async () => {
    server.faults.goAwayNext(1, { method: 'Points/Upsert', refuse: true });
    const error = await rejection(
      points().upsert({ collectionName: 'docs', wait: true, points: [point(50, [1, 0])] }),
    );
    // connect-node reports the reset stream as INTERNAL; only the message tells it was refused.
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toBe('Stream closed with error code NGHTTP2_REFUSED_STREAM');
    expect(server.collection('docs')?.point(50)).toBeUndefined();
    await points().upsert({ collectionName: 'docs', wait: true, points: [point(50, [1, 0])] });
    expect(server.collection('docs')?.point(50)).toBeDefined();
  });

  it('answers a call whose grpc-timeout passes while it waits as Qdrant (tonic) does: CANCELLED, "Timeout expired"', async () => {
    // Not INTERNAL: a client that has not yet given up on its own must be able to retry it.
    server.faults.latencyByMethod.set('Points/Count', 2_000);
    const session = http2.connect(server.url);
    session.on('error', () => {});
    try {
      const reply = await rawCall(
        session,
        '/qdrant.Points/Count',
        Buffer.from([0x0a, 0x04, ...Buffer.from('docs')]),
        {
          'grpc-timeout': '100m',
        },
      );
      expect(reply.status).toBe(String(Code.Canceled));
      expect(decodeURIComponent(reply.message ?? '')).toBe('Timeout expired');
    } finally {
      session.close();
    }
  });

  it('accepts raw gRPC frames from a hand-written HTTP/2 client', async () => {
    const session = http2.connect(server.url);
    const call = (path: string, body: Uint8Array) => rawCall(session, path, body);
    try {
      const upsert = (name: string) =>
        toBinary(
          UpsertPointsSchema,
          create(UpsertPointsSchema, { collectionName: name, wait: true, points: [point(40, [0.5, 0.5])] }),
        );
      const ok = await call('/qdrant.Points/Upsert', upsert('docs'));
      expect(ok.status).toBe('0');
      const reply = fromBinary(
        PointsOperationResponseSchema,
        ok.body.subarray(5, 5 + ok.body.readUInt32BE(1)),
      );
      expect(reply.result?.status).toBe(UpdateStatus.Completed);
      expect(server.collection('docs')?.point(40)).toBeDefined();

      const missing = await call('/qdrant.Points/Upsert', upsert('nope'));
      expect(missing.status).toBe(String(Code.NotFound));
      expect(decodeURIComponent(missing.message ?? '')).toBe("Not found: Collection `nope` doesn't exist!");
    } finally {
      session.close();
    }
  });

  it("requires the api-key header when started with one, with Qdrant's UNAUTHENTICATED messages", async () => {
    const secured = await startQdrantServer({ apiKey: 'secret' });
    try {
      const make = (apiKey?: string) =>
        new QdrantClient({
          url: secured.url,
          apiKey,
          https: false,
          checkCompatibility: false,
          compression: false,
        });
      const missing = await rejection(make().api('collections').list({}));
      expect(missing.code).toBe(Code.Unauthenticated);
      expect(missing.rawMessage).toBe('Must provide an API key or an Authorization bearer token');
      const wrong = await rejection(make('guess').api('collections').list({}));
      expect(wrong.code).toBe(Code.Unauthenticated);
      expect(wrong.rawMessage).toBe('Invalid API key or JWT');
      expect((await make('secret').api('collections').list({})).collections).toEqual([]);
    } finally {
      await secured.close();
    }
  });

  it('closes promptly with a call in flight, failing that call', async () => {
    const doomed = await startQdrantServer();
    doomed.faults.latencyMs = 60_000;
    const other = new QdrantClient({ url: doomed.url, checkCompatibility: false, compression: false });
    const pending = rejection(other.api('collections').list({}));
    while ((doomed.calls.get('Collections/List') ?? 0) === 0) await new Promise((r) => setTimeout(r, 5));
    await doomed.close();
    expect((await pending).code).toBeTypeOf('number');
  });
});
