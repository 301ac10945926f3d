import type { EmbedBatchLimits } from './batch-limits.js';

export interface EmbedResult {
  vectors: Float32Array[];
  /** Tokens the server counted (TEI's `x-compute-tokens`), when it said. */
  tokens: number | undefined;
  /** Time the request waited in the server's queue and ran inference (`x-queue-time`, `x-inference-time`), ms. */
  queueMs: number | undefined;
  inferenceMs: number | undefined;
}

/**
 * The most requests `tei.concurrency: auto` keeps in flight, and so the connections a client keeps
 * open for it.
 */
export const maxAutoConcurrency = 64;

/** What an embedding server is and takes, learned when it is first needed. */
export interface EmbedderInfo {
  /** The model as the server names it (`Qwen/Qwen3-Embedding-0.6B`). */
  modelId: string;
  /** Bounds of one request: inputs, estimated tokens, body bytes. */
  limits: EmbedBatchLimits;
  /** Longest input in tokens; longer inputs are truncated by the server. */
  maxInputTokens: number;
  /**
   * Requests of `limits.maxInputs` inputs the server admits at once before it answers 429 (TEI:
   * `max_concurrent_requests / max_client_batch_size`, over every endpoint), where it says.
   */
  maxInFlight?: number;
  /** One line for reports and `--debug`: the backend and route (`TEI /v1/embeddings`). */
  route: string;
}

/**
 * Something that turns texts into vectors: TEI or an OpenAI-compatible server (`createEmbedder`),
 * a stand-in for `--dry-run`, a fake in tests. Nothing is asked of the server until `describe` or
 * `embed` is first called, so a run that embeds nothing never needs it.
 */
export interface Embedder {
  /** Learns the model and its limits (TEI: `GET /info`); cached after the first call. */
  describe(signal?: AbortSignal): Promise<EmbedderInfo>;
  /** Embeds one short text to learn the vectors' length (with the configured Matryoshka size); cached. */
  dimensions(signal?: AbortSignal): Promise<number>;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbedResult>;
  /** Lines for the user about endpoints that did not answer `describe` (the others carry the load). */
  readonly warnings: readonly string[];
  close(): Promise<void>;
}
