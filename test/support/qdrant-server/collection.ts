import { clone, create } from '@bufbuild/protobuf';
import {
  type CollectionConfig,
  CollectionConfigSchema,
  type CollectionInfo,
  CollectionInfoSchema,
  CollectionParamsSchema,
  CollectionStatus,
  type CreateCollection,
  type Distance,
  type HnswConfigDiff,
  HnswConfigDiffSchema,
  OptimizerStatusSchema,
  type OptimizersConfigDiff,
  OptimizersConfigDiffSchema,
  type PayloadIndexParams,
  PayloadSchemaInfoSchema,
  type PayloadSchemaType,
  type QuantizationConfig,
  QuantizationConfigSchema,
  type UpdateCollection,
  type VectorsConfig,
  VectorsConfigSchema,
} from '@qdrant/js-client-grpc';
import { qdrantErrors } from './errors.js';
import { checkHnsw, checkOptimizers, checkQuantization, vectorSpecs } from './validation.js';
import type { Json, Payload } from './values.js';
import { valuesAt } from './values.js';

export interface VectorSpec {
  size: number;
  distance: Distance;
}

/** A stored point. Vectors are Float32Array (Cosine ones normalised on insert, as Qdrant does). */
export interface StoredPoint {
  key: string;
  vectors: Map<string, Float32Array>;
  /** The payload exactly as received, returned as is. */
  payload: Payload;
  /** The same payload as JSON, for filters. */
  json: { [key: string]: Json };
  version: bigint;
}

export interface PayloadIndex {
  type: PayloadSchemaType;
  params: PayloadIndexParams | undefined;
}

/** Qdrant 1.19's defaults for what a create request leaves out. */
const defaultHnsw = {
  m: 16n,
  efConstruct: 100n,
  fullScanThreshold: 10000n,
  maxIndexingThreads: 0n,
  onDisk: false,
};
const defaultOptimizers = {
  deletedThreshold: 0.2,
  vacuumMinVectorNumber: 1000n,
  defaultSegmentNumber: 0n,
  indexingThreshold: 10000n,
  flushIntervalSec: 5n,
};

/** One in-memory collection: its config as Qdrant reports it, its points and payload indexes. */
export class StoredCollection {
  readonly name: string;
  readonly vectors: Map<string, VectorSpec>;
  readonly points = new Map<string, StoredPoint>();
  readonly payloadIndexes = new Map<string, PayloadIndex>();
  private vectorsConfig: VectorsConfig;
  private hnsw: HnswConfigDiff;
  private optimizers: OptimizersConfigDiff;
  private quantization: QuantizationConfig | undefined;
  private params: {
    shardNumber: number;
    replicationFactor: number;
    writeConsistencyFactor: number;
    onDiskPayload: boolean;
  };
  private operationId = 0n;
  private optimizingUntil = 0;
  private indexedWhileOptimizing = 0;

  constructor(request: CreateCollection) {
    this.name = request.collectionName;
    this.vectors = vectorSpecs(request.vectorsConfig);
    this.vectorsConfig = request.vectorsConfig
      ? clone(VectorsConfigSchema, request.vectorsConfig)
      : create(VectorsConfigSchema);
    this.hnsw = create(HnswConfigDiffSchema, { ...defaultHnsw });
    this.optimizers = create(OptimizersConfigDiffSchema, { ...defaultOptimizers });
    for (const [field, value, min] of [
      ['shard_number', request.shardNumber, 1],
      ['replication_factor', request.replicationFactor, 1],
      ['write_consistency_factor', request.writeConsistencyFactor, 1],
    ] as const) {
      if (value !== undefined && value < min) {
        throw qdrantErrors.validation(field, `value ${value} invalid, must be ${min} or larger`);
      }
    }
    this.params = {
      shardNumber: request.shardNumber ?? 1,
      replicationFactor: request.replicationFactor ?? 1,
      writeConsistencyFactor: request.writeConsistencyFactor ?? 1,
      onDiskPayload: request.onDiskPayload ?? true,
    };
    this.applyHnsw(request.hnswConfig);
    this.applyOptimizers(request.optimizersConfig);
    if (request.quantizationConfig) {
      checkQuantization(request.quantizationConfig);
      this.quantization = clone(QuantizationConfigSchema, request.quantizationConfig);
    }
  }

