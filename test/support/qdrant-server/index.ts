import { once } from 'node:events';
import type { Server } from 'node:http';
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
import { Counters } from './accounting.js';
import { CallGauge } from './call-gauge.js';
import { collectionsImpl } from './collections-service.js';
import { loadServices } from './descriptors.js';
import { qdrantErrors } from './errors.js';
import { type DropMode, Faults } from './faults.js';
import { pointsImpl } from './points-service.js';
import { startRest } from './rest.js';
import { ServerState } from './state.js';
import { canonicalUuid, compareKeys, type Json } from './values.js';

export { mulberry32 as seededRandom } from '../../../src/bench/vectors.js';
export { Counters, filterScanCost } from './accounting.js';
export type { CallEvent, CallGauge } from './call-gauge.js';
export { type DropMode, Faults, type Latency } from './faults.js';
export type { Json } from './values.js';

/** See `QdrantServerOptions.visibility`. */
export type Visibility = 'immediate' | 'deferred';

/**
 * `deferred`, as a loaded Qdrant behaves: a `wait=false` write is visible only later, so a test
 * that counts right after an ingest passes only because taboot ends with a `wait=true` barrier.
 */
export const defaultVisibility: Visibility = 'deferred';
/**
 * Long enough that a read right after a client exits misses its last `wait=false` writes every
 * time (50 ms let some of those tests pass by luck), short enough that a client that polls waits
 * a moment rather than forever. A `wait=true` write applies the queue at once.
 */
const defaultApplyDelayMs = 1000;

export interface QdrantServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** When set, every call must carry it in the `api-key` header (or `authorization: Bearer`). */
  apiKey?: string;
  /** How long an optimization (indexing a segment past `indexing_threshold`) keeps a collection yellow, in ms. Default 0. */
  indexingDelayMs?: number;
  /**
   * When `wait=false` writes become visible. `immediate` (the default, see `defaultVisibility`):
   * before they are answered, as on an idle Qdrant. `deferred`: they are acknowledged at once and
   * applied `applyDelayMs` later or by the next `wait=true` write to the collection, whichever
   * comes first, in order, as Qdrant's update queue does; reads see only applied writes.
   */
  visibility?: Visibility;
  /** With `deferred` visibility, ms until an acknowledged write is applied. Default 1000; `Infinity`: only by a `wait=true` write or `applyPending()`. */
  applyDelayMs?: number;
  /** Serve Qdrant's REST `/telemetry` too, on this port (0: any free one). Default: no REST side. */
  restPort?: number;
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
  /** Applied points (what reads see), in Qdrant's id order: numeric ids first, then UUIDs. */
  points: InspectedPoint[];
  point(id: string | number | bigint): InspectedPoint | undefined;
  /** Writes acknowledged and not applied yet. */
  pending: number;
  /** What `Collections/Get` would answer now. */
  info(): CollectionInfo;
}

export interface QdrantTestServer {
  /** `http://<host>:<port>`, for `new QdrantClient({ url })`. */
  url: string;
  port: number;
  /** The REST side's URL (`restPort` set), for `/telemetry`; undefined otherwise. */
  restUrl: string | undefined;
  faults: Faults;
  /** Calls, points scanned and response times per method; `counters.reset()` between phases. */
  counters: Counters;
  /** `counters.calls`: calls received per `Service/Method` (`Points/Upsert`), failed and dropped ones included. */
  calls: Map<string, number>;
  /** Calls being handled now, per method, with start and end events. */
  gauge: CallGauge;
  /** `counters.scanned`: stored points visited per method (see `filterScanCost`). */
  scanned: Map<string, number>;
  /** Writes that failed after they were acknowledged (`wait=false`), which Qdrant only logs. */
  lateErrors: ReadonlyArray<{ collection: string; error: unknown }>;
  collection(name: string): InspectedCollection | undefined;
  collectionNames(): string[];
  setIndexingDelay(ms: number): void;
  /** Change when `wait=false` writes become visible (see `QdrantServerOptions.visibility`). */
  setVisibility(visibility: Visibility, applyDelayMs?: number): void;
  /** Apply every acknowledged write now (of one collection, or all). */
  applyPending(collection?: string): void;
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
    get pending() {
      return stored.queue.length;
    },
    info: () => stored.info(),
  };
}

