import { create } from '@bufbuild/protobuf';
import {
  type CollectionInfo,
  CollectionParamsDiffSchema,
  type CreateCollection,
  CreateCollectionSchema,
  Distance,
  FieldType,
  HnswConfigDiffSchema,
  type OptimizersConfigDiff,
  OptimizersConfigDiffSchema,
  PayloadSchemaType,
  QuantizationConfigDiffSchema,
  QuantizationConfigSchema,
  QuantizationType,
  type UpdateCollection,
  UpdateCollectionSchema,
  VectorParamsDiffSchema,
  VectorsConfigDiffSchema,
} from '@qdrant/js-client-grpc';
import type { CollectionConfig, Distance as DistanceName, PayloadIndexType } from '../config/schema.js';

/**
 * A collection's settings as taboot manages them: what `collection create` asks for and what
 * it reads back from Qdrant to compare. Sizes are in kilobytes, as Qdrant's gRPC API takes them.
 */
export interface CollectionSpec {
  vectorSize: number;
  distance: DistanceName;
  onDisk: boolean;
  hnsw: { m: number; efConstruct: number; fullScanThreshold: number; onDisk: boolean };
  quantization: { type: 'int8' | 'none'; quantile: number; alwaysRam: boolean };
  optimizers: { defaultSegmentNumber: number; maxSegmentSizeKb: number; indexingThresholdKb: number };
  shards: number;
  replicationFactor: number;
  writeConsistencyFactor: number;
  payloadIndexes: Record<string, { type: PayloadIndexType; isTenant: boolean }>;
}

export interface SpecDifference {
  /** Dotted setting name, e.g. `hnsw.m`. */
  path: string;
  current: string;
  desired: string;
  /** Qdrant can change it on the live collection (UpdateCollection or a new payload index). */
  updatable: boolean;
}

export function specFromConfig(collection: CollectionConfig): CollectionSpec {
  const payloadIndexes: CollectionSpec['payloadIndexes'] = {};
  for (const [field, setting] of Object.entries(collection.payloadIndexes)) {
    payloadIndexes[field] =
      typeof setting === 'string'
        ? { type: setting, isTenant: false }
        : { type: setting.type, isTenant: setting.isTenant ?? false };
  }
  return {
    vectorSize: collection.vectorSize,
    distance: collection.distance,
    onDisk: collection.onDisk,
    hnsw: { ...collection.hnsw },
    quantization: { ...collection.quantization },
    optimizers: { ...collection.optimizers },
    shards: collection.shards,
    replicationFactor: collection.replicationFactor,
    writeConsistencyFactor: collection.writeConsistencyFactor,
    payloadIndexes,
  };
}

const distanceToProto: Record<DistanceName, Distance> = {
  Cosine: Distance.Cosine,
  Dot: Distance.Dot,
  Euclid: Distance.Euclid,
  Manhattan: Distance.Manhattan,
};

export const fieldTypeToProto: Record<PayloadIndexType, FieldType> = {
  keyword: FieldType.FieldTypeKeyword,
  integer: FieldType.FieldTypeInteger,
  float: FieldType.FieldTypeFloat,
  geo: FieldType.FieldTypeGeo,
  text: FieldType.FieldTypeText,
  bool: FieldType.FieldTypeBool,
  datetime: FieldType.FieldTypeDatetime,
  uuid: FieldType.FieldTypeUuid,
};

/** Qdrant's payload schema types by the names the config uses. */
export const schemaTypeToName: Partial<Record<PayloadSchemaType, PayloadIndexType>> = {
  [PayloadSchemaType.Keyword]: 'keyword',
  [PayloadSchemaType.Integer]: 'integer',
  [PayloadSchemaType.Float]: 'float',
  [PayloadSchemaType.Geo]: 'geo',
  [PayloadSchemaType.Text]: 'text',
  [PayloadSchemaType.Bool]: 'bool',
  [PayloadSchemaType.Datetime]: 'datetime',
  [PayloadSchemaType.Uuid]: 'uuid',
};

function optimizersMessage(spec: CollectionSpec): OptimizersConfigDiff {
  return create(OptimizersConfigDiffSchema, {
    defaultSegmentNumber: BigInt(spec.optimizers.defaultSegmentNumber),
    maxSegmentSize: BigInt(spec.optimizers.maxSegmentSizeKb),
    indexingThreshold: BigInt(spec.optimizers.indexingThresholdKb),
  });
}

