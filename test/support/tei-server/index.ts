/**
 * An in-process stand-in for Hugging Face Text Embeddings Inference 1.9 serving Qwen3-Embedding:
 * the routes, limits, error bodies and headers of the real server (checked against TEI's
 * router/src/http/server.rs, router/src/lib.rs, core/src/tokenization.rs), deterministic hashed-word
 * embeddings, and fault injection. Also serves a Cohere/Jina-style `POST /v1/rerank`, which TEI lacks.
 */
export type { FailOptions, FaultStatus, FaultTarget, TeiFaults } from './faults.js';
export type { TeiStats } from './metrics.js';
export { startTeiServer, type TeiServerOptions, type TeiTestServer } from './server.js';
export { countTokens, EOS_ID, EOS_TEXT } from './tokenizer.js';
