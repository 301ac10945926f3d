import { createTeiDispatcher, type TeiEndpoint, teiRequest } from '../embed/tei-http.js';
import { ServiceError } from '../errors.js';

/** One reranked document: its position in the input and the reranker's relevance score. */
export interface RerankResult {
  index: number;
  score: number;
}

export interface Reranker {
  /**
   * The `topN` most relevant of `documents` for `query`, best first (ties: lower index first).
   * An empty `documents` gives `[]` without a request.
   */
  rerank(
    query: string,
    documents: readonly string[],
    topN: number,
    signal?: AbortSignal,
  ): Promise<RerankResult[]>;
}

export interface RerankerClient extends Reranker {
  readonly url: string;
  /** Closes the keep-alive connections. */
  close(): Promise<void>;
}

export interface RerankerSettings {
  url: string;
  /**
   * `tei`: TEI's `POST /rerank {query, texts}` (a cross-encoder served by TEI); `cohere`: the
   * Cohere/Jina-style `POST /v1/rerank {model, query, documents, top_n}` of servers that serve
   * rerankers TEI cannot, such as Qwen3-Reranker.
   */
  kind: 'tei' | 'cohere';
  /** Sent as `model` to `/v1/rerank`; TEI serves one model and ignores it. */
  model?: string | undefined;
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string | undefined;
  /** Deadline for the response headers and, separately, for the body (ms). */
  timeoutMs: number;
  /**
   * Documents per request (default 32, TEI's default `max_client_batch_size`): more are split into
   * several requests, in parallel, and merged. Scores are per (query, document) pair, so batches
   * compare.
   */
  maxBatchSize?: number | undefined;
}

const defaultBatchSize = 32;

/** A reranker client over undici; failures are `ServiceError('reranker', url, ...)`. */
export function createReranker(settings: RerankerSettings): RerankerClient {
  const batchSize = settings.maxBatchSize ?? defaultBatchSize;
  checkPositiveInteger('maxBatchSize', batchSize);
  checkPositiveInteger('timeoutMs', settings.timeoutMs);
  const dispatcher = createTeiDispatcher(4);
  const endpoint: TeiEndpoint = {
    url: settings.url,
    apiKey: settings.apiKey,
    timeoutMs: settings.timeoutMs,
    dispatcher,
  };
  const route = settings.kind === 'tei' ? '/rerank' : '/v1/rerank';

  async function rerankBatch(
    query: string,
    documents: readonly string[],
    topN: number,
    signal: AbortSignal | undefined,
  ): Promise<RerankResult[]> {
    const body =
      settings.kind === 'tei'
        ? { query, texts: documents, truncate: true, raw_scores: false }
        : { ...(settings.model ? { model: settings.model } : {}), query, documents, top_n: topN };
    let text: string;
    try {
      text = (await teiRequest(endpoint, 'POST', route, body, signal)).body.toString('utf8');
    } catch (error) {
      throw asRerankerError(error, settings, route);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw badResponse(settings.url, route, `not JSON: ${JSON.stringify(text.slice(0, 80))}`);
    }
    const problem: string[] = [];
    const results =
      settings.kind === 'tei'
        ? readTeiResults(json, documents.length, problem)
        : readCohereResults(json, documents.length, problem);
    if (!results) throw badResponse(settings.url, route, problem[0] ?? 'unexpected shape');
    return results;
  }

  return {
    url: settings.url,
    async rerank(query, documents, topN, signal) {
      checkPositiveInteger('topN', topN);
      if (documents.length === 0) return [];
      const batches: Promise<RerankResult[]>[] = [];
      for (let start = 0; start < documents.length; start += batchSize) {
        const batch = documents.slice(start, start + batchSize);
        batches.push(
          rerankBatch(query, batch, Math.min(topN, batch.length), signal).then((results) =>
            results.map((result) => ({ index: result.index + start, score: result.score })),
          ),
        );
      }
      const merged = (await Promise.all(batches)).flat();
      merged.sort((a, b) => b.score - a.score || a.index - b.index);
      return merged.slice(0, topN);
    },
    close: () => dispatcher.close(),
  };
}

