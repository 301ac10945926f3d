/**
 * A gRPC server that answers `qdrant.Points/Upsert` without decoding the points, to measure a
 * client's upload path alone. It counts requests, bytes and points (scanning only the top-level
 * fields of each UpsertPoints as the bytes stream in) and answers every call with a valid
 * `PointsOperationResponse { result { operation_id, status: Acknowledged }, time }`.
 *
 * Run alone: `npx tsx test/support/grpc-sink.ts --port 0` prints `listening <port>`; a `stats`
 * line on stdin prints the counters as JSON; SIGTERM or the end of stdin stops it.
 */
import { once } from 'node:events';
import * as http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  CollectionOperationResponseSchema,
  CollectionStatus,
  Distance,
  GetCollectionInfoResponseSchema,
  PointsOperationResponseSchema,
  UpdateStatus,
} from '@qdrant/js-client-grpc';

export interface SinkStats {
  requests: number;
  /** UpsertPoints messages' bytes, gRPC prefixes excluded. */
  bytes: number;
  points: number;
  /** HTTP/2 sessions opened by clients. */
  sessions: number;
  /** Headers of the latest upsert, to check what a client sends. */
  lastHeaders: http2.IncomingHttpHeaders | undefined;
}

export interface GrpcSink {
  url: string;
  port: number;
  stats: SinkStats;
  close(): Promise<void>;
}

const WINDOW = 64 * 1024 * 1024;

/**
 * Counts `UpsertPoints.points` (field 3) across chunk boundaries by skipping over each top-level
 * field; a state machine over bytes, never holding the message.
 */
class UpsertScanner {
  points = 0;
  bytes = 0;
  private prefixLeft = 5;
  private messageLeft = 0;
  private messageLength = 0;
  private skip = 0;
  private varint = 0;
  private shift = 0;
  /** What the current varint is: a tag, a length, or a value to drop. */
  private reading: 'tag' | 'length' | 'value' = 'tag';
  private field = 0;

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.prefixLeft > 0) {
        // Bytes 1-4 of the prefix hold the big-endian message length.
        if (this.prefixLeft <= 4) this.messageLength = this.messageLength * 256 + chunk[pos]!;
        pos++;
        if (--this.prefixLeft === 0) {
          this.messageLeft = this.messageLength;
          this.bytes += this.messageLength;
        }
        continue;
      }
      if (this.messageLeft === 0) {
        this.prefixLeft = 5;
        this.messageLength = 0;
        continue;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - pos, this.messageLeft);
        this.skip -= n;
        this.messageLeft -= n;
        pos += n;
        continue;
      }
      const byte = chunk[pos++]!;
      this.messageLeft--;
      this.varint += (byte & 0x7f) * 2 ** this.shift;
      this.shift += 7;
      if (byte & 0x80) continue;
      const value = this.varint;
      this.varint = 0;
      this.shift = 0;
      if (this.reading === 'tag') {
        this.field = Math.floor(value / 8);
        const wireType = value % 8;
        if (this.field === 3) this.points++;
        if (wireType === 2) this.reading = 'length';
        else if (wireType === 0) this.reading = 'value';
        else this.skip = wireType === 1 ? 8 : 4; // fixed64 / fixed32
      } else {
        if (this.reading === 'length') this.skip = value;
        this.reading = 'tag';
      }
    }
  }
}

/**
 * Answers for the calls `taboot ingest` makes besides upserts: every collection exists, with
 * `dim`-sized Cosine vectors, and deletes are acknowledged, so the real CLI can upload into the sink.
 */
function preflightAnswer(path: string | undefined, dim: number): Uint8Array | undefined {
  if (path === '/qdrant.Collections/Update') {
    // Ingest records its model and sync markers in the collection's metadata.
    return toBinary(
      CollectionOperationResponseSchema,
      create(CollectionOperationResponseSchema, { result: true, time: 0.0001 }),
    );
  }
  if (path === '/qdrant.Points/Delete' || path === '/qdrant.Points/SetPayload') {
    // Ingest deletes chunks that documents no longer have (the sink holds none) and ends with a
    // `wait=true` payload update as its barrier.
    return toBinary(
      PointsOperationResponseSchema,
      create(PointsOperationResponseSchema, { result: { status: UpdateStatus.Acknowledged }, time: 0.0001 }),
    );
  }
  if (path === '/qdrant.Collections/Get') {
    return toBinary(
      GetCollectionInfoResponseSchema,
      create(GetCollectionInfoResponseSchema, {
        result: {
          status: CollectionStatus.Green,
          config: {
            params: {
              vectorsConfig: {
                config: { case: 'params', value: { size: BigInt(dim), distance: Distance.Cosine } },
              },
            },
          },
        },
      }),
    );
  }
  return undefined;
}

function respondUnary(stream: http2.ServerHttp2Stream, message: Uint8Array): void {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
  stream.end(frame);
}

export async function startGrpcSink(
  options: { port?: number; host?: string; dim?: number } = {},
): Promise<GrpcSink> {
  const host = options.host ?? '127.0.0.1';
  const stats: SinkStats = { requests: 0, bytes: 0, points: 0, sessions: 0, lastHeaders: undefined };
  let operationId = 0n;
  // Frames up to 1 MiB (Qdrant advertises 16 KiB): fewer DATA frames keep the sink's own cost below
  // the client's, so the measurement is of the client.
  const server = http2.createServer({
    settings: { initialWindowSize: WINDOW, maxConcurrentStreams: 1000, maxFrameSize: 1024 * 1024 },
    maxSessionMemory: 256,
  });
  server.on('session', (session) => {
    session.on('error', () => {});
    session.once('localSettings', () => session.setLocalWindowSize(WINDOW));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const preflight = preflightAnswer(headers[':path'], options.dim ?? 1024);
    if (preflight) {
      stream.resume();
      stream.once('end', () => respondUnary(stream, preflight));
      return;
    }
    if (headers[':path'] !== '/qdrant.Points/Upsert') {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
        { endStream: true },
      );
      stream.resume();
      return;
    }
    stats.requests++;
    stats.lastHeaders = headers;
    const scanner = new UpsertScanner();
    stream.on('data', (chunk: Buffer) => scanner.push(chunk));
    stream.on('end', () => {
      stats.bytes += scanner.bytes;
      stats.points += scanner.points;
      operationId++;
      const message = toBinary(
        PointsOperationResponseSchema,
        create(PointsOperationResponseSchema, {
          result: { operationId, status: UpdateStatus.Acknowledged },
          time: 0.0001,
        }),
      );
      if (stream.destroyed) return;
      respondUnary(stream, message);
    });
  });
  // Small frames (responses, trailers) must not wait for Nagle's algorithm.
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    stats.sessions++;
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    stats,
    close: async () => {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function main(): Promise<void> {
  const portFlag = process.argv.indexOf('--port');
  const port = portFlag === -1 ? 0 : Number(process.argv[portFlag + 1]);
  const dimFlag = process.argv.indexOf('--dim');
  const dim = dimFlag === -1 ? 1024 : Number(process.argv[dimFlag + 1]);
  const sink = await startGrpcSink({ port, dim });
  console.log(`listening ${sink.port}`);
  const stop = async () => {
    await sink.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'stats') {
      const { requests, bytes, points } = sink.stats;
      console.log(JSON.stringify({ requests, bytes, points }));
    }
  });
  lines.once('close', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