  /** Apply an UpdateCollection request: diffs over the current config, like Qdrant's PATCH. */
  update(request: UpdateCollection, indexingDelayMs: number): void {
    if (request.params) {
      const p = request.params;
      if (p.replicationFactor !== undefined) this.params.replicationFactor = p.replicationFactor;
      if (p.writeConsistencyFactor !== undefined)
        this.params.writeConsistencyFactor = p.writeConsistencyFactor;
      if (p.onDiskPayload !== undefined) this.params.onDiskPayload = p.onDiskPayload;
    }
    const diff = request.vectorsConfig?.config;
    if (diff?.case === 'paramsMap') {
      for (const name of Object.keys(diff.value.map)) {
        if (!this.vectors.has(name)) throw qdrantErrors.badInput(`Not existing vector name error: ${name}`);
      }
    }
    const wasIndexing = this.indexingEnabled();
    this.applyHnsw(request.hnswConfig);
    this.applyOptimizers(request.optimizersConfig);
    const q = request.quantizationConfig?.quantization;
    if (q?.case === 'disabled') this.quantization = undefined;
    else if (q?.case !== undefined && q.value) {
      const config = create(QuantizationConfigSchema, { quantization: q } as never);
      checkQuantization(config);
      this.quantization = config;
    }
    // Turning HNSW back on (bulk upload done) makes Qdrant build the index: an optimization.
    if (!wasIndexing && this.indexingEnabled()) this.touch(indexingDelayMs, 0);
  }

  private applyHnsw(diff: HnswConfigDiff | undefined): void {
    if (!diff) return;
    checkHnsw(diff);
    for (const [key, value] of Object.entries(diff)) {
      if (!key.startsWith('$') && value !== undefined)
        (this.hnsw as unknown as Record<string, unknown>)[key] = value;
    }
  }

  private applyOptimizers(diff: OptimizersConfigDiff | undefined): void {
    if (!diff) return;
    checkOptimizers(diff);
    for (const [key, value] of Object.entries(diff)) {
      if (!key.startsWith('$') && value !== undefined) {
        (this.optimizers as unknown as Record<string, unknown>)[key] = value;
      }
    }
  }

  /** `m = 0` switches HNSW off (Qdrant's bulk-upload mode): nothing is indexed then. */
  private indexingEnabled(): boolean {
    return this.hnsw.m !== 0n;
  }

  /** Record a write: the next operation id, and an optimization window when a delay is configured. */
  touch(indexingDelayMs: number, indexedBefore = this.indexedCount()): bigint {
    if (indexingDelayMs > 0) {
      this.indexedWhileOptimizing = Math.min(indexedBefore, this.points.size);
      this.optimizingUntil = Date.now() + indexingDelayMs;
    }
    this.operationId += 1n;
    return this.operationId;
  }

  private optimizing(): boolean {
    return Date.now() < this.optimizingUntil;
  }

  indexedCount(): number {
    if (!this.indexingEnabled()) return 0;
    const perPoint = this.vectors.size;
    return this.optimizing() ? this.indexedWhileOptimizing * perPoint : this.points.size * perPoint;
  }

  info(): CollectionInfo {
    const payloadSchema: CollectionInfo['payloadSchema'] = {};
    for (const [key, index] of this.payloadIndexes) {
      let points = 0n;
      for (const point of this.points.values()) {
        if (valuesAt(point.json, key).some((v) => v !== null)) points += 1n;
      }
      payloadSchema[key] = create(PayloadSchemaInfoSchema, {
        dataType: index.type,
        params: index.params,
        points,
      });
    }
    const segments = Number(this.optimizers.defaultSegmentNumber ?? 0n) || 2;
    return create(CollectionInfoSchema, {
      status: this.optimizing() ? CollectionStatus.Yellow : CollectionStatus.Green,
      optimizerStatus: create(OptimizerStatusSchema, { ok: true, error: '' }),
      segmentsCount: BigInt(segments),
      pointsCount: BigInt(this.points.size),
      indexedVectorsCount: BigInt(this.indexedCount()),
      payloadSchema,
      config: this.config(),
    });
  }

  private config(): CollectionConfig {
    return create(CollectionConfigSchema, {
      params: create(CollectionParamsSchema, {
        ...this.params,
        vectorsConfig: clone(VectorsConfigSchema, this.vectorsConfig),
      }),
      hnswConfig: clone(HnswConfigDiffSchema, this.hnsw),
      optimizerConfig: clone(OptimizersConfigDiffSchema, this.optimizers),
      quantizationConfig: this.quantization ? clone(QuantizationConfigSchema, this.quantization) : undefined,
    });
  }
}
