/**
 * An in-process stand-in for Hugging Face Text Embeddings Inference 1.9.3 serving Qwen3-Embedding:
 * the routes, limits, error bodies and headers of the real server (checked against TEI's
 * router/src/http/server.rs, router/src/lib.rs, core/src/tokenization.rs), TEI's dynamic batcher
 * (core/src/queue.rs) with an optional GPU-like service rate, deterministic hashed-word embeddings, and
 * fault injection. Also serves a Cohere/Jina-style `POST /v1/rerank`, which TEI lacks, and, with
 * `flavor: 'openai'`, stands in for an OpenAI-compatible embedding server instead.
 */
export type { BatchEvent } from './batcher.js';
export type {
  Delay,
  FailOptions,
  FaultAction,
  FaultRule,
  FaultStatus,
  FaultTarget,
  TeiFaults,
} from './faults.js';
export type { BackendStats, TeiStats } from './metrics.js';
export { startTeiServer, type TeiServerOptions, type TeiTestServer } from './server.js';
export { countTokens, EOS_ID, EOS_TEXT } from './tokenizer.js';