function hnswMessage(spec: CollectionSpec) {
  return create(HnswConfigDiffSchema, {
    m: BigInt(spec.hnsw.m),
    efConstruct: BigInt(spec.hnsw.efConstruct),
    fullScanThreshold: BigInt(spec.hnsw.fullScanThreshold),
    onDisk: spec.hnsw.onDisk,
  });
}

function scalarQuantization(spec: CollectionSpec) {
  return {
    case: 'scalar' as const,
    value: {
      type: QuantizationType.Int8,
      quantile: spec.quantization.quantile,
      alwaysRam: spec.quantization.alwaysRam,
    },
  };
}

/** The `Collections/Create` request for `spec`. Payload indexes are created separately. */
export function buildCreateCollection(name: string, spec: CollectionSpec): CreateCollection {
  return create(CreateCollectionSchema, {
    collectionName: name,
    vectorsConfig: {
      config: {
        case: 'params',
        value: {
          size: BigInt(spec.vectorSize),
          distance: distanceToProto[spec.distance],
          onDisk: spec.onDisk,
        },
      },
    },
    hnswConfig: hnswMessage(spec),
    optimizersConfig: optimizersMessage(spec),
    ...(spec.quantization.type === 'int8'
      ? { quantizationConfig: create(QuantizationConfigSchema, { quantization: scalarQuantization(spec) }) }
      : {}),
    shardNumber: spec.shards,
    replicationFactor: spec.replicationFactor,
    writeConsistencyFactor: spec.writeConsistencyFactor,
  });
}

/** Read back what Qdrant reports for a collection, in the same shape as `specFromConfig`. */
export function specFromCollectionInfo(info: CollectionInfo): CollectionSpec {
  const config = info.config;
  const params = config?.params;
  const vectorParams =
    params?.vectorsConfig?.config.case === 'params' ? params.vectorsConfig.config.value : undefined;
  const hnsw = config?.hnswConfig;
  const optimizers = config?.optimizerConfig;
  const quantization = vectorParams?.quantizationConfig ?? config?.quantizationConfig;
  const scalar = quantization?.quantization.case === 'scalar' ? quantization.quantization.value : undefined;

  const payloadIndexes: CollectionSpec['payloadIndexes'] = {};
  for (const [field, schema] of Object.entries(info.payloadSchema)) {
    const type = schemaTypeToName[schema.dataType];
    if (!type) continue;
    const indexParams = schema.params?.indexParams;
    const isTenant =
      (indexParams?.case === 'keywordIndexParams' || indexParams?.case === 'uuidIndexParams') &&
      indexParams.value.isTenant === true;
    payloadIndexes[field] = { type, isTenant };
  }

  const distanceName = (Object.keys(distanceToProto) as DistanceName[]).find(
    (name) => distanceToProto[name] === vectorParams?.distance,
  );
  return {
    vectorSize: Number(vectorParams?.size ?? 0n),
    distance: distanceName ?? 'Cosine',
    onDisk: vectorParams?.onDisk ?? false,
    hnsw: {
      m: Number(vectorParams?.hnswConfig?.m ?? hnsw?.m ?? 0n),
      efConstruct: Number(vectorParams?.hnswConfig?.efConstruct ?? hnsw?.efConstruct ?? 0n),
      fullScanThreshold: Number(hnsw?.fullScanThreshold ?? 0n),
      onDisk: hnsw?.onDisk ?? false,
    },
    quantization: scalar
      ? {
          type: 'int8',
          quantile: shortestFloat32(scalar.quantile ?? 0.99),
          alwaysRam: scalar.alwaysRam ?? false,
        }
      : { type: 'none', quantile: 0.99, alwaysRam: true },
    optimizers: {
      defaultSegmentNumber: Number(optimizers?.defaultSegmentNumber ?? 0n),
      maxSegmentSizeKb: Number(optimizers?.maxSegmentSize ?? 0n),
      indexingThresholdKb: Number(optimizers?.indexingThreshold ?? 0n),
    },
    shards: params?.shardNumber ?? 1,
    replicationFactor: params?.replicationFactor ?? 1,
    writeConsistencyFactor: params?.writeConsistencyFactor ?? 1,
    payloadIndexes,
  };
}

/**
 * The shortest decimal that is the same float32: `quantile` travels as a protobuf `float`, so
 * 0.99 comes back as 0.9900000095367432 and would otherwise never compare equal to the config.
 */
export function shortestFloat32(value: number): number {
  const single = Math.fround(value);
  for (let digits = 1; digits <= 9; digits += 1) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return single;
}

