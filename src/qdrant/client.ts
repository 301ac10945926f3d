import { Code, ConnectError } from '@connectrpc/connect';
import { QdrantClient } from '@qdrant/js-client-grpc';
import type { Config } from '../config/schema.js';
import { errorMessage, isUnreachableCode, ServiceError } from '../errors.js';

function makeApis(client: QdrantClient) {
  return {
    collections: client.api('collections'),
    points: client.api('points'),
    service: client.api('service'),
  };
}
export type QdrantApis = ReturnType<typeof makeApis>;

/**
 * js-client-grpc for everything that is not the upsert hot path (collections, indexes, search,
 * scroll). `call` turns every failure into a `ServiceError` that names Qdrant and its URL.
 */
export class Qdrant {
  readonly url: string;
  readonly apis: QdrantApis;

  constructor(settings: Config['qdrant']) {
    this.url = settings.url;
    const client = new QdrantClient({
      url: settings.url,
      apiKey: settings.apiKey,
      // Without this, an API key would silently switch an http:// URL to TLS.
      https: settings.url.startsWith('https://'),
      timeout: settings.timeoutMs,
      checkCompatibility: false,
      compression: false,
    });
    this.apis = makeApis(client);
  }

  /** Run one request; `what` names it in error messages (`get collection technical_docs`). */
  async call<T>(what: string, request: (apis: QdrantApis) => Promise<T>): Promise<T> {
    try {
      return await request(this.apis);
    } catch (error) {
      throw toServiceError(this.url, what, error);
    }
  }
}

/**
 * Codes after which the same request may succeed. Canceled is how a stream closed by the server
 * (a restart, a lost connection) surfaces when taboot itself cancelled nothing.
 */
const retryableCodes = new Set([
  Code.Unavailable,
  Code.DeadlineExceeded,
  Code.ResourceExhausted,
  Code.Aborted,
  Code.Canceled,
]);

/**
 * A stream the server reset with REFUSED_STREAM (after a GOAWAY, as a server shutting down or a
 * proxy recycling connections sends) was not processed: HTTP/2 says it is safe to send again.
 * connect-node reports it as INTERNAL, which is otherwise a server bug and not retried.
 */
function refusedStream(error: ConnectError): boolean {
  return error.code === Code.Internal && error.rawMessage.includes('NGHTTP2_REFUSED_STREAM');
}

/** gRPC code names as Qdrant's docs and logs spell them (`UNAVAILABLE`). */
export function grpcCodeName(code: Code): string {
  return (Code[code] ?? 'UNKNOWN').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

export function toServiceError(url: string, what: string, caught: unknown): ServiceError {
  if (caught instanceof ServiceError) return caught;
  const error = unwrapRateLimit(caught);
  if (!(error instanceof ConnectError)) {
    const code = (error as { code?: unknown }).code;
    return new ServiceError('qdrant', url, `${what} failed: ${errorMessage(error)}`, {
      retryable: true,
      code: 'CONNECTION',
      unreachable: isUnreachableCode(code),
      cause: error,
    });
  }
  const retryAfter = Number(error.metadata.get('retry-after'));
  const unreachable =
    error.code === Code.Unavailable &&
    /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|connect/i.test(error.rawMessage);
  const message = unreachable ? `cannot connect (${error.rawMessage})` : error.rawMessage;
  return new ServiceError('qdrant', url, `${what}: ${grpcCodeName(error.code)} ${message}`, {
    code: grpcCodeName(error.code),
    retryable: retryableCodes.has(error.code) || refusedStream(error),
    retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    rejectedInput: error.code === Code.InvalidArgument,
    unreachable,
    hint: unreachable ? 'Is Qdrant running? Check qdrant.url (the gRPC port, 6334 by default).' : undefined,
    cause: error,
  });
}

/**
 * js-client-grpc rethrows RESOURCE_EXHAUSTED with a `retry-after` as its own error class from an
 * interceptor, which connect then wraps as UNKNOWN: the real code and the delay sit on `cause`.
 * (That class keeps only the first character of the header, so a delay of 30 s reads as 3 s; the
 * exponential backoff still grows past it.)
 */
function unwrapRateLimit(error: unknown): unknown {
  if (!(error instanceof ConnectError) || error.code !== Code.Unknown) return error;
  const cause = error.cause as { name?: string; rawMessage?: string; retry_after?: number } | undefined;
  if (cause?.name !== 'QdrantClientResourceExhaustedError') return error;
  const metadata = new Headers();
  if (cause.retry_after !== undefined) metadata.set('retry-after', String(cause.retry_after));
  return new ConnectError(
    cause.rawMessage ?? error.rawMessage,
    Code.ResourceExhausted,
    metadata,
    undefined,
    cause,
  );
}
