import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { fromBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { PointsOperationResponseSchema, UpdateStatus } from '@qdrant/js-client-grpc';
import type { ServiceError } from '../errors.js';
import { toServiceError } from './client.js';
import { type EncodableUpsert, encodeUpsertPoints } from './point-encoder.js';

export type UpsertStatus = 'unknown' | 'acknowledged' | 'completed' | 'clock_rejected' | 'wait_timeout';

export interface UpsertResult {
  /** `acknowledged` with `wait=false` (in the write-ahead log), `completed` once applied. */
  status: UpsertStatus;
  operationId: bigint | undefined;
  /** Qdrant's own processing time, in seconds. */
  timeSeconds: number;
}

export interface GrpcUpsertTransportOptions {
  /** Qdrant's gRPC endpoint (`http://host:6334`); `https://` switches to TLS. */
  url: string;
  apiKey?: string;
  /** Per-call deadline in ms, sent as `grpc-timeout` and enforced locally. */
  timeoutMs: number;
  /**
   * After a deadline passes, how long the retired session's PING may go unanswered before it is
   * taken for dead and destroyed, in ms. Default 10 000.
   */
  pingTimeoutMs?: number;
  userAgent?: string;
}

const statusNames: Record<number, UpsertStatus> = {
  [UpdateStatus.Acknowledged]: 'acknowledged',
  [UpdateStatus.Completed]: 'completed',
  [UpdateStatus.ClockRejected]: 'clock_rejected',
  [UpdateStatus.WaitTimeout]: 'wait_timeout',
};

/** Flow-control windows for what the server sends us; the upload direction is the server's to set. */
const STREAM_WINDOW = 16 * 1024 * 1024;
const SESSION_WINDOW = 64 * 1024 * 1024;
const WHAT = 'upsert points';
const DEFAULT_PING_TIMEOUT_MS = 10_000;

/** gRPC's mapping of HTTP statuses from servers that answer without gRPC status. */
function codeForHttpStatus(status: number): Code {
  switch (status) {
    case 400:
      return Code.Internal;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      return Code.Unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.Unavailable;
    default:
      return Code.Unknown;
  }
}

function grpcTimeout(ms: number): string {
  return ms <= 99_999_999 ? `${Math.ceil(ms)}m` : `${Math.ceil(ms / 1000)}S`;
}

function decodeGrpcMessage(raw: string | string[] | undefined): string {
  const text = Array.isArray(raw) ? raw.join(', ') : (raw ?? '');
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function header(headers: http2.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `qdrant.Points/Upsert` over one reused `node:http2` session, for messages already encoded by
 * `encodeUpsertPoints`: no protobuf-es objects on the way out. Failures are `ServiceError`s mapped
 * like every other Qdrant call (`toServiceError`); a lost connection, stream reset or GOAWAY is a
 * retryable `CONNECTION` error and the next call opens a new session.
 *
 * A call whose deadline passes is cancelled (RST_STREAM) and rejects with a retryable
 * DEADLINE_EXCEEDED, which the caller retries and counts. Its session is retired at once: a
 * connection that died silently (a NAT or load balancer dropping it, a peer gone without a FIN)
 * looks open until TCP gives up minutes later, and every retry sent on it would wait out its
 * deadline too. New calls open a new session; the old one finishes what it carries and closes,
 * or, if it does not answer a PING within `pingTimeoutMs`, is destroyed, failing its other calls
 * with retryable connection errors that the caller sends again on the new session.
 */
export class GrpcUpsertTransport {
  private readonly url: string;
  private readonly origin: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly pingTimeoutMs: number;
  private readonly userAgent: string;
  private readonly tls: boolean;
  private session: http2.ClientHttp2Session | undefined;
  private inFlight = 0;
  private readonly pool = new BufferPool(8);

  constructor(options: GrpcUpsertTransportOptions) {
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new TypeError(`Expected \`timeoutMs\` to be a positive number, got \`${options.timeoutMs}\``);
    }
    const parsed = new URL(options.url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`Expected an http:// or https:// Qdrant URL, got \`${options.url}\``);
    }
    this.url = options.url;
    this.origin = parsed.origin;
    this.tls = parsed.protocol === 'https:';
    this.apiKey = options.apiKey || undefined;
    this.timeoutMs = options.timeoutMs;
    this.pingTimeoutMs = options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    if (!Number.isFinite(this.pingTimeoutMs) || this.pingTimeoutMs <= 0) {
      throw new TypeError(
        `Expected \`pingTimeoutMs\` to be a positive number, got \`${this.pingTimeoutMs}\``,
      );
    }
    this.userAgent = options.userAgent ?? 'taboot grpc-upsert';
  }

  /**
   * Send one encoded `UpsertPoints` message (without the 5-byte gRPC prefix, which this adds).
   * Rejects with a `ServiceError`, or with `signal.reason` when aborted.
   */
  upsert(message: Uint8Array, signal?: AbortSignal): Promise<UpsertResult> {
    const prefix = Buffer.allocUnsafe(5);
    prefix[0] = 0;
    prefix.writeUInt32BE(message.byteLength, 1);
    return this.call([prefix, message], signal);
  }

  /**
   * Encode and send in one step, writing into buffers recycled from earlier successful calls (a
   * failed call's buffer is dropped: a write may still hold it). Saves allocating and faulting in
   * megabytes per batch. `requestBytes` is the encoded message's size.
   */
  async upsertPoints(
    request: EncodableUpsert,
    signal?: AbortSignal,
  ): Promise<UpsertResult & { requestBytes: number }> {
    let frame: Buffer | undefined;
    const message = encodeUpsertPoints(request, (size) => {
      frame = this.pool.take(size + 5);
      return frame.subarray(5);
    });
    const buffer = frame!;
    buffer[0] = 0;
    buffer.writeUInt32BE(message.byteLength, 1);
    const result = await this.call([buffer.subarray(0, 5 + message.byteLength)], signal);
    this.pool.give(buffer);
    return { ...result, requestBytes: message.byteLength };
  }

  private call(frames: readonly Uint8Array[], signal: AbortSignal | undefined): Promise<UpsertResult> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<UpsertResult>((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      let session: http2.ClientHttp2Session;
      try {
        session = this.openSession();
        stream = session.request(this.requestHeaders(), { endStream: false });
      } catch (error) {
        this.dropSession();
        reject(this.fail(error));
        return;
      }
      this.started();
      let responseHeaders: http2.IncomingHttpHeaders | undefined;
      let trailers: http2.IncomingHttpHeaders | undefined;
      let streamError: Error | undefined;
      let outcome: 'timeout' | 'aborted' | undefined;
      const chunks: Buffer[] = [];

      const onAbort = () => {
        outcome ??= 'aborted';
        stream.close(http2.constants.NGHTTP2_CANCEL);
      };
      const timer = setTimeout(() => {
        outcome ??= 'timeout';
        stream.close(http2.constants.NGHTTP2_CANCEL);
        this.retire(session);
      }, this.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });

      stream.on('response', (headers) => {
        responseHeaders = headers;
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('trailers', (headers) => {
        trailers = headers;
      });
      stream.on('error', (error) => {
        streamError ??= error;
      });
      stream.on('close', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.finished();
        if (outcome === 'aborted') {
          reject(signal?.reason);
          return;
        }
        if (outcome === 'timeout') {
          reject(
            this.fail(new ConnectError(`no response within ${this.timeoutMs} ms`, Code.DeadlineExceeded)),
          );
          return;
        }
        try {
          resolve(this.settle(stream, responseHeaders, trailers, streamError, chunks));
        } catch (error) {
          reject(this.fail(error));
        }
      });

      for (let i = 0; i < frames.length - 1; i++) stream.write(frames[i]);
      stream.end(frames[frames.length - 1]);
    });
  }

  /** Close the session once in-flight calls finish. */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session || session.destroyed) return;
    // An idle session is unref'd; without this the process could exit while awaiting its close.
    session.ref();
    await new Promise<void>((resolve) => session.close(resolve));
  }

  private requestHeaders(): http2.OutgoingHttpHeaders {
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': '/qdrant.Points/Upsert',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': grpcTimeout(this.timeoutMs),
      'grpc-accept-encoding': 'identity',
      'user-agent': this.userAgent,
    };
    if (this.apiKey !== undefined) headers['api-key'] = this.apiKey;
    return headers;
  }

  private openSession(): http2.ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect(this.origin, {
      // gRPC turns Nagle's algorithm off: a request's last small frame must not wait for an ACK.
      createConnection: (authority: URL) => {
        const port = Number(authority.port) || (this.tls ? 443 : 80);
        const host = authority.hostname.replace(/^\[|\]$/g, '');
        const socket = this.tls
          ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['h2'] })
          : net.connect({ host, port });
        socket.setNoDelay(true);
        return socket;
      },
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
      // Several multi-megabyte requests may be buffered at once; the default (10 MB) refuses streams.
      maxSessionMemory: 256,
    });
    session.once('connect', () => session.setLocalWindowSize(SESSION_WINDOW));
    // Errors reach the streams too (as their cause); this listener only keeps them from being thrown.
    session.on('error', () => this.dropSession(session));
    session.on('goaway', () => this.dropSession(session));
    session.on('close', () => this.dropSession(session));
    this.session = session;
    return session;
  }

  private dropSession(session = this.session): void {
    if (session !== undefined && this.session === session) this.session = undefined;
  }

  /**
   * Take `session` out of use after a deadline passed on it: close it once its other calls end,
   * and destroy it if it does not answer a PING in time (a dead connection never would).
   */
  private retire(session: http2.ClientHttp2Session): void {
    if (session.destroyed || session.closed) return;
    this.dropSession(session);
    const destroy = () => {
      if (!session.destroyed)
        session.destroy(new Error(`no answer to a PING within ${this.pingTimeoutMs} ms`));
    };
    const timer = setTimeout(destroy, this.pingTimeoutMs);
    // A busy retired session is ref'd by its calls; an idle one must not hold the process.
    timer.unref();
    try {
      session.ping((error) => {
        clearTimeout(timer);
        if (error) destroy();
      });
    } catch {
      clearTimeout(timer);
      destroy();
      return;
    }
    session.close();
  }

  /** An idle session must not keep the process alive; a busy one must. */
  private started(): void {
    if (this.inFlight++ === 0) this.session?.ref();
  }

  private finished(): void {
    if (--this.inFlight === 0) this.session?.unref();
  }

  private settle(
    stream: http2.ClientHttp2Stream,
    headers: http2.IncomingHttpHeaders | undefined,
    trailers: http2.IncomingHttpHeaders | undefined,
    streamError: Error | undefined,
    chunks: Buffer[],
  ): UpsertResult {
    // Trailers-only responses carry the gRPC status in the headers.
    const status =
      (trailers && header(trailers, 'grpc-status')) ?? (headers && header(headers, 'grpc-status'));
    if (status === undefined) {
      if (streamError !== undefined) throw connectionError(streamError);
      if (headers === undefined || stream.rstCode) {
        throw new Error(`HTTP/2 stream closed without a response (code ${stream.rstCode ?? 0})`);
      }
      const httpStatus = Number(headers[':status']);
      if (httpStatus !== 200) {
        throw new ConnectError(
          `HTTP ${httpStatus} from a server that does not speak gRPC`,
          codeForHttpStatus(httpStatus),
        );
      }
      throw new Error('response ended without a gRPC status');
    }
    const code = Number(status);
    if (!Number.isInteger(code) || code < 0 || code > 16) {
      throw new ConnectError(`invalid grpc-status \`${status}\``, Code.Unknown);
    }
    if (code !== 0) {
      const metadata = new Headers();
      for (const source of [headers, trailers]) {
        const retryAfter = source && header(source, 'retry-after');
        if (retryAfter !== undefined) metadata.set('retry-after', retryAfter);
      }
      const message = decodeGrpcMessage((trailers ?? headers)?.['grpc-message']);
      throw new ConnectError(this.redact(message), code as Code, metadata);
    }
    return parseResponse(Buffer.concat(chunks));
  }

  private fail(error: unknown): ServiceError {
    return toServiceError(this.url, WHAT, error);
  }

  /** A server that echoes request headers must not leak the key into errors and logs. */
  private redact(text: string): string {
    return this.apiKey !== undefined && text.includes(this.apiKey)
      ? text.split(this.apiKey).join('***')
      : text;
  }
}

