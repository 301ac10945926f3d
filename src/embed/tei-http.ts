import { Agent, type Dispatcher, errors as undiciErrors } from 'undici';
import { errorMessage, isUnreachableCode, ServiceError, type ServiceName } from '../errors.js';

/**
 * One HTTP exchange with an embedding server through undici's keep-alive pool, with its error
 * bodies turned into `ServiceError`s: TEI's native routes answer `{error, error_type}`, `/v1/*`
 * routes and OpenAI-compatible servers answer `{error: {message, type, param, code}}` (or a flat
 * `{message, code, type}`). What a refusal means (retry, split the batch, fix a setting) is the
 * endpoint's `protocol`: TEI's status codes unless another is given.
 */
export interface TeiEndpoint {
  url: string;
  apiKey?: string | undefined;
  timeoutMs: number;
  dispatcher: Dispatcher;
  /** How the server's refusals read; `teiProtocol` when absent. */
  protocol?: ServerProtocol | undefined;
}

/** A refusal's body, as far as it could be read. */
export interface ErrorBody {
  message: string;
  /** The request field the server blames (OpenAI's `param`), when it says. */
  param: string | undefined;
  /** OpenAI's `type` or `code` (`insufficient_quota`, `model_not_found`), TEI's `error_type`. */
  type: string | undefined;
}

/** What a refusal means for the request that got it. */
export interface Refusal {
  /** The same request may succeed later. */
  retryable: boolean;
  /** The request's content was refused: a part of it may pass (`ServiceError.rejectedInput`). */
  rejectedInput: boolean;
  hint?: string | undefined;
}

/** A server family's reading of its refusals. */
export interface ServerProtocol {
  service: ServiceName;
  classify(status: number, error: ErrorBody): Refusal;
  /** The hint when nothing answers at the URL. */
  unreachableHint: string;
}

/** 429 overloaded, 503 unhealthy, 424 backend: TEI says try again later. */
const retryableStatus = new Set([424, 429, 502, 503, 504]);
/** 422 validation (too many inputs, an input too long), 413 a body over the payload limit. */
const rejectedStatus = new Set([413, 422]);

/** TEI 1.9's status codes (router/src/http/server.rs). */
export const teiProtocol: ServerProtocol = {
  service: 'tei',
  classify: (status) => ({
    retryable: retryableStatus.has(status),
    rejectedInput: rejectedStatus.has(status),
    hint: status === 401 ? 'Check tei.apiKey (env TEI_API_KEY).' : undefined,
  }),
  unreachableHint: 'Is TEI running? Check tei.url.',
};

/** A keep-alive pool sized for `connections` requests in flight to each TEI origin. */
export function createTeiDispatcher(connections: number): Agent {
  return new Agent({ connections, keepAliveTimeout: 30_000, pipelining: 1 });
}

/**
 * Every configured endpoint (`tei.urls`, else `tei.url`) over one keep-alive pool: the one place
 * that turns the embedder settings into endpoints, for the embedders and for status checks.
 */
export function teiEndpoints(
  settings: {
    url: string;
    urls?: readonly string[] | undefined;
    apiKey?: string | undefined;
    timeoutMs: number;
  },
  dispatcher: Dispatcher,
  protocol: ServerProtocol = teiProtocol,
): TeiEndpoint[] {
  return (settings.urls ?? [settings.url]).map((url) => ({
    url,
    apiKey: settings.apiKey,
    timeoutMs: settings.timeoutMs,
    dispatcher,
    protocol,
  }));
}

export interface TeiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * `path` is resolved against the endpoint's URL as a link is: `/info` from the host's root, as TEI
 * serves it; `embeddings` under the URL's own path, as an OpenAI base URL (`https://api.openai.com/v1`)
 * takes it. Messages name the path that was asked.
 */
export async function teiRequest(
  endpoint: TeiEndpoint,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<TeiResponse> {
  const protocol = endpoint.protocol ?? teiProtocol;
  const url = endpointUrl(endpoint, path);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
  const request = requestSignal(signal);
  try {
    const response = await endpoint.dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headersTimeout: endpoint.timeoutMs,
      bodyTimeout: endpoint.timeoutMs,
      signal: request.signal,
    });
    const buffer = Buffer.from(await response.body.arrayBuffer());
    if (response.statusCode >= 400) {
      throw errorFromResponse(
        protocol,
        endpoint.url,
        url.pathname,
        response.statusCode,
        buffer,
        response.headers,
      );
    }
    return { status: response.statusCode, headers: response.headers, body: buffer };
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    if (signal?.aborted) throw error;
    throw networkError(protocol, endpoint.url, url.pathname, error);
  } finally {
    request.release();
  }
}

