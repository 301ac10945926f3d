import type { EncodablePoint } from './point-encoder.js';

/**
 * Where upserted points go: Qdrant over the fast gRPC path in production, a measuring or
 * discarding stand-in for `--dry-run`, tests and benchmarks. The pipeline knows points only through
 * this interface; how they are encoded and which errors mean bad input are the sink's business
 * (a rejected point fails with a `ServiceError` whose `rejectedInput` is set).
 */
export interface PointSink {
  /** Resolves with the request's size in bytes once the server acknowledged it. */
  upsert(points: readonly EncodablePoint[], signal?: AbortSignal): Promise<number>;
  /** Bytes `point` adds to a request, exact or a close upper bound: for batch byte limits. */
  pointBytes(point: EncodablePoint): number;
  close(): Promise<void>;
}
