import type { EncodablePoint, PayloadValue } from '../qdrant/point-encoder.js';

/**
 * One chunk on its way through the pipeline: where it came from (for `file:line` reports and
 * `--failed-out`), its text and payload, and, once embedded or read precomputed, its vector.
 */
export interface WorkItem {
  file: string;
  line: number | undefined;
  docId: string;
  chunkIndex: number;
  text: string;
  payload: Record<string, PayloadValue>;
  pointId: string;
  estimatedTokens: number;
  vector: Float32Array | undefined;
  /**
   * The point already encoded, by a reader thread (JSONL with vectors). Gone once anything reads
   * `payload`, which may change it: the point is then encoded from the payload.
   */
  encoded?: Uint8Array | undefined;
}

export function toPoint(item: WorkItem & { vector: Float32Array }): EncodablePoint {
  if (item.encoded === undefined) return { id: item.pointId, vector: item.vector, payload: item.payload };
  return new EncodedPoint(item, item.encoded);
}

/**
 * A point encoded ahead; its payload is built only if a sink reads it (a dry run's estimates).
 * Only `id` and `vector` are own properties: a copy made by spreading it (`{ ...point, payload }`)
 * is a plain point, encoded from its own fields, never with bytes that no longer match them.
 */
class EncodedPoint implements EncodablePoint {
  readonly id: string;
  readonly vector: Float32Array;
  readonly #item: WorkItem & { vector: Float32Array };
  readonly #encoded: Uint8Array;

  constructor(item: WorkItem & { vector: Float32Array }, encoded: Uint8Array) {
    this.id = item.pointId;
    this.vector = item.vector;
    this.#item = item;
    this.#encoded = encoded;
  }

  get encoded(): Uint8Array {
    return this.#encoded;
  }

  get payload(): Record<string, PayloadValue> {
    return this.#item.payload;
  }
}

export type FailureStage = 'read' | 'embed' | 'upsert';

export interface ItemFailure {
  item: WorkItem;
  stage: FailureStage;
  reason: string;
}

/** A failure as reported: with where the chunk came from, as the user names its file (`docs/a.jsonl:12`). */
export interface ReportedFailure extends ItemFailure {
  location: string;
}
