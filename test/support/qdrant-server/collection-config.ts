import { clone, create } from '@bufbuild/protobuf';
import {
  type CollectionConfig,
  CollectionConfigSchema,
  CollectionParamsSchema,
  type CreateCollection,
  type HnswConfigDiff,
  HnswConfigDiffSchema,
  type OptimizersConfigDiff,
  OptimizersConfigDiffSchema,
  type QuantizationConfig,
  QuantizationConfigSchema,
  type UpdateCollection,
  type Value,
  type VectorsConfig,
  VectorsConfigSchema,
} from '@qdrant/js-client-grpc';
import { qdrantErrors } from './errors.js';
import type { SegmentSettings } from './segments.js';
import { checkHnsw, checkOptimizers, checkQuantization, type VectorSpec, vectorSpecs } from './validation.js';

/** Qdrant 1.19's defaults for what a create request leaves out, filled in as its config reports them. */
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

/** A collection's settings: vectors, HNSW, optimizers, quantization, params and metadata. */
export class CollectionSettings {
  readonly vectors: Map<string, VectorSpec>;
  private readonly vectorsConfig: VectorsConfig;
  private readonly hnsw: HnswConfigDiff;
  private readonly optimizers: OptimizersConfigDiff;
  private quantization: QuantizationConfig | undefined;
  private readonly params: {
    shardNumber: number;
    replicationFactor: number;
    writeConsistencyFactor: number;
    onDiskPayload: boolean;
  };
  /** `CollectionConfig.metadata`: what create set, with each update merged in. */
  private readonly metadata: Record<string, Value> = {};

  constructor(request: CreateCollection) {
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
    this.mergeMetadata(request.metadata);
  }

  /** Apply an UpdateCollection request: diffs over the current config, like Qdrant's PATCH. */
  update(request: UpdateCollection): void {
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
    this.applyHnsw(request.hnswConfig);
    this.applyOptimizers(request.optimizersConfig);
    const q = request.quantizationConfig?.quantization;
    if (q?.case === 'disabled') this.quantization = undefined;
    else if (q?.case !== undefined && q.value) {
      const config = create(QuantizationConfigSchema, { quantization: q } as never);
      checkQuantization(config);
      this.quantization = config;
    }
    this.mergeMetadata(request.metadata);
  }

  /** What the segment optimizer reads: vector sizes, segment targets and thresholds. */
  segmentSettings(): SegmentSettings {
    const o = this.optimizers;
    return {
      vectorBytes: [...this.vectors.values()].map((v) => v.size * v.elementBytes),
      vectorCount: this.vectors.size,
      defaultSegmentNumber: Number(o.defaultSegmentNumber ?? 0n),
      maxSegmentSizeKb: o.maxSegmentSize === undefined ? undefined : Number(o.maxSegmentSize),
      indexingThresholdKb: o.indexingThreshold === undefined ? undefined : Number(o.indexingThreshold),
      hnswKey: `${this.hnsw.m}/${this.hnsw.efConstruct}`,
      deletedThreshold: o.deletedThreshold ?? defaultOptimizers.deletedThreshold,
      vacuumMinVectorNumber: Number(o.vacuumMinVectorNumber ?? defaultOptimizers.vacuumMinVectorNumber),
    };
  }

  toProto(): CollectionConfig {
    return create(CollectionConfigSchema, {
      params: create(CollectionParamsSchema, {
        ...this.params,
        vectorsConfig: clone(VectorsConfigSchema, this.vectorsConfig),
      }),
      hnswConfig: clone(HnswConfigDiffSchema, this.hnsw),
      optimizerConfig: clone(OptimizersConfigDiffSchema, this.optimizers),
      quantizationConfig: this.quantization ? clone(QuantizationConfigSchema, this.quantization) : undefined,
      metadata: { ...this.metadata },
    });
  }

  /** Qdrant merges metadata key by key; a null value removes its key. */
  private mergeMetadata(metadata: Record<string, Value> | undefined): void {
    for (const [key, value] of Object.entries(metadata ?? {})) {
      if (value.kind.case === 'nullValue' || value.kind.case === undefined) delete this.metadata[key];
      else this.metadata[key] = value;
    }
  }

  private applyHnsw(diff: HnswConfigDiff | undefined): void {
    if (!diff) return;
    checkHnsw(diff);
    assignDefined(this.hnsw, diff);
  }

  private applyOptimizers(diff: OptimizersConfigDiff | undefined): void {
    if (!diff) return;
    checkOptimizers(diff);
    assignDefined(this.optimizers, diff);
  }
}

function assignDefined(target: object, diff: object): void {
  for (const [key, value] of Object.entries(diff)) {
    if (!key.startsWith('$') && value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}
