import type { Agent } from 'undici';
import type { EmbedderConfig } from '../config/schema.js';
import { ServiceError } from '../errors.js';
import { askEveryEndpoint } from './answering-endpoint.js';
import { batchLimitsFrom } from './batch-limits.js';
import { decodeEmbeddingList } from './decode.js';
import { checkCount, decodeOrThrow, withTimings } from './embed-response.js';
import type { Embedder, EmbedderInfo, EmbedResult } from './embedder.js';
import { EndpointPool } from './endpoint-pool.js';
import { fetchServedModels } from './openai-models.js';
import { openAiProtocol, refusesBase64 } from './openai-protocol.js';
import { createTeiDispatcher, endpointUrl, type TeiEndpoint, teiEndpoints, teiRequest } from './tei-http.js';

/**
 * Request limits for a server that does not tell its own (the OpenAI API has no `/info`): TEI's
 * defaults, which every OpenAI-compatible server takes; `tei.maxClientBatchSize` and
 * `tei.maxBatchTokens` raise them.
 */
/** What these servers cannot tell: TEI's defaults, unless config says otherwise. */
const openAiDefaultLimits = { maxClientBatchSize: 32, maxBatchTokens: 16_384 } as const;

const sizeProbe = 'taboot embedding size probe';

/**
 * An OpenAI-compatible embedding server (vLLM, Infinity, Ollama, llama.cpp's server, OpenAI):
 * `POST {url}/embeddings {model, input, encoding_format, dimensions}`. `tei.url` is the OpenAI
 * base URL, as the OpenAI SDKs take it (`http://localhost:8000/v1`). Embeddings are asked as
 * base64 float32 (read straight into `Float32Array`s) unless `tei.encodingFormat` is `float` or
 * the server refuses base64; a server that ignores the field and answers floats is read too.
 * `describe()` comes from the config and `GET {url}/models` (vLLM's `max_model_len`), and the
 * vector size from one embedding: these servers have no `/info`.
 */
export class OpenAiEmbedder implements Embedder {
  private readonly dispatcher: Agent;
  private readonly endpoints: TeiEndpoint[];
  private readonly pool: EndpointPool;
  private readonly model: string;
  private encodingFormat: 'base64' | 'float';
  private info: Promise<EmbedderInfo> | undefined;
  private size: Promise<number> | undefined;
  readonly warnings: string[] = [];

  /** `connections`: requests the caller keeps in flight, per endpoint. */
  constructor(
    private readonly settings: EmbedderConfig,
    connections: number,
  ) {
    // The config schema requires it for this kind; a caller building settings by hand gets told.
    if (settings.model === undefined) throw new TypeError('an OpenAI-compatible embedder needs tei.model');
    this.model = settings.model;
    this.encodingFormat = settings.encodingFormat;
    this.dispatcher = createTeiDispatcher(connections);
    this.endpoints = teiEndpoints(settings, this.dispatcher, openAiProtocol);
    this.pool = new EndpointPool(this.endpoints);
  }

  /** The model and limits from the config, the context length from `GET /models` where it says. */
  describe(signal?: AbortSignal): Promise<EmbedderInfo> {
    this.info ??= this.connect(signal);
    return this.info;
  }

  dimensions(signal?: AbortSignal): Promise<number> {
    this.size ??= this.describe(signal).then(async () => {
      const result = await this.embed([sizeProbe], signal);
      return result.vectors[0]!.length;
    });
    return this.size;
  }

  close(): Promise<void> {
    return this.dispatcher.close().catch(() => {});
  }

  private async connect(signal?: AbortSignal): Promise<EmbedderInfo> {
    const { answer: models } = await askEveryEndpoint(
      this.endpoints,
      (endpoint) => fetchServedModels(endpoint, signal),
      this.warnings,
    );
    const served = models?.find((model) => model.id === this.model);
    if (models !== undefined && models.length > 0 && served === undefined) {
      const listed = models.map((model) => model.id);
      const shown = listed.length > 5 ? `${listed.slice(0, 5).join(', ')}, ...` : listed.join(', ');
      this.warnings.push(`tei.model ${this.model} is not among the models the server lists (${shown})`);
    }
    const limits = batchLimitsFrom(openAiDefaultLimits, this.settings);
    return {
      modelId: this.model,
      limits,
      // Without a stated context length, no input can be longer than a whole request.
      maxInputTokens: this.settings.maxInputTokens ?? served?.maxModelLen ?? limits.maxTokens,
      route: `OpenAI-compatible /embeddings (${this.encodingFormat})`,
    };
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbedResult> {
    if (texts.length === 0) return { vectors: [], tokens: 0, queueMs: undefined, inferenceMs: undefined };
    return this.pool.use(
      async (endpoint) => {
        const format = this.encodingFormat;
        try {
          return await this.request(endpoint, texts, format, signal);
        } catch (error) {
          if (format !== 'base64' || !refusesBase64(error)) throw error;
          this.encodingFormat = 'float';
          return this.request(endpoint, texts, 'float', signal);
        }
      },
      (error) => error instanceof ServiceError && error.retryable,
    );
  }

  private async request(
    endpoint: TeiEndpoint,
    texts: readonly string[],
    format: 'base64' | 'float',
    signal?: AbortSignal,
  ): Promise<EmbedResult> {
    const body = {
      model: this.model,
      input: texts,
      encoding_format: format,
      ...(this.settings.dimensions ? { dimensions: this.settings.dimensions } : {}),
    };
    const response = await teiRequest(endpoint, 'POST', 'embeddings', body, signal);
    const { vectors, promptTokens } = decodeOrThrow(
      endpoint,
      endpointUrl(endpoint, 'embeddings').pathname,
      () => decodeEmbeddingList(response.body),
    );
    return withTimings(checkCount(endpoint, vectors, texts.length), response, promptTokens);
  }
}
