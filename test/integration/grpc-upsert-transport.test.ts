import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as http2 from 'node:http2';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import {
  Distance,
  PointsOperationResponseSchema,
  QdrantClient,
  UpdateStatus,
  type UpsertPoints,
} from '@qdrant/js-client-grpc';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/errors.js';
import { GrpcUpsertTransport } from '../../src/qdrant/grpc-upsert-transport.js';
import { type EncodablePoint, encodeUpsertPoints } from '../../src/qdrant/point-encoder.js';
import { pointId } from '../../src/qdrant/point-id.js';
import { type GrpcSink, startGrpcSink } from '../support/grpc-sink.js';
import { loadServices } from '../support/qdrant-server/descriptors.js';
import { startQdrantServer } from '../support/qdrant-server/index.js';

const API_KEY = 'sk-test-0123456789abcdef';

function points(count: number, dim: number, offset = 0): EncodablePoint[] {
  return Array.from({ length: count }, (_, i) => {
    const vector = new Float32Array(dim);
    for (let d = 0; d < dim; d++) vector[d] = ((i + offset) * 31 + d) / 1000;
    return {
      id: pointId('docs/readme.md', i + offset),
      vector,
      payload: {
        doc_id: 'docs/readme.md',
        chunk_index: i + offset,
        content: `chunk ${i + offset} ✓`,
        tags: ['a'],
      },
    };
  });
}

function message(collectionName: string, batch: EncodablePoint[], wait = false): Uint8Array {
  return encodeUpsertPoints({ collectionName, wait, points: batch });
}

