import { z } from 'zod';
import { defaultInclude } from '../sources/registry.js';
import { distances, payloadIndexTypes } from './constants.js';

/**
 * The whole configuration, with the defaults of DESIGN section 9. Every object is strict, so a
 * misspelt key is an error rather than a silently ignored setting.
 */

const httpUrl = z.string().refine((value) => /^https?:\/\/[^\s/]+/.test(value) && URL.canParse(value), {
  message: 'expected a URL starting with http:// or https://',
});

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

export type { Distance, PayloadIndexType } from './constants.js';
export { distances, payloadIndexTypes };

const payloadIndexSchema = z.union([
  z.enum(payloadIndexTypes),
  z.strictObject({
    type: z.enum(payloadIndexTypes),
    /** Keyword and uuid indexes only: the field partitions tenants (Qdrant's `is_tenant`). */
    isTenant: z.boolean().optional(),
  }),
]);

const qdrantSchema = z.strictObject({
  /** gRPC endpoint (port 6334 by default; REST on 6333 is not used). */
  url: httpUrl.default('http://localhost:6334'),
  apiKey: z.string().min(1).optional(),
  /** Deadline of one request, in milliseconds. */
  timeoutMs: positiveInt.default(30_000),
});

/** The embedding servers taboot speaks to: TEI's own API, or the OpenAI embeddings API (vLLM, Infinity, Ollama, ...). */
export const embedderKinds = ['tei', 'openai'] as const;

/**
 * The embedding server, whatever its kind (the section keeps its historic name, `tei`, so that
 * existing config files, `TABOOT_TEI_URL`, `TEI_API_KEY` and `--tei-url` keep working).
 */
const teiSchema = z
  .strictObject({
    /** `tei`: TEI (`/info`, `/embed`, `/v1/embeddings`); `openai`: a server of `POST {url}/embeddings`. */
    kind: z.enum(embedderKinds).default('tei'),
    /** TEI: the server's root. `openai`: the OpenAI base URL, to which `/embeddings` is appended. */
    url: httpUrl.default('http://localhost:8080'),
    /** Several endpoints to spread batches over; when set, `url` is ignored. */
    urls: z.array(httpUrl).min(1).optional(),
    apiKey: z.string().min(1).optional(),
    /** The model to ask for (`model` of `/v1/embeddings`): required for `openai`, sent to TEI when set. */
    model: z.string().min(1).optional(),
    timeoutMs: positiveInt.default(60_000),
    /** Requests in flight to the embedding server; `auto` follows its queue time (from 4 up to what it admits). */
    concurrency: z.union([positiveInt, z.literal('auto')]).default('auto'),
    maxRetries: nonNegativeInt.default(6),
    /** Inputs and tokens per request: override TEI's `/info`; for `openai`, 32 and 16384 unless set. */
    maxClientBatchSize: positiveInt.optional(),
    maxBatchTokens: positiveInt.optional(),
    /** Longest input in tokens: overrides TEI's `/info` and vLLM's `max_model_len` from `/v1/models`. */
    maxInputTokens: positiveInt.optional(),
    /** Matryoshka output size; unset means the model's full size. */
    dimensions: positiveInt.optional(),
    /** `base64` (little-endian float32, fast to read) or `float` (JSON numbers) from `/v1/embeddings`. */
    encodingFormat: z.enum(['base64', 'float']).default('base64'),
    /** A prompt configured in the model's sentence-transformers config, applied to documents (TEI only). */
    promptName: z.string().min(1).optional(),
    normalize: z.boolean().default(true),
  })
  .superRefine((tei, context) => {
    if (tei.kind !== 'openai') return;
    const problem = (key: string, message: string) =>
      context.addIssue({ code: 'custom', path: [key], message });
    if (tei.model === undefined) {
      problem('model', 'required when tei.kind is "openai": the model name the server serves');
    }
    if (tei.promptName !== undefined) {
      problem(
        'promptName',
        'only TEI takes a prompt_name; an OpenAI-compatible server embeds the text as sent',
      );
    }
    if (!tei.normalize) {
      problem('normalize', 'an OpenAI-compatible server cannot be asked for unnormalised embeddings');
    }
  });

const collectionSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^/\\\0*?<>|:"]+$/, 'expected a collection name without / \\ : * ? " < > |')
    .default('technical_docs'),
  vectorSize: positiveInt.max(65_536).default(1024),
  distance: z.enum(distances).default('Cosine'),
  /** Keep the original vectors on disk (memmap) instead of in RAM. */
  onDisk: z.boolean().default(false),
  hnsw: z
    .strictObject({
      m: nonNegativeInt.default(32),
      efConstruct: positiveInt.min(4).default(256),
      fullScanThreshold: nonNegativeInt.default(10_000),
      onDisk: z.boolean().default(false),
    })
    .prefault({}),
  quantization: z
    .strictObject({
      type: z.enum(['int8', 'none']).default('int8'),
      quantile: z.number().min(0.5).max(1).default(0.99),
      alwaysRam: z.boolean().default(true),
    })
    .prefault({}),
  optimizers: z
    .strictObject({
      defaultSegmentNumber: nonNegativeInt.default(2),
      /** Kilobytes, as in Qdrant's config (`max_segment_size_kb`). */
      maxSegmentSizeKb: positiveInt.default(500_000),
      /** Kilobytes (`indexing_threshold_kb`). */
      indexingThresholdKb: nonNegativeInt.default(20_000),
    })
    .prefault({}),
  shards: positiveInt.default(1),
  replicationFactor: positiveInt.default(1),
  writeConsistencyFactor: positiveInt.default(1),
  payloadIndexes: z.record(z.string().min(1), payloadIndexSchema).default({
    doc_id: 'keyword',
    source: 'keyword',
    service_name: 'keyword',
    section: 'keyword',
    tags: 'keyword',
    created_at: 'integer',
    chunk_index: 'integer',
  }),
});

const ingestSchema = z.strictObject({
  include: z.array(z.string().min(1)).default([...defaultInclude]),
  exclude: z.array(z.string().min(1)).default([]),
  /** Points per upsert request. */
  batchSize: positiveInt.max(100_000).default(500),
  /** Bytes per upsert request, kept under Qdrant's 32 MiB gRPC message limit. */
  batchBytes: positiveInt.max(32 * 1024 * 1024).default(16 * 1024 * 1024),
  /** Upsert requests in flight. */
  parallel: positiveInt.max(64).default(4),
  /** Wait for Qdrant to apply each batch (slower) instead of its write-ahead-log acknowledgement. */
  wait: z.boolean().default(false),
  maxRetries: nonNegativeInt.default(6),
  chunkTokens: positiveInt.min(16).default(512),
  chunkOverlap: nonNegativeInt.default(64),
  /** Chunks smaller than this merge with a neighbour; default 64, or half of `chunkTokens` when that is less. */
  minChunkTokens: nonNegativeInt.optional(),
  textField: z.string().min(1).default('text'),
  idField: z.string().min(1).default('id'),
  maxLineBytes: positiveInt.default(8 * 1024 * 1024),
  /**
   * Threads that parse JSONL files (and encode the points of precomputed vectors) beside the main
   * thread; unset: one per core but one. 0: parse on the main thread.
   */
  readWorkers: nonNegativeInt.max(64).optional(),
  onError: z.enum(['skip', 'fail']).default('skip'),
});

const rerankerSchema = z.strictObject({
  url: httpUrl,
  /** `tei`: TEI's `/rerank {query, texts}`; `cohere`: Cohere/Jina-style `/v1/rerank {query, documents, top_n}`. */
  kind: z.enum(['tei', 'cohere']).default('tei'),
  model: z.string().min(1).optional(),
  apiKey: z.string().min(1).optional(),
  timeoutMs: positiveInt.default(30_000),
});

const searchSchema = z.strictObject({
  limit: positiveInt.default(20),
  hnswEf: positiveInt.default(128),
  exact: z.boolean().default(false),
  rescore: z.boolean().default(true),
  oversampling: z.number().min(1).default(2),
  /** Qwen3-Embedding query instruction: the query is sent as `Instruct: {task}\nQuery:{query}`. */
  instruction: z
    .string()
    .default('Given a web search query, retrieve relevant passages that answer the query'),
  /** Use a TEI `prompt_name` for queries instead of the instruction text. */
  promptName: z.string().min(1).optional(),
  reranker: rerankerSchema.optional(),
});

export const configSchema = z
  .strictObject({
    qdrant: qdrantSchema.prefault({}),
    tei: teiSchema.prefault({}),
    collection: collectionSchema.prefault({}),
    ingest: ingestSchema.prefault({}),
    search: searchSchema.prefault({}),
  })
  .superRefine((config, context) => {
    if (config.tei.kind === 'openai' && config.search.promptName !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['search', 'promptName'],
        message: 'only TEI takes a prompt_name; with tei.kind "openai" use search.instruction',
      });
    }
  });

export type Config = Readonly<z.output<typeof configSchema>>;
/** What a config file, the environment or flags may say: every key optional, nothing defaulted. */
export type ConfigInput = z.input<typeof configSchema>;
export type CollectionConfig = Config['collection'];
/** The embedding server's settings (`tei` section), whatever its kind. */
export type EmbedderConfig = Config['tei'];
export type EmbedderKind = (typeof embedderKinds)[number];
export type PayloadIndexSetting = z.output<typeof payloadIndexSchema>;