/** Request buffers kept for reuse; at most `keep` of them (a few megabytes each) stay allocated. */
class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(private readonly keep: number) {}

  take(size: number): Buffer {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const buffer = this.free[i]!;
      if (buffer.length >= size) {
        this.free.splice(i, 1);
        return buffer;
      }
    }
    // Headroom, so that a slightly larger batch next time still fits.
    return Buffer.allocUnsafeSlow(Math.ceil(size * 1.25));
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}

/** Refused connections read like connect-node's, so `toServiceError` adds its "Is Qdrant running?" hint. */
function connectionError(error: Error): Error {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause ?? error;
  const code = (cause as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') {
    return new ConnectError(String(cause.message), Code.Unavailable, undefined, undefined, error);
  }
  return error;
}

function parseResponse(body: Buffer): UpsertResult {
  if (body.length < 5) throw new ConnectError('response carried no message', Code.Internal);
  if (body[0] !== 0)
    throw new ConnectError('response is compressed, but identity was requested', Code.Internal);
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) throw new ConnectError('response message is truncated', Code.Internal);
  const response = fromBinary(PointsOperationResponseSchema, body.subarray(5, 5 + length));
  return {
    status: statusNames[response.result?.status ?? 0] ?? 'unknown',
    operationId: response.result?.operationId,
    timeSeconds: response.time,
  };
}