/** Where `path` leads from the endpoint (see `teiRequest`). */
export function endpointUrl(endpoint: Pick<TeiEndpoint, 'url'>, path: string): URL {
  return new URL(path, endpoint.url.endsWith('/') ? endpoint.url : `${endpoint.url}/`);
}

/** The message, blamed field and type of an error body, whichever of the usual shapes it has. */
export function readErrorBody(body: Buffer): ErrorBody {
  const text = body.toString('utf8').slice(0, 500).trim();
  const read: ErrorBody = { message: text, param: undefined, type: undefined };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return read; // Not JSON (a proxy's HTML page, say): keep the text.
  }
  if (typeof parsed !== 'object' || parsed === null) return read;
  const outer = parsed as Record<string, unknown>;
  const inner =
    typeof outer.error === 'object' && outer.error !== null
      ? (outer.error as Record<string, unknown>)
      : outer;
  const nonEmpty = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const message = nonEmpty(outer.error) ?? nonEmpty(inner.message) ?? nonEmpty(inner.detail);
  if (message !== undefined) read.message = message.slice(0, 500);
  read.param = nonEmpty(inner.param);
  read.type = nonEmpty(inner.code) ?? nonEmpty(inner.type) ?? nonEmpty(outer.error_type);
  return read;
}

/**
 * The server's wait hint in milliseconds: `retry-after-ms` (OpenAI), else `retry-after` in
 * seconds or as an HTTP date.
 */
export function retryAfterMs(
  headers: Record<string, string | string[] | undefined>,
  now: number = Date.now(),
): number | undefined {
  const first = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const ms = Number(first('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const raw = first('retry-after');
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds > 0 ? seconds * 1000 : undefined;
  const date = Date.parse(raw);
  return Number.isFinite(date) && date > now ? date - now : undefined;
}

/**
 * A signal of this request alone, aborted with `shared`. undici keeps its abort listener until
 * the response body's stream closes, a moment after the request is answered, so requests sharing
 * one run-wide signal would pile listeners on it faster than undici takes them off (and Node
 * warns of a leak on stderr past 10); this leaves exactly one listener per request in flight on
 * `shared`, removed as the request settles.
 */
function requestSignal(shared: AbortSignal | undefined): { signal?: AbortSignal; release(): void } {
  if (!shared) return { release: () => {} };
  const controller = new AbortController();
  const abort = () => controller.abort(shared.reason);
  if (shared.aborted) abort();
  else shared.addEventListener('abort', abort, { once: true });
  return { signal: controller.signal, release: () => shared.removeEventListener('abort', abort) };
}

function errorFromResponse(
  protocol: ServerProtocol,
  baseUrl: string,
  path: string,
  status: number,
  body: Buffer,
  headers: Record<string, string | string[] | undefined>,
): ServiceError {
  const error = readErrorBody(body);
  const refusal = protocol.classify(status, error);
  return new ServiceError(
    protocol.service,
    baseUrl,
    `${path} answered ${status}${error.message ? `: ${error.message}` : ''}`,
    {
      code: String(status),
      retryable: refusal.retryable,
      retryAfterMs: retryAfterMs(headers),
      rejectedInput: refusal.rejectedInput,
      hint: refusal.hint,
    },
  );
}

function networkError(protocol: ServerProtocol, baseUrl: string, path: string, error: unknown): ServiceError {
  const code = (error as { code?: string }).code ?? '';
  const refused = isUnreachableCode(code);
  const timeout =
    error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError;
  const what = refused
    ? `cannot connect (${code})`
    : timeout
      ? 'timed out'
      : `${path} failed: ${errorMessage(error)}`;
  return new ServiceError(protocol.service, baseUrl, what, {
    code: timeout ? 'TIMEOUT' : 'CONNECTION',
    retryable: true,
    unreachable: refused,
    hint: refused ? protocol.unreachableHint : undefined,
    cause: error,
  });
}