/** Settings that only a new collection can change. */
const fixedSettings = new Set(['vectorSize', 'distance', 'shards']);

/**
 * Every setting in which `current` differs from `desired`. Quantization parameters are compared
 * only when both sides quantize; payload indexes present in Qdrant but not in the config are left
 * alone (someone added them on purpose).
 */
export function diffSpecs(current: CollectionSpec, desired: CollectionSpec): SpecDifference[] {
  const differences: SpecDifference[] = [];
  const compare = (path: string, a: unknown, b: unknown, updatable: boolean): void => {
    if (a !== b) differences.push({ path, current: String(a), desired: String(b), updatable });
  };
  for (const key of [
    'vectorSize',
    'distance',
    'onDisk',
    'shards',
    'replicationFactor',
    'writeConsistencyFactor',
  ] as const) {
    compare(key, current[key], desired[key], !fixedSettings.has(key));
  }
  for (const key of ['m', 'efConstruct', 'fullScanThreshold', 'onDisk'] as const) {
    compare(`hnsw.${key}`, current.hnsw[key], desired.hnsw[key], true);
  }
  compare('quantization.type', current.quantization.type, desired.quantization.type, true);
  if (current.quantization.type === 'int8' && desired.quantization.type === 'int8') {
    compare(
      'quantization.quantile',
      shortestFloat32(current.quantization.quantile),
      shortestFloat32(desired.quantization.quantile),
      true,
    );
    compare('quantization.alwaysRam', current.quantization.alwaysRam, desired.quantization.alwaysRam, true);
  }
  for (const key of ['defaultSegmentNumber', 'maxSegmentSizeKb', 'indexingThresholdKb'] as const) {
    compare(`optimizers.${key}`, current.optimizers[key], desired.optimizers[key], true);
  }
  for (const [field, wanted] of Object.entries(desired.payloadIndexes)) {
    const existing = current.payloadIndexes[field];
    const describe = (index: { type: string; isTenant: boolean } | undefined) =>
      index ? `${index.type}${index.isTenant ? ' (tenant)' : ''}` : 'none';
    if (describe(existing) !== describe(wanted)) {
      // A missing index can be added; changing an index's type means dropping it first.
      differences.push({
        path: `payloadIndexes.${field}`,
        current: describe(existing),
        desired: describe(wanted),
        updatable: existing === undefined,
      });
    }
  }
  return differences;
}

/**
 * The `Collections/Update` request applying the updatable differences, or undefined when only
 * payload indexes (or nothing Qdrant can change in place) differ.
 */
export function buildUpdateCollection(
  name: string,
  differences: readonly SpecDifference[],
  desired: CollectionSpec,
): UpdateCollection | undefined {
  const changed = (prefix: string) => differences.some((d) => d.updatable && d.path.startsWith(prefix));
  const update = create(UpdateCollectionSchema, { collectionName: name });
  let any = false;
  if (changed('hnsw.')) {
    update.hnswConfig = hnswMessage(desired);
    any = true;
  }
  if (changed('optimizers.')) {
    update.optimizersConfig = optimizersMessage(desired);
    any = true;
  }
  if (changed('quantization.')) {
    update.quantizationConfig = create(QuantizationConfigDiffSchema, {
      quantization:
        desired.quantization.type === 'int8' ? scalarQuantization(desired) : { case: 'disabled', value: {} },
    });
    any = true;
  }
  if (changed('onDisk')) {
    update.vectorsConfig = create(VectorsConfigDiffSchema, {
      config: { case: 'params', value: create(VectorParamsDiffSchema, { onDisk: desired.onDisk }) },
    });
    any = true;
  }
  if (changed('replicationFactor') || changed('writeConsistencyFactor')) {
    update.params = create(CollectionParamsDiffSchema, {
      replicationFactor: desired.replicationFactor,
      writeConsistencyFactor: desired.writeConsistencyFactor,
    });
    any = true;
  }
  return any ? update : undefined;
}

/** Payload indexes the config asks for that the collection lacks. */
export function missingPayloadIndexes(
  differences: readonly SpecDifference[],
  desired: CollectionSpec,
): Array<{ field: string; type: PayloadIndexType; isTenant: boolean }> {
  return differences
    .filter((d) => d.path.startsWith('payloadIndexes.') && d.updatable)
    .map((d) => d.path.slice('payloadIndexes.'.length))
    .flatMap((field) => {
      const index = desired.payloadIndexes[field];
      return index ? [{ field, ...index }] : [];
    });
}
