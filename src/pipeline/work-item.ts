import { formatLocation } from '../location.js';
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
}

export function toPoint(item: WorkItem & { vector: Float32Array }): EncodablePoint {
  return { id: item.pointId, vector: item.vector, payload: item.payload };
}

/** Where an item came from, as errors print it: `docs/a.jsonl:12` or `docs/b.md`. */
export function itemLocation(item: Pick<WorkItem, 'file' | 'line'>): string {
  return formatLocation(item);
}

export type FailureStage = 'read' | 'embed' | 'upsert';

export interface ItemFailure {
  item: WorkItem;
  stage: FailureStage;
  reason: string;
}