async function rejection(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

const transports: GrpcUpsertTransport[] = [];
function transport(
  url: string,
  options: { apiKey?: string; timeoutMs?: number; pingTimeoutMs?: number } = {},
): GrpcUpsertTransport {
  const created = new GrpcUpsertTransport({
    url,
    timeoutMs: options.timeoutMs ?? 30_000,
    pingTimeoutMs: options.pingTimeoutMs,
    apiKey: options.apiKey,
  });
  transports.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

/** A raw HTTP/2 server whose upsert handler the test writes. */
async function rawServer(
  onStream: (stream: http2.ServerHttp2Stream, session: http2.ServerHttp2Session, n: number) => void,
): Promise<{ url: string; sessions: number; close(): Promise<void> }> {
  const server = http2.createServer();
  const open = new Set<http2.ServerHttp2Session>();
  const state = { sessions: 0 };
  let calls = 0;
  server.on('session', (session) => {
    state.sessions++;
    open.add(session);
    session.on('error', () => {});
    session.once('close', () => open.delete(session));
  });
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    onStream(stream, stream.session as http2.ServerHttp2Session, calls++);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get sessions() {
      return state.sessions;
    },
    close: async () => {
      for (const session of open) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function okFrame(): Buffer {
  const body = toBinary(
    PointsOperationResponseSchema,
    create(PointsOperationResponseSchema, {
      result: { operationId: 7n, status: UpdateStatus.Completed },
      time: 0.5,
    }),
  );
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  return frame;
}

function answerOk(stream: http2.ServerHttp2Stream): void {
  stream.resume();
  stream.once('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(okFrame());
  });
}

describe('GrpcUpsertTransport against the discard sink', () => {
  let sink: GrpcSink;
  beforeAll(async () => {
    sink = await startGrpcSink();
  });
  afterAll(async () => {
    await sink.close();
  });

  it('sends the encoded message as one gRPC frame and reads the acknowledgement', async () => {
    const encoded = message('docs', points(3, 8));
    const before = { ...sink.stats };
    const result = await transport(sink.url, { apiKey: API_KEY }).upsert(encoded);
    expect(result.status).toBe('acknowledged');
    expect(typeof result.operationId).toBe('bigint');
    expect(result.timeSeconds).toBeGreaterThan(0);
    expect(sink.stats.points - before.points).toBe(3);
    expect(sink.stats.bytes - before.bytes).toBe(encoded.byteLength);
    expect(sink.stats.lastHeaders).toMatchObject({
      ':method': 'POST',
      ':path': '/qdrant.Points/Upsert',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '30000m',
      'api-key': API_KEY,
    });
    expect(sink.stats.lastHeaders?.['user-agent']).toMatch(/taboot/);
  });

  it('sends no api-key header without a key', async () => {
    await transport(sink.url).upsert(message('docs', points(1, 4)));
    expect(sink.stats.lastHeaders?.['api-key']).toBeUndefined();
  });

  it('carries many multi-megabyte requests in parallel over one session', async () => {
    const before = { ...sink.stats };
    const t = transport(sink.url);
    const batches = Array.from({ length: 8 }, (_, b) => message('docs', points(500, 1024, b * 500)));
    const results = await Promise.all(batches.map((encoded) => t.upsert(encoded)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill('acknowledged'));
    expect(sink.stats.points - before.points).toBe(4000);
    expect(sink.stats.bytes - before.bytes).toBe(batches.reduce((sum, b) => sum + b.byteLength, 0));
    expect(sink.stats.sessions - before.sessions).toBe(1);
  });

  it('encodes and sends in one step with upsertPoints, recycling buffers between calls', async () => {
    const t = transport(sink.url);
    for (const count of [300, 20, 300, 301, 1]) {
      const before = { ...sink.stats };
      const batch = points(count, 64);
      const result = await t.upsertPoints({ collectionName: 'docs', wait: false, points: batch });
      expect(result.status).toBe('acknowledged');
      expect(result.requestBytes).toBe(message('docs', batch).byteLength);
      expect(sink.stats.points - before.points).toBe(count);
      expect(sink.stats.bytes - before.bytes).toBe(result.requestBytes);
    }
  });

  it('rejects with the abort reason and stays usable', async () => {
    const t = transport(sink.url);
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(t.upsert(message('docs', points(1, 4)), controller.signal)).rejects.toBe(reason);
    await expect(t.upsert(message('docs', points(1, 4)))).resolves.toMatchObject({ status: 'acknowledged' });
  });
});

describe('GrpcUpsertTransport against the Qdrant test server', () => {
  it('upserts points the official client reads back field by field', async () => {
    const server = await startQdrantServer({ apiKey: API_KEY });
    try {
      const client = new QdrantClient({ url: server.url, apiKey: API_KEY, checkCompatibility: false });
      await client.api('collections').create({
        collectionName: 'docs',
        vectorsConfig: { config: { case: 'params', value: { size: 16n, distance: Distance.Dot } } },
      });
      const batch = points(20, 16);
      const result = await transport(server.url, { apiKey: API_KEY }).upsert(message('docs', batch, true));
      expect(result.status).toBe('completed');
      const read = await client.api('points').get({
        collectionName: 'docs',
        ids: batch.map((p) => ({ pointIdOptions: { case: 'uuid', value: p.id as string } })),
        withPayload: { selectorOptions: { case: 'enable', value: true } },
        withVectors: { selectorOptions: { case: 'enable', value: true } },
      });
      expect(read.result).toHaveLength(20);
      for (const stored of read.result) {
        const id = stored.id?.pointIdOptions.value;
        const original = batch.find((p) => p.id === id)!;
        const vectors = stored.vectors?.vectorsOptions;
        expect(vectors?.case).toBe('vector');
        const dense =
          vectors?.case === 'vector' && vectors.value.vector.case === 'dense'
            ? vectors.value.vector.value.data
            : [];
        expect(dense).toEqual(Array.from(original.vector));
        expect(stored.payload.content?.kind).toEqual({
          case: 'stringValue',
          value: original.payload.content,
        });
        expect(stored.payload.chunk_index?.kind).toEqual({
          case: 'integerValue',
          value: BigInt(original.payload.chunk_index as number),
        });
      }
    } finally {
      await server.close();
    }
  });

  it('maps Qdrant statuses to ServiceErrors: bad input is final, overload is retryable with retry-after', async () => {
    const server = await startQdrantServer();
    try {
      const client = new QdrantClient({ url: server.url, checkCompatibility: false });
      await client.api('collections').create({
        collectionName: 'docs',
        vectorsConfig: { config: { case: 'params', value: { size: 16n, distance: Distance.Cosine } } },
      });
      const t = transport(server.url);

      const missing = await rejection(t.upsert(message('nope', points(1, 16))));
      expect(missing.code).toBe('NOT_FOUND');
      expect(missing.retryable).toBe(false);
      expect(missing.message).toContain("Not found: Collection `nope` doesn't exist!");

      const dimension = await rejection(t.upsert(message('docs', points(1, 15))));
      expect(dimension.code).toBe('INVALID_ARGUMENT');
      expect(dimension.retryable).toBe(false);
      expect(dimension.message).toContain('expected dim: 16, got 15');

      server.faults.failNext(1, Code.ResourceExhausted, undefined, { retryAfterSeconds: 3 });
      const limited = await rejection(t.upsert(message('docs', points(1, 16))));
      expect(limited).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retryable: true, retryAfterMs: 3000 });
      expect(limited.message).toContain('Rate limiting exceeded');

      for (const [code, name] of [
        [Code.Unavailable, 'UNAVAILABLE'],
        [Code.DeadlineExceeded, 'DEADLINE_EXCEEDED'],
        [Code.Aborted, 'ABORTED'],
      ] as const) {
        server.faults.failNext(1, code);
        expect(await rejection(t.upsert(message('docs', points(1, 16))))).toMatchObject({
          code: name,
          retryable: true,
        });
      }
      server.faults.failNext(1, Code.Internal);
      expect(await rejection(t.upsert(message('docs', points(1, 16))))).toMatchObject({
        code: 'INTERNAL',
        retryable: false,
      });

      await expect(t.upsert(message('docs', points(2, 16)))).resolves.toMatchObject({
        status: 'acknowledged',
      });
      // Acknowledged writes become visible once applied, as in Qdrant.
      server.applyPending('docs');
      expect(server.collection('docs')?.points).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('reports a dropped connection as retryable and reconnects on the next call', async () => {
    const server = await startQdrantServer();
    try {
      const client = new QdrantClient({ url: server.url, checkCompatibility: false });
      await client.api('collections').create({
        collectionName: 'docs',
        vectorsConfig: { config: { case: 'params', value: { size: 4n, distance: Distance.Dot } } },
      });
      const t = transport(server.url);
      await t.upsert(message('docs', points(1, 4)));
      for (const mode of ['reset', 'close'] as const) {
        server.faults.dropNext(1, { method: 'Points/Upsert', mode });
        const dropped = await rejection(t.upsert(message('docs', points(1, 4))));
        expect(dropped.retryable).toBe(true);
        await expect(t.upsert(message('docs', points(3, 4)))).resolves.toMatchObject({
          status: 'acknowledged',
        });
      }
    } finally {
      await server.close();
    }
  });

  it('never puts the API key in an error', async () => {
    const server = await startQdrantServer({ apiKey: 'the-right-key-42' });
    try {
      const error = await rejection(
        transport(server.url, { apiKey: API_KEY }).upsert(message('docs', points(1, 4))),
      );
      expect(error.code).toBe('UNAUTHENTICATED');
      expect(error.retryable).toBe(false);
      expect(`${error.message} ${error.hint ?? ''} ${String(error.cause)}`).not.toContain(API_KEY);
    } finally {
      await server.close();
    }
  });
});

describe('GrpcUpsertTransport against a connect-node server', () => {
  it('is read by connect-node and maps its errors, metadata and percent-encoded messages', async () => {
    const services = await loadServices();
    const received: UpsertPoints[] = [];
    const keys: (string | null)[] = [];
    const handler = connectNodeAdapter({
      grpc: true,
      connect: false,
      grpcWeb: false,
      routes(router) {
        router.service(services.points, {
          upsert(request, context) {
            received.push(request);
            keys.push(context.requestHeader.get('api-key'));
            if (request.collectionName === 'fail') {
              throw new ConnectError(`Wrong input: émoji 🚀 100% bad, key ${API_KEY}`, Code.InvalidArgument);
            }
            if (request.collectionName === 'slow-down') {
              throw new ConnectError('Rate limiting exceeded', Code.ResourceExhausted, {
                'retry-after': '2',
              });
            }
            return create(PointsOperationResponseSchema, {
              result: { operationId: 1n, status: UpdateStatus.Acknowledged },
              time: 0.25,
            });
          },
        });
      },
    });
    const server = http2.createServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const t = transport(url, { apiKey: API_KEY });
      const batch = points(5, 32);
      await expect(t.upsert(message('docs', batch))).resolves.toEqual({
        status: 'acknowledged',
        operationId: 1n,
        timeSeconds: 0.25,
      });
      expect(received[0]?.points).toHaveLength(5);
      expect(received[0]?.points[4]?.id?.pointIdOptions).toEqual({ case: 'uuid', value: batch[4]!.id });
      expect(keys[0]).toBe(API_KEY);

      // A smaller batch written into a recycled, larger buffer must arrive exactly as encoded.
      await t.upsertPoints({ collectionName: 'docs', wait: true, points: points(40, 32, 100) });
      const small = points(3, 32, 7);
      await t.upsertPoints({ collectionName: 'docs', wait: true, points: small, ordering: 'strong' });
      const last = received.at(-1)!;
      expect(last.wait).toBe(true);
      expect(last.points.map((p) => p.id?.pointIdOptions.value)).toEqual(small.map((p) => p.id));
      const dense = last.points[2]?.vectors?.vectorsOptions;
      expect(
        dense?.case === 'vector' && dense.value.vector.case === 'dense' && dense.value.vector.value.data,
      ).toEqual(Array.from(small[2]!.vector));

      const bad = await rejection(t.upsert(message('fail', batch)));
      expect(bad.code).toBe('INVALID_ARGUMENT');
      expect(bad.message).toContain('Wrong input: émoji 🚀 100% bad, key ***');
      expect(bad.message).not.toContain(API_KEY);

      const limited = await rejection(t.upsert(message('slow-down', batch)));
      expect(limited).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retryable: true, retryAfterMs: 2000 });
    } finally {
      server.close();
    }
  });
});

describe('GrpcUpsertTransport on transport failures', () => {
  it('says Qdrant is unreachable, with a hint, when the connection is refused', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const error = await rejection(
      transport(`http://127.0.0.1:${port}`).upsert(message('docs', points(1, 4))),
    );
    expect(error.retryable).toBe(true);
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toMatch(/cannot connect .*ECONNREFUSED/);
    expect(error.hint).toMatch(/Is Qdrant running/);
  });

  it('opens a new session after a GOAWAY', async () => {
    // GOAWAY goes out before the response, so the client has read it when its first call resolves.
    const server = await rawServer((stream, session) => {
      session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id ?? 0);
      answerOk(stream);
    });
    try {
      const t = transport(server.url);
      await expect(t.upsert(message('docs', points(1, 4)))).resolves.toMatchObject({ status: 'completed' });
      await expect(t.upsert(message('docs', points(1, 4)))).resolves.toMatchObject({ status: 'completed' });
      expect(server.sessions).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('reports a stream reset and a server destroyed mid-request as retryable connection errors', async () => {
    const server = await rawServer((stream, session, n) => {
      if (n === 0) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      else if (n === 1) session.destroy();
      else answerOk(stream);
    });
    try {
      const t = transport(server.url);
      const reset = await rejection(t.upsert(message('docs', points(50, 256))));
      expect(reset).toMatchObject({ code: 'CONNECTION', retryable: true });
      const destroyed = await rejection(t.upsert(message('docs', points(50, 256))));
      expect(destroyed.retryable).toBe(true);
      await expect(t.upsert(message('docs', points(1, 4)))).resolves.toMatchObject({ status: 'completed' });
    } finally {
      await server.close();
    }
  });

  it('reads trailers-only errors, HTTP errors and missing statuses', async () => {
    const server = await rawServer((stream, _session, n) => {
      stream.resume();
      if (n === 0) {
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': String(Code.Unavailable),
            'grpc-message': encodeURIComponent('Shard temporarily unavailable: 100% ✓'),
            'retry-after': '5',
          },
          { endStream: true },
        );
      } else if (n === 1) {
        stream.respond({ ':status': 503, 'content-type': 'text/plain' });
        stream.end('overloaded');
      } else {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
        stream.end(okFrame());
      }
    });
    try {
      const t = transport(server.url);
      const trailersOnly = await rejection(t.upsert(message('docs', points(1, 4))));
      expect(trailersOnly).toMatchObject({ code: 'UNAVAILABLE', retryable: true, retryAfterMs: 5000 });
      expect(trailersOnly.message).toContain('Shard temporarily unavailable: 100% ✓');
      const http = await rejection(t.upsert(message('docs', points(1, 4))));
      expect(http).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      expect(http.message).toContain('HTTP 503');
      const noStatus = await rejection(t.upsert(message('docs', points(1, 4))));
      expect(noStatus.message).toContain('without a gRPC status');
    } finally {
      await server.close();
    }
  });

  it('gives up after timeoutMs with a retryable DEADLINE_EXCEEDED', async () => {
    const server = await rawServer((stream) => stream.resume());
    try {
      const t = transport(server.url, { timeoutMs: 300 });
      const error = await rejection(t.upsert(message('docs', points(1, 4))));
      expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', retryable: true });
      expect(server.sessions).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('retires a session whose call outlived its deadline: the retry opens a new one, the dead one is destroyed', async () => {
    const server = await rawServer((stream) => answerOk(stream));
    // A TCP proxy that forwards until told to black-hole: its connections then stay open and
    // silent, as one dropped by a NAT or a vanished peer does.
    let blackHole = false;
    const clients: Socket[] = [];
    const proxy = createServer((client) => {
      clients.push(client);
      const upstream = connect(Number(new URL(server.url).port), '127.0.0.1');
      client.on('error', () => {});
      upstream.on('error', () => {});
      client.on('data', (chunk) => {
        if (!blackHole) upstream.write(chunk);
      });
      upstream.on('data', (chunk) => {
        if (!blackHole) client.write(chunk);
      });
      client.on('close', () => upstream.destroy());
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    try {
      // The calls that must succeed get a deadline far above what one takes on this machine now
      // (a loaded machine took more than 500 ms): measured on a connection of its own.
      const measuring = transport(server.url);
      let slowest = 0;
      for (let i = 0; i < 3; i += 1) {
        const started = performance.now();
        await measuring.upsert(message('docs', points(1, 4)));
        slowest = Math.max(slowest, performance.now() - started);
      }
      const t = transport(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, {
        timeoutMs: Math.max(500, Math.ceil(slowest * 20)),
        pingTimeoutMs: Math.max(200, Math.ceil(slowest * 8)),
      });
      await t.upsert(message('docs', points(1, 4)));
      blackHole = true;
      const deadConnectionClosed = once(clients[0]!, 'close');
      const error = await rejection(t.upsert(message('docs', points(1, 4))));
      expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', retryable: true });
      // Only the first connection is black-holed: a new one carries the retry.
      blackHole = false;
      const result = await t.upsert(message('docs', points(1, 4)));
      expect(result.status).toBe('completed');
      expect(clients).toHaveLength(2);
      await deadConnectionClosed;
    } finally {
      for (const client of clients) client.destroy();
      proxy.close();
      await server.close();
    }
  });

  it('cancels an in-flight call on abort and rejects with the reason', async () => {
    const controller = new AbortController();
    const reason = new Error('interrupted');
    let cancelled = false;
    const server = await rawServer((stream) => {
      stream.resume();
      stream.once('close', () => {
        cancelled = stream.rstCode === http2.constants.NGHTTP2_CANCEL;
      });
      controller.abort(reason);
    });
    try {
      await expect(
        transport(server.url).upsert(message('docs', points(1, 4)), controller.signal),
      ).rejects.toBe(reason);
      await expect.poll(() => cancelled).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('reports a sink process killed mid-upload as retryable', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/grpc-sink.ts', '--port', '0'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    try {
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      const port = /listening (\d+)/.exec(line.toString())?.[1];
      expect(port).toBeDefined();
      const t = transport(`http://127.0.0.1:${port}`);
      await t.upsert(message('docs', points(1, 4)));
      const big = message('docs', points(2000, 1024));
      const pending = Promise.all([t.upsert(big), t.upsert(big), t.upsert(big), t.upsert(big)]);
      child.kill('SIGKILL');
      const error = await rejection(pending);
      expect(error.retryable).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
