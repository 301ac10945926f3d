import { once } from 'node:events';
import * as http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  createContextKey,
  createContextValues,
  type Interceptor,
} from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { type CollectionInfo, HealthCheckReplySchema, Qdrant } from '@qdrant/js-client-grpc';
import { CallGauge } from './call-gauge.js';
import { collectionsImpl } from './collections-service.js';
import { loadServices } from './descriptors.js';
import { qdrantErrors } from './errors.js';
import { type DropMode, Faults } from './faults.js';
import { pointsImpl } from './points-service.js';
import { ServerState } from './state.js';
import { canonicalUuid, compareKeys, type Json } from './values.js';

export type { CallEvent, CallGauge } from './call-gauge.js';
export { type DropMode, Faults } from './faults.js';
export type { Json } from './values.js';

export interface QdrantServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** When set, every call must carry it in the `api-key` header (or `authorization: Bearer`). */
  apiKey?: string;
  /** How long each write keeps a collection optimizing (Yellow, `indexed_vectors_count` lagging), in ms. Default 0. */
  indexingDelayMs?: number;
}

/** A point as stored: ids as Qdrant returns them (UUIDs canonical), Cosine vectors normalised. */
export interface InspectedPoint {
  /** A canonical UUID string or a uint64 as bigint. */
  id: string | bigint;
  /** The unnamed vector, when the collection has one. */
  vector: Float32Array | undefined;
  vectors: ReadonlyMap<string, Float32Array>;
  payload: { [key: string]: Json };
  version: bigint;
}

export interface InspectedCollection {
  name: string;
  /** In Qdrant's id order: numeric ids first, then UUIDs. */
  points: InspectedPoint[];
  point(id: string | number | bigint): InspectedPoint | undefined;
  /** What `Collections/Get` would answer now. */
  info(): CollectionInfo;
}

export interface QdrantTestServer {
  /** `http://<host>:<port>`, for `new QdrantClient({ url })`. */
  url: string;
  port: number;
  faults: Faults;
  /** Calls received per `Service/Method` (`Points/Upsert`), failed and dropped ones included. */
  calls: Map<string, number>;
  /** Calls being handled now, per method, with start and end events. */
  gauge: CallGauge;
  collection(name: string): InspectedCollection | undefined;
  collectionNames(): string[];
  setIndexingDelay(ms: number): void;
  /** Destroys every open HTTP/2 session, then stops listening. */
  close(): Promise<void>;
}

const streamKey = createContextKey<http2.ServerHttp2Stream | undefined>(undefined, {
  description: 'http2 stream',
});

function inspect(state: ServerState, name: string): InspectedCollection | undefined {
  const stored = state.collections.get(name);
  if (!stored) return undefined;
  const toInspected = (key: string): InspectedPoint | undefined => {
    const p = stored.points.get(key);
    if (!p) return undefined;
    const id = key.startsWith('n:') ? BigInt(key.slice(2)) : key.slice(2);
    return { id, vector: p.vectors.get(''), vectors: p.vectors, payload: p.json, version: p.version };
  };
  return {
    name,
    get points() {
      return [...stored.points.keys()].sort(compareKeys).flatMap((k) => toInspected(k) ?? []);
    },
    point(id) {
      return typeof id === 'string' ? toInspected(`u:${canonicalUuid(id)}`) : toInspected(`n:${BigInt(id)}`);
    },
    info: () => stored.info(),
  };
}

/** An in-memory Qdrant 1.19 speaking real gRPC over h2c; see DESIGN.md section 7. */
export async function startQdrantServer(options: QdrantServerOptions = {}): Promise<QdrantTestServer> {
  const host = options.host ?? '127.0.0.1';
  const state = new ServerState(options.indexingDelayMs ?? 0);
  const faults = new Faults();
  const sockets = new Set<Socket>();
  const calls = new Map<string, number>();
  const gauge = new CallGauge();
  const services = await loadServices();

  const interceptor: Interceptor = (next) => async (req) => {
    const method = `${req.service.name}/${req.method.name}`;
    calls.set(method, (calls.get(method) ?? 0) + 1);
    gauge.start(method);
    try {
      if (options.apiKey !== undefined) {
        const bearer = req.header.get('authorization')?.replace(/^Bearer /, '');
        const key = req.header.get('api-key') ?? bearer;
        if (key === null || key === undefined) throw qdrantErrors.missingApiKey();
        if (key !== options.apiKey) throw qdrantErrors.invalidApiKey();
      }
      const delay = faults.delayFor(method);
      // A call the client cancelled (its deadline passed) stops here, as it leaves the gauge.
      if (delay > 0) await sleep(delay, undefined, { signal: req.signal });
      const failure = faults.takeFailure(method);
      if (failure) throw failure;
      const drop = faults.takeDrop(method);
      if (drop?.when === 'before') dropConnection(req.contextValues.get(streamKey), drop.mode);
      const response = await next(req);
      if (drop?.when === 'after') dropConnection(req.contextValues.get(streamKey), drop.mode);
      return response;
    } finally {
      gauge.end(method);
    }
  };

  /** Destroy the TCP socket under a call, so the client sees a lost connection (no GOAWAY, no RST_STREAM). */
  const dropConnection = (stream: http2.ServerHttp2Stream | undefined, mode: DropMode): never => {
    // `session.socket` is a proxy that refuses destroy(); find the raw socket by its remote port.
    const port = stream?.session?.socket.remotePort;
    for (const socket of sockets) {
      if (socket.remotePort !== port) continue;
      if (mode === 'reset') socket.resetAndDestroy();
      else socket.destroy();
    }
    throw new ConnectError('connection dropped by fault injection', Code.Unavailable);
  };

  const handler = connectNodeAdapter({
    grpc: true,
    grpcWeb: false,
    connect: false,
    interceptors: [interceptor],
    contextValues: (req) =>
      createContextValues().set(
        streamKey,
        'stream' in req ? (req.stream as http2.ServerHttp2Stream) : undefined,
      ),
    routes(router) {
      router.service(Qdrant, {
        healthCheck: () =>
          create(HealthCheckReplySchema, { title: 'qdrant - vector search engine', version: '1.19.0' }),
      });
      router.service(services.collections, collectionsImpl(state));
      router.service(services.points, pointsImpl(state));
    },
  });

  const server = http2.createServer({ settings: { initialWindowSize: 16 * 1024 * 1024 } }, handler);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('session', (session) => session.on('error', () => {}));
  server.on('sessionError', () => {});
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host}:${port}`,
    port,
    faults,
    calls,
    gauge,
    collection: (name) => inspect(state, name),
    collectionNames: () => [...state.collections.keys()],
    setIndexingDelay(ms) {
      state.indexingDelayMs = ms;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
