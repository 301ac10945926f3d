import type { ReadEvent, SourceDocument } from '../../sources/document.js';
import type { JsonlLineContext } from '../../sources/jsonl-line.js';

/** Lines of one JSONL file for a reader thread to parse; `bytes` is transferred. */
export interface SegmentTask {
  seq: number;
  firstLine: number;
  bytes: Uint8Array;
  /** How to read the lines; its `line` is set per line by the thread. */
  context: JsonlLineContext;
}

/**
 * A document with a precomputed vector whose point the thread built and encoded. The document
 * travels without its vector: that is the last `4 * dimensions` bytes of the encoded point.
 */
export interface PreparedEvent {
  kind: 'prepared';
  document: Omit<SourceDocument, 'vector'>;
  fingerprint: string;
  pointId: string;
  /** Where the encoded point sits in the result's `points`. */
  offset: number;
  length: number;
  dimensions: number;
}

export type ThreadEvent = ReadEvent | PreparedEvent;

export interface SegmentResult {
  seq: number;
  /** What the lines gave, in line order. */
  events: ThreadEvent[];
  /** The encoded points of the `prepared` events (transferred), each vector 4-byte aligned. */
  points: ArrayBuffer | undefined;
  /** The task's buffer, handed back for the next read (transferred). */
  input: ArrayBuffer;
}
