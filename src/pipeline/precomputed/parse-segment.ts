import { type EncodablePoint, encodePoint } from '../../qdrant/point-encoder.js';
import type { SourceDocument } from '../../sources/document.js';
import { parseJsonlLine } from '../../sources/jsonl-line.js';
import { forEachLine } from '../../sources/line-splitter.js';
import { asRetriedChunk } from '../failed-chunks.js';
import { fingerprint } from '../fingerprint.js';
import { withOwnSource } from '../owned-keys.js';
import { precomputedPoint } from './prepared.js';
import type { SegmentResult, SegmentTask, ThreadEvent } from './protocol.js';

/**
 * A precomputed vector's fingerprint depends on its content only, not on chunking or the model;
 * the main thread checks it again and builds the point itself should the two ever differ.
 */
const noChunking = { chunkTokens: 0, chunkOverlap: 0, minChunkTokens: 0, model: '' };

/** Encoded points of one segment, in one growing buffer, each placed so its floats are 4-byte aligned. */
class PointPacker {
  // Allocated by the first point: a segment without vectors (text to embed) needs none.
  private bytes = new Uint8Array(0);
  private used = 0;

  /** `capacity`: the segment's size, which its encoded points rarely exceed. */
  constructor(private readonly capacity: number) {}

  add(point: EncodablePoint): { offset: number; length: number } {
    let offset = 0;
    const encoded = encodePoint(point, (size) => {
      const floatsAt = size - point.vector.byteLength;
      offset = this.used + ((4 - ((this.used + floatsAt) % 4)) % 4);
      if (offset + size > this.bytes.length) {
        const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.capacity, offset + size));
        grown.set(this.bytes.subarray(0, this.used));
        this.bytes = grown;
      }
      return this.bytes.subarray(offset, offset + size);
    });
    this.used = offset + encoded.byteLength;
    return { offset, length: encoded.byteLength };
  }

  take(): ArrayBuffer | undefined {
    return this.used === 0 ? undefined : (this.bytes.buffer as ArrayBuffer);
  }
}

/**
 * What a reader thread does with a segment: parses its lines exactly as the single-threaded reader
 * does and, for each document with a precomputed vector, builds and encodes its point, so that the
 * main thread only routes documents and copies encoded points into requests.
 */
/** The vector of the line being parsed: encoded before the next line, so one array serves them all. */
let scratch = new Float32Array(1024);
function scratchArray(length: number): Float32Array {
  if (scratch.length < length) scratch = new Float32Array(length);
  return scratch.subarray(0, length);
}

export function parseSegment(task: SegmentTask): SegmentResult {
  const context = { ...task.context, vectorArray: scratchArray };
  const events: ThreadEvent[] = [];
  const packer = new PointPacker(task.bytes.byteLength);
  forEachLine(task, (bytes, line) => {
    context.line = line;
    for (const event of parseJsonlLine(bytes, context)) {
      const document = event.kind === 'document' ? event.document : undefined;
      if (!document?.vector || asRetriedChunk(document)) {
        // A vector that leaves with its document must not be the shared one.
        if (document?.vector) document.vector = document.vector.slice();
        events.push(event);
        continue;
      }
      const { vector, ...rest } = document;
      const print = fingerprint(document, noChunking);
      // Encoded as the plan stage will take it: a `source` field of its own names its source.
      const ingested = withOwnSource(document) as SourceDocument & { vector: Float32Array };
      const point = precomputedPoint(ingested, print);
      const { offset, length } = packer.add(point);
      events.push({
        kind: 'prepared',
        document: rest,
        fingerprint: print,
        pointId: point.id,
        offset,
        length,
        dimensions: vector.length,
      });
    }
  });
  return { seq: task.seq, events, points: packer.take(), input: task.bytes.buffer as ArrayBuffer };
}
