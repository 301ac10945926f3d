import type { Agent } from 'undici';
import type { Config } from '../config/schema.js';
import { ServiceError } from '../errors.js';
import { askEveryEndpoint } from './answering-endpoint.js';
import { batchLimitsFrom } from './batch-limits.js';
import { decodeBase64Embeddings, parseFloatMatrix } from './decode.js';
import { checkCount, decodeOrThrow, withTimings } from './embed-response.js';
import type { Embedder, EmbedderInfo, EmbedResult } from './embedder.js';
import { EndpointPool } from './endpoint-pool.js';
import { createTeiDispatcher, type TeiEndpoint, teiEndpoints, teiRequest } from './tei-http.js';
import { fetchTeiInfo, probeEmbeddingSize } from './tei-info.js';

/**
 * TEI through its binary-friendly route: `/v1/embeddings` with `encoding_format: "base64"` answers
 * little-endian float32 that decodes straight into `Float32Array`s, a hundred times faster than
 * `JSON.parse` of float arrays. `/embed` (JSON floats, read by a dedicated parser) is used when the
 * server lacks the OpenAI route, the request needs what only `/embed` takes (`prompt_name`,
 * `normalize: false`), or `tei.encodingFormat` is `float`.
 */
export class TeiEmbedder implements Embedder {
  private readonly dispatcher: Agent;
  private readonly endpoints: TeiEndpoint[];
  private readonly pool: EndpointPool;
  private useNativeRoute: boolean;
  private info: Promise<EmbedderInfo> | undefined;
  private size: Promise<number> | undefined;
  private upIndex = 0;
  readonly warnings: string[] = [];

  /** `connections`: requests the caller keeps in flight, per TEI endpoint. */
  constructor(
    private readonly settings: Config['tei'],
    connections: number,
  ) {
    this.dispatcher = createTeiDispatcher(connections);
    this.endpoints = teiEndpoints(settings, this.dispatcher);
    this.pool = new EndpointPool(this.endpoints);
    this.useNativeRoute =
      settings.promptName !== undefined || !settings.normalize || settings.encodingFormat === 'float';
  }

  /** Which route the next request takes (`/v1/embeddings` or `/embed`): for reports. */
  get route(): string {
    return this.useNativeRoute ? '/embed' : '/v1/embeddings';
  }

  /** `GET /info` of every endpoint: one that is down is benched, not fatal; all down is. */
  describe(signal?: AbortSignal): Promise<EmbedderInfo> {
    this.info ??= this.connect(signal);
    return this.info;
  }

  dimensions(signal?: AbortSignal): Promise<number> {
    this.size ??= this.describe(signal).then(() =>
      probeEmbeddingSize(this.endpoints[this.upIndex]!, this.settings.dimensions),
    );
    return this.size;
  }

  close(): Promise<void> {
    return this.dispatcher.close().catch(() => {});
  }

  private async connect(signal?: AbortSignal): Promise<EmbedderInfo> {
    const { index, answer: server } = await askEveryEndpoint(
      this.endpoints,
      (endpoint) => fetchTeiInfo(endpoint, signal),
      this.warnings,
    );
    this.upIndex = index;
    const limits = batchLimitsFrom(server, this.settings);
    return {
      modelId: server.modelId,
      limits,
      maxInputTokens: this.settings.maxInputTokens ?? server.maxInputLength,
      // TEI takes one permit per input, so a request finding fewer free is refused whole (429).
      maxInFlight: Math.floor(server.maxConcurrentRequests / limits.maxInputs) * this.endpoints.length,
      route: `TEI ${this.route}`,
    };
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbedResult> {
    if (texts.length === 0) return { vectors: [], tokens: 0, queueMs: undefined, inferenceMs: undefined };
    return this.pool.use(
      async (endpoint) => {
        if (!this.useNativeRoute) {
          try {
            return await this.embedBase64(endpoint, texts, signal);
          } catch (error) {
            if (!lacksOpenAiRoute(error)) throw error;
            this.useNativeRoute = true;
          }
        }
        return this.embedJson(endpoint, texts, signal);
      },
      (error) => error instanceof ServiceError && error.retryable,
    );
  }

  private async embedBase64(endpoint: TeiEndpoint, texts: readonly string[], signal?: AbortSignal) {
    const body = {
      input: texts,
      encoding_format: 'base64',
      ...(this.settings.model ? { model: this.settings.model } : {}),
      ...(this.settings.dimensions ? { dimensions: this.settings.dimensions } : {}),
    };
    const response = await teiRequest(endpoint, 'POST', '/v1/embeddings', body, signal);
    const vectors = decodeOrThrow(endpoint, '/v1/embeddings', () => decodeBase64Embeddings(response.body));
    return withTimings(checkCount(endpoint, vectors, texts.length), response);
  }

  private async embedJson(endpoint: TeiEndpoint, texts: readonly string[], signal?: AbortSignal) {
    const body = {
      inputs: texts,
      truncate: true,
      normalize: this.settings.normalize,
      ...(this.settings.dimensions ? { dimensions: this.settings.dimensions } : {}),
      ...(this.settings.promptName ? { prompt_name: this.settings.promptName } : {}),
    };
    const response = await teiRequest(endpoint, 'POST', '/embed', body, signal);
    const vectors = decodeOrThrow(endpoint, '/embed', () => parseFloatMatrix(response.body));
    return withTimings(checkCount(endpoint, vectors, texts.length), response);
  }
}

/** An older TEI (or another server) without `/v1/embeddings` or without base64 support. */
function lacksOpenAiRoute(error: unknown): boolean {
  if (!(error instanceof ServiceError)) return false;
  return (
    error.code === '404' ||
    error.code === '405' ||
    (error.code === '422' && /encoding_format|base64/i.test(error.message))
  );
}
