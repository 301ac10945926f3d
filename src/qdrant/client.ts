import { Code, ConnectError } from '@connectrpc/connect';
import { QdrantClient } from '@qdrant/js-client-grpc';
import type { Config } from '../config/schema.js';
import { ServiceError } from '../errors.js';

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

const retryableCodes = new Set([
  Code.Unavailable,
  Code.DeadlineExceeded,
  Code.ResourceExhausted,
  Code.Aborted,
]);

/** gRPC code names as Qdrant's docs and logs spell them (`UNAVAILABLE`). */
export function grpcCodeName(code: Code): string {
  return (Code[code] ?? 'UNKNOWN').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

export function toServiceError(url: string, what: string, error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  if (!(error instanceof ConnectError)) {
    return new ServiceError('qdrant', url, `${what} failed: ${String((error as Error)?.message ?? error)}`, {
      retryable: true,
      code: 'CONNECTION',
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
    retryable: retryableCodes.has(error.code),
    retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    hint: unreachable ? 'Is Qdrant running? Check qdrant.url (the gRPC port, 6334 by default).' : undefined,
    cause: error,
  });
}
