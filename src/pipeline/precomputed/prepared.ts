import { estimateTokens } from '../../chunking/tokens.js';
import type { EncodablePoint, PayloadValue } from '../../qdrant/point-encoder.js';
import { pointId } from '../../qdrant/point-id.js';
import type { SourceDocument } from '../../sources/document.js';
import { buildPayload } from '../payload.js';
import type { WorkItem } from '../work-item.js';

/** What a reader thread made of a document with a precomputed vector: its point, encoded. */
export interface PreparedPoint {
  /** The fingerprint the encoded payload carries as `doc_hash`. */
  fingerprint: string;
  pointId: string;
  /** The `PointStruct`, as `encodePoint` writes it from `precomputedPoint`. */
  encoded: Uint8Array;
}

const preparedKey = Symbol('prepared point');

type WithPrepared = SourceDocument & { [preparedKey]?: PreparedPoint };

/** Attaches the point a reader thread prepared; `precomputedItem` takes it instead of building one. */
export function attachPrepared(document: SourceDocument, prepared: PreparedPoint): void {
  (document as WithPrepared)[preparedKey] = prepared;
}

/**
 * The one point of a document with a precomputed vector: its whole text, never re-chunked (the
 * vector belongs to that text), carrying `fingerprint` as `doc_hash`. When a reader thread already
 * encoded it with the same fingerprint, that work is taken as it is; the point is the same either
 * way (the thread encodes `precomputedPoint`).
 */
export function precomputedItem(
  document: SourceDocument & { vector: Float32Array },
  fingerprint: string,
): WorkItem {
  const prepared = (document as WithPrepared)[preparedKey];
  if (prepared?.fingerprint === fingerprint) return new PreparedItem(document, prepared);
  const point = precomputedPoint(document, fingerprint);
  return {
    file: document.file,
    line: document.line,
    docId: document.docId,
    chunkIndex: 0,
    text: document.text,
    payload: point.payload,
    pointId: point.id,
    estimatedTokens: estimateTokens(document.text),
    vector: document.vector,
  };
}

/** The point `precomputedItem` writes for the document. */
export function precomputedPoint(
  document: SourceDocument & { vector: Float32Array },
  fingerprint: string,
): EncodablePoint & { id: string; payload: Record<string, PayloadValue> } {
  return {
    id: pointId(document.docId, 0),
    vector: document.vector,
    payload: payloadOf(document, fingerprint),
  };
}

function payloadOf(document: SourceDocument, fingerprint: string): Record<string, PayloadValue> {
  return buildPayload(
    { ...document, docHash: fingerprint },
    { chunkIndex: 0, text: document.text, section: '' },
    1,
  );
}

/**
 * A work item whose point came encoded from a reader thread. Its payload is built only if
 * something asks for it (a failure report, a chunk 0 marked incomplete, a dry run), and asking
 * drops the encoded bytes, since the payload may then be changed: the point is encoded afresh.
 */
class PreparedItem implements WorkItem {
  readonly file: string;
  readonly line: number | undefined;
  readonly docId: string;
  readonly chunkIndex = 0;
  readonly text: string;
  readonly pointId: string;
  readonly vector: Float32Array;
  encoded: Uint8Array | undefined;
  private built: Record<string, PayloadValue> | undefined;
  private tokens: number | undefined;

  constructor(
    private readonly document: SourceDocument & { vector: Float32Array },
    private readonly prepared: PreparedPoint,
  ) {
    this.file = document.file;
    this.line = document.line;
    this.docId = document.docId;
    this.text = document.text;
    this.pointId = prepared.pointId;
    this.vector = document.vector;
    this.encoded = prepared.encoded;
  }

  /** Read only on the way to an embedder, which a precomputed vector never takes. */
  get estimatedTokens(): number {
    this.tokens ??= estimateTokens(this.text);
    return this.tokens;
  }

  get payload(): Record<string, PayloadValue> {
    if (this.built === undefined) {
      this.built = payloadOf(this.document, this.prepared.fingerprint);
      this.encoded = undefined;
    }
    return this.built;
  }
}