/** TEI: `[{index, score, text?}]`. */
function readTeiResults(json: unknown, count: number, problem: string[]): RerankResult[] | undefined {
  if (!Array.isArray(json)) return fail(problem, 'expected a list of {index, score}');
  return readEntries(json, count, 'score', problem);
}

/** Cohere/Jina: `{results: [{index, relevance_score, document?}], ...}`. */
function readCohereResults(json: unknown, count: number, problem: string[]): RerankResult[] | undefined {
  const results = (json as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return fail(problem, 'expected {results: [{index, relevance_score}]}');
  return readEntries(results, count, 'relevance_score', problem);
}

function readEntries(
  entries: unknown[],
  count: number,
  scoreKey: 'score' | 'relevance_score',
  problem: string[],
): RerankResult[] | undefined {
  const seen = new Set<number>();
  const results: RerankResult[] = [];
  for (const [position, entry] of entries.entries()) {
    const { index, [scoreKey]: score } = (entry ?? {}) as Record<string, unknown>;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count)
      return fail(
        problem,
        `result ${position} has index ${JSON.stringify(index)}, expected 0 to ${count - 1}`,
      );
    if (seen.has(index)) return fail(problem, `index ${index} appears twice`);
    if (typeof score !== 'number' || !Number.isFinite(score))
      return fail(problem, `result ${position} has ${scoreKey} ${JSON.stringify(score)}, expected a number`);
    seen.add(index);
    results.push({ index, score });
  }
  return results;
}

function fail(problem: string[], message: string): undefined {
  problem.push(message);
  return undefined;
}

function badResponse(url: string, route: string, why: string): ServiceError {
  return new ServiceError('reranker', url, `${route} answered an unexpected body: ${why}`, {
    code: 'BAD_RESPONSE',
    hint: 'Check search.reranker.url and search.reranker.kind (tei for /rerank, cohere for /v1/rerank).',
  });
}

/**
 * The shared TEI HTTP client names TEI in its errors; the reranker is its own service (often not
 * TEI at all), with its own settings to point at.
 */
function asRerankerError(error: unknown, settings: RerankerSettings, route: string): unknown {
  if (!(error instanceof ServiceError) || error.service === 'reranker') return error;
  const prefix = `TEI at ${error.url}: `;
  const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  const notReranker = /not a re-?ranker/i.test(detail);
  return new ServiceError('reranker', settings.url, detail, {
    code: error.code,
    // TEI answers 424 (normally retryable) when its model has no classifier head: that never heals.
    retryable: error.retryable && !notReranker,
    retryAfterMs: error.retryAfterMs,
    hint: hintFor(error.code, detail, notReranker, settings, route),
    cause: error.cause ?? error,
  });
}

function hintFor(
  code: string | undefined,
  detail: string,
  notReranker: boolean,
  settings: RerankerSettings,
  route: string,
): string | undefined {
  if (notReranker)
    return 'TEI reranks only with a cross-encoder (sequence classification) model; for Qwen3-Reranker use a server with /v1/rerank and search.reranker.kind: cohere.';
  switch (code) {
    case 'CONNECTION':
      return detail.startsWith('cannot connect')
        ? 'Is the reranker running? Check search.reranker.url.'
        : undefined;
    case '401':
    case '403':
      return 'Check search.reranker.apiKey.';
    case '404':
    case '405':
      return `The server has no ${route} route: search.reranker.kind ${settings.kind} expects ${settings.kind === 'tei' ? "TEI's /rerank; use kind cohere for /v1/rerank" : 'a Cohere/Jina-style /v1/rerank; use kind tei for TEI'}.`;
    default:
      return undefined;
  }
}

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0)
    throw new TypeError(`Expected \`${name}\` to be a positive integer, got \`${value}\``);
}
