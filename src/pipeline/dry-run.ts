import { estimateTokens } from '../chunking/tokens.js';
import type { Config } from '../config/schema.js';
import type { Embedder, EmbedderInfo, EmbedResult } from '../embed/embedder.js';
import { type EncodablePoint, encodeUpsertPoints, estimatePointBytes } from '../qdrant/point-encoder.js';
import type { PointSink } from '../qdrant/point-sink.js';

/** TEI's defaults, used for batching when no server is asked (`--dry-run`). */
const teiDefaultLimits = { maxInputs: 32, maxTokens: 16_384, maxBytes: 1_500_000 };

export interface LargestChunk {
  docId: string;
  chunkIndex: number;
  section: string;
  tokens: number;
}

export interface CollectionEstimate {
  points: number;
  /** float32 originals, the int8 copy, the HNSW graph (level 0: 2m links of 4 bytes), payload. */
  vectorBytes: number;
  quantizedBytes: number;
  graphBytes: number;
  payloadBytes: number;
  ramBytes: number;
  diskBytes: number;
}

/** Stands in for TEI: zero vectors of the collection's size, no network. */
class ZeroEmbedder implements Embedder {
  readonly warnings: string[] = [];

  constructor(
    private readonly info: EmbedderInfo,
    private readonly size: number,
  ) {}

  async describe(): Promise<EmbedderInfo> {
    return this.info;
  }

  async dimensions(): Promise<number> {
    return this.size;
  }

  async close(): Promise<void> {}

  async embed(texts: readonly string[]): Promise<EmbedResult> {
    return {
      vectors: texts.map(() => new Float32Array(this.size)),
      tokens: undefined,
      queueMs: undefined,
      inferenceMs: undefined,
    };
  }
}

/**
 * Stands in for Qdrant: encodes each batch exactly as it would be sent, to measure request and
 * payload bytes, and keeps the ten largest chunks.
 */
export class MeasuringSink implements PointSink {
  points = 0;
  requestBytes = 0;
  largestRequestBytes = 0;
  payloadBytes = 0;
  readonly largest: LargestChunk[] = [];

  constructor(
    private readonly collectionName: string,
    private readonly dimensions: number,
  ) {}

  async upsert(points: readonly EncodablePoint[]): Promise<number> {
    const bytes = encodeUpsertPoints({ collectionName: this.collectionName, wait: false, points }).byteLength;
    this.points += points.length;
    this.requestBytes += bytes;
    this.largestRequestBytes = Math.max(this.largestRequestBytes, bytes);
    const vectorOnly = encodeUpsertPoints({
      collectionName: this.collectionName,
      wait: false,
      points: points.map((point) => ({ ...point, payload: {} })),
    }).byteLength;
    this.payloadBytes += bytes - vectorOnly;
    for (const point of points) this.consider(point);
    return bytes;
  }

  pointBytes(point: EncodablePoint): number {
    return estimatePointBytes(point);
  }

  async close(): Promise<void> {}

  private consider(point: EncodablePoint): void {
    const content = typeof point.payload.content === 'string' ? point.payload.content : '';
    const tokens = estimateTokens(content);
    const smallest = this.largest[this.largest.length - 1];
    if (this.largest.length >= 10 && smallest && smallest.tokens >= tokens) return;
    this.largest.push({
      docId: String(point.payload.doc_id),
      chunkIndex: Number(point.payload.chunk_index),
      section: String(point.payload.section ?? ''),
      tokens,
    });
    this.largest.sort((a, b) => b.tokens - a.tokens);
    if (this.largest.length > 10) this.largest.pop();
  }

  estimate(config: Config): CollectionEstimate {
    const { collection } = config;
    const vectorBytes = this.points * this.dimensions * 4;
    const quantizedBytes = collection.quantization.type === 'int8' ? this.points * this.dimensions : 0;
    const graphBytes = this.points * collection.hnsw.m * 2 * 4;
    const ramBytes =
      (collection.onDisk ? 0 : vectorBytes) +
      (collection.quantization.alwaysRam || !collection.onDisk ? quantizedBytes : 0) +
      (collection.hnsw.onDisk ? 0 : graphBytes);
    return {
      points: this.points,
      vectorBytes,
      quantizedBytes,
      graphBytes,
      payloadBytes: this.payloadBytes,
      ramBytes,
      diskBytes: vectorBytes + quantizedBytes + graphBytes + this.payloadBytes,
    };
  }
}

/** `--dry-run`: the real pipeline with TEI and Qdrant replaced by measuring stand-ins. */
export function dryRunServices(config: Config) {
  const dimensions = config.tei.dimensions ?? config.collection.vectorSize;
  const sink = new MeasuringSink(config.collection.name, dimensions);
  const embedder = new ZeroEmbedder(
    {
      modelId: 'none (dry run)',
      limits: {
        maxInputs: config.tei.maxClientBatchSize ?? teiDefaultLimits.maxInputs,
        maxTokens: config.tei.maxBatchTokens ?? teiDefaultLimits.maxTokens,
        maxBytes: teiDefaultLimits.maxBytes,
      },
      maxInputTokens: 32_768,
      route: 'none (dry run)',
    },
    dimensions,
  );
  return { embedder, sink, dimensions };
}
