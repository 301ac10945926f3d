import { Agent, type Dispatcher, errors as undiciErrors } from 'undici';
import { ServiceError } from '../errors.js';

/**
 * One HTTP exchange with TEI through undici's keep-alive pool, with TEI's error bodies turned
 * into `ServiceError`s: native routes answer `{error, error_type}`, `/v1/*` routes answer
 * OpenAI-shaped `{message, code, type}` (or `{error: {message}}`).
 */
export interface TeiEndpoint {
  url: string;
  apiKey?: string | undefined;
  timeoutMs: number;
  dispatcher: Dispatcher;
}

/** A keep-alive pool sized for `connections` requests in flight to each TEI origin. */
export function createTeiDispatcher(connections: number): Agent {
  return new Agent({ connections, keepAliveTimeout: 30_000, pipelining: 1 });
}

/** Every configured TEI endpoint (`tei.urls`, else `tei.url`) over one keep-alive pool. */
export function teiEndpoints(
  settings: {
    url: string;
    urls?: readonly string[] | undefined;
    apiKey?: string | undefined;
    timeoutMs: number;
  },
  dispatcher: Dispatcher,
): TeiEndpoint[] {
  return (settings.urls ?? [settings.url]).map((url) => ({
    url,
    apiKey: settings.apiKey,
    timeoutMs: settings.timeoutMs,
    dispatcher,
  }));
}

/** 429 overloaded, 503 unhealthy, 424 backend: TEI says try again later. */
const retryableStatus = new Set([424, 429, 502, 503, 504]);
/** 422 validation (too many inputs, an input too long), 413 a body over the payload limit. */
const rejectedStatus = new Set([413, 422]);

export interface TeiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export async function teiRequest(
  endpoint: TeiEndpoint,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<TeiResponse> {
  const url = new URL(path, endpoint.url.endsWith('/') ? endpoint.url : `${endpoint.url}/`);
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
    if (response.statusCode >= 400)
      throw errorFromResponse(endpoint.url, path, response.statusCode, buffer, response.headers);
    return { status: response.statusCode, headers: response.headers, body: buffer };
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    if (signal?.aborted) throw error;
    throw networkError(endpoint.url, path, error);
  } finally {
    request.release();
  }
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
  baseUrl: string,
  path: string,
  status: number,
  body: Buffer,
  headers: Record<string, string | string[] | undefined>,
): ServiceError {
  let message = body.toString('utf8').slice(0, 500).trim();
  try {
    const parsed = JSON.parse(message) as { error?: unknown; message?: unknown };
    if (typeof parsed.error === 'string') message = parsed.error;
    else if (typeof parsed.message === 'string') message = parsed.message;
    else if (parsed.error && typeof (parsed.error as { message?: unknown }).message === 'string') {
      message = (parsed.error as { message: string }).message;
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): keep the text.
  }
  const retryAfter = Number(headers['retry-after']);
  return new ServiceError('tei', baseUrl, `${path} answered ${status}${message ? `: ${message}` : ''}`, {
    code: String(status),
    retryable: retryableStatus.has(status),
    retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    rejectedInput: rejectedStatus.has(status),
    hint: status === 401 ? 'Check tei.apiKey (env TEI_API_KEY).' : undefined,
  });
}

function networkError(baseUrl: string, path: string, error: unknown): ServiceError {
  const code = (error as { code?: string }).code ?? '';
  const refused = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN/.test(code);
  const timeout =
    error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError;
  const what = refused
    ? `cannot connect (${code})`
    : timeout
      ? 'timed out'
      : `${path} failed: ${(error as Error).message}`;
  return new ServiceError('tei', baseUrl, what, {
    code: timeout ? 'TIMEOUT' : 'CONNECTION',
    retryable: true,
    hint: refused ? 'Is TEI running? Check tei.url.' : undefined,
    cause: error,
  });
}