/** An in-memory Qdrant 1.19 speaking real gRPC over h2c; see DESIGN.md section 7. */
export async function startQdrantServer(options: QdrantServerOptions = {}): Promise<QdrantTestServer> {
  const host = options.host ?? '127.0.0.1';
  const applyDelay = (visibility: Visibility, ms: number | undefined) =>
    visibility === 'deferred' ? (ms ?? defaultApplyDelayMs) : undefined;
  const state = new ServerState({
    indexingDelayMs: options.indexingDelayMs,
    applyDelayMs: applyDelay(options.visibility ?? defaultVisibility, options.applyDelayMs),
  });
  const faults = new Faults();
  const counters = new Counters();
  const sockets = new Set<Socket>();
  const gauge = new CallGauge();
  const services = await loadServices();

  const interceptor: Interceptor = (next) => async (req) => {
    const method = `${req.service.name}/${req.method.name}`;
    const started = performance.now();
    counters.call(method);
    gauge.start(method);
    let code = 0;
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
      const stream = req.contextValues.get(streamKey);
      const goAway = faults.takeGoAway(method);
      if (goAway?.refuse) refuseByGoAway(stream);
      const drop = faults.takeDrop(method);
      if (drop?.when === 'before') dropConnection(stream, drop.mode);
      const response = await next(req);
      if (drop?.when === 'after') dropConnection(stream, drop.mode);
      if (goAway) closeByGoAway(stream);
      return response;
    } catch (thrown) {
      // A wait cut short by the call's signal throws a plain AbortError, which connect would send
      // as INTERNAL. The signal ends either because the client cancelled (it reads no answer) or
      // because the call's grpc-timeout passed here first: Qdrant then answers as tonic does.
      const error = req.signal.aborted ? abortedCall(req.signal.reason) : thrown;
      code = ConnectError.from(error).code;
      throw error;
    } finally {
      counters.respond(method, code, (performance.now() - started) * 1000);
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
      router.service(services.points, pointsImpl(state, counters));
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
  let rest: { url: string; server: Server } | undefined;
  if (options.restPort !== undefined) {
    rest = await startRest({ host, port: options.restPort, apiKey: options.apiKey, state, counters });
  }

  return {
    url: `http://${host}:${port}`,
    port,
    restUrl: rest?.url,
    faults,
    counters,
    calls: counters.calls,
    gauge,
    scanned: counters.scanned,
    lateErrors: state.lateErrors,
    collection: (name) => inspect(state, name),
    collectionNames: () => [...state.collections.keys()],
    setIndexingDelay(ms) {
      state.indexingDelayMs = ms;
    },
    setVisibility(visibility, ms) {
      state.applyDelayMs = applyDelay(visibility, ms);
    },
    applyPending(name) {
      const targets = name === undefined ? [...state.collections.values()] : [state.get(name)];
      for (const collection of targets) collection.queue.drain();
    },
    async close() {
      for (const collection of state.collections.values()) collection.queue.close();
      for (const socket of sockets) socket.destroy();
      rest?.server.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
        rest && new Promise<void>((resolve) => rest.server.close(() => resolve())),
      ]);
    },
  };
}

/*
 * Both GOAWAYs come from `session.close()`, which sends GOAWAY (NO_ERROR, the last stream the
 * session has taken) before closing gracefully. A GOAWAY of our own through `session.goaway()`,
 * with or without the close, made this Node (20.20) crash with SIGSEGV in V8's write barrier about
 * one run in ten of the GOAWAY tests: don't.
 */

/**
 * GOAWAY, then REFUSED_STREAM on this call's stream: HTTP/2's way of saying "not processed, retry
 * elsewhere". The GOAWAY goes first, so a client has left the session before it sees the reset
 * and sends its retry on a new one.
 */
function refuseByGoAway(stream: http2.ServerHttp2Stream | undefined): never {
  const session = stream?.session;
  if (stream && session) {
    session.close();
    stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
  }
  throw new ConnectError('stream refused by GOAWAY (fault injection)', Code.Unavailable);
}

/** GOAWAY that admits this call's stream, then a graceful close once it is answered. */
function closeByGoAway(stream: http2.ServerHttp2Stream | undefined): void {
  stream?.session?.close();
}

/** What a call whose signal ended answers: `Timeout expired` for a passed grpc-timeout, else CANCELLED. */
function abortedCall(reason: unknown): ConnectError {
  const cause = ConnectError.from(reason);
  return cause.code === Code.DeadlineExceeded ? qdrantErrors.timeoutExpired() : cause;
}
