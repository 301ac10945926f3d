import { ServiceError } from '../errors.js';
import { decodeBase64Embeddings, parseFloatMatrix } from './decode.js';
import { EndpointPool } from './endpoint-pool.js';
import { type TeiEndpoint, type TeiResponse, teiRequest } from './tei-http.js';

export interface EmbedOptions {
  /** Matryoshka output size; undefined for the model's own. */
  dimensions: number | undefined;
  /** A `prompt_name` from the model's config (only `/embed` takes one). */
  promptName: string | undefined;
  normalize: boolean;
}

export interface EmbedResult {
  vectors: Float32Array[];
  /** Tokens TEI counted (`x-compute-tokens`), when it said. */
  tokens: number | undefined;
  /** Time the request waited in TEI's queue and ran inference (`x-queue-time`, `x-inference-time`), ms. */
  queueMs: number | undefined;
  inferenceMs: number | undefined;
}

/** Something that turns texts into vectors: TEI here, a fake in tests. */
export interface Embedder {
  embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbedResult>;
}

/**
 * TEI through its binary-friendly route: `/v1/embeddings` with `encoding_format: "base64"` answers
 * little-endian float32 that decodes straight into `Float32Array`s, a hundred times faster than
 * `JSON.parse` of float arrays. `/embed` (JSON floats, read by a dedicated parser) is used when the
 * server lacks the OpenAI route or the request needs what only `/embed` takes (`prompt_name`,
 * `normalize: false`).
 */
export class TeiEmbedder implements Embedder {
  private readonly pool: EndpointPool;
  private useNativeRoute: boolean;

  constructor(
    endpoints: readonly TeiEndpoint[],
    private readonly options: EmbedOptions,
  ) {
    this.pool = new EndpointPool(endpoints);
    this.useNativeRoute = options.promptName !== undefined || !options.normalize;
  }

  /** Which route the next request takes (`/v1/embeddings` or `/embed`): for reports. */
  get route(): string {
    return this.useNativeRoute ? '/embed' : '/v1/embeddings';
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
      ...(this.options.dimensions ? { dimensions: this.options.dimensions } : {}),
    };
    const response = await teiRequest(endpoint, 'POST', '/v1/embeddings', body, signal);
    const vectors = decodeOrThrow(endpoint, '/v1/embeddings', () => decodeBase64Embeddings(response.body));
    return withTimings(checkCount(endpoint, vectors, texts.length), response);
  }

  private async embedJson(endpoint: TeiEndpoint, texts: readonly string[], signal?: AbortSignal) {
    const body = {
      inputs: texts,
      truncate: true,
      normalize: this.options.normalize,
      ...(this.options.dimensions ? { dimensions: this.options.dimensions } : {}),
      ...(this.options.promptName ? { prompt_name: this.options.promptName } : {}),
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

function decodeOrThrow(endpoint: TeiEndpoint, route: string, decode: () => Float32Array[]): Float32Array[] {
  try {
    return decode();
  } catch (error) {
    throw new ServiceError(
      'tei',
      endpoint.url,
      `${route} answered a body taboot cannot read: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function checkCount(endpoint: TeiEndpoint, vectors: Float32Array[], expected: number): Float32Array[] {
  if (vectors.length !== expected) {
    throw new ServiceError('tei', endpoint.url, `asked for ${expected} embeddings, got ${vectors.length}`);
  }
  return vectors;
}

function withTimings(vectors: Float32Array[], response: TeiResponse): EmbedResult {
  const header = (name: string): number | undefined => {
    const value = Number(response.headers[name]);
    return Number.isFinite(value) ? value : undefined;
  };
  return {
    vectors,
    tokens: header('x-compute-tokens'),
    queueMs: header('x-queue-time'),
    inferenceMs: header('x-inference-time'),
  };
}
