import type { EncodablePoint } from '../qdrant/point-encoder.js';

/**
 * Where upserted points go: Qdrant over the fast gRPC path in production, an in-memory list or a
 * discarding sink in tests and benchmarks. Resolves with the request's size in bytes.
 */
export interface PointSink {
  upsert(points: readonly EncodablePoint[], signal?: AbortSignal): Promise<number>;
  close(): Promise<void>;
}
