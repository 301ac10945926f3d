import {
  Datatype,
  Distance,
  type HnswConfigDiff,
  type OptimizersConfigDiff,
  type QuantizationConfig,
  QuantizationType,
  type VectorParams,
  type VectorsConfig,
} from '@qdrant/js-client-grpc';
import { qdrantErrors } from './errors.js';

export interface VectorSpec {
  size: number;
  distance: Distance;
  /** Bytes per dimension as stored: 4 for float32 (the default), 2 for float16, 1 for uint8. */
  elementBytes: number;
}

const maxVectorSize = 65536;

function checkVector(field: string, params: VectorParams): VectorSpec {
  const size = Number(params.size);
  if (size < 1 || size > maxVectorSize) {
    throw qdrantErrors.validation(
      `${field}.size`,
      `value ${size} invalid, must be from 1 to ${maxVectorSize}`,
    );
  }
  if (!(params.distance in Distance) || params.distance === Distance.UnknownDistance) {
    throw qdrantErrors.badInput(`Malformed distance parameter: value ${params.distance}`);
  }
  if (params.hnswConfig) checkHnsw(params.hnswConfig, `${field}.hnsw_config`);
  if (params.quantizationConfig) checkQuantization(params.quantizationConfig, `${field}.quantization_config`);
  const elementBytes = params.datatype === Datatype.Float16 ? 2 : params.datatype === Datatype.Uint8 ? 1 : 4;
  return { size, distance: params.distance, elementBytes };
}

/** Dense vector specs by name; the unnamed default vector is `''`. */
export function vectorSpecs(config: VectorsConfig | undefined): Map<string, VectorSpec> {
  const specs = new Map<string, VectorSpec>();
  const c = config?.config;
  if (c?.case === 'params') specs.set('', checkVector('vectors_config.params', c.value));
  if (c?.case === 'paramsMap') {
    for (const [name, params] of Object.entries(c.value.map)) {
      specs.set(name, checkVector(`vectors_config.params_map.${name}`, params));
    }
  }
  return specs;
}

export function checkHnsw(diff: HnswConfigDiff, field = 'hnsw_config'): void {
  if (diff.efConstruct !== undefined && diff.efConstruct < 4n) {
    throw qdrantErrors.validation(
      `${field}.ef_construct`,
      `value ${diff.efConstruct} invalid, must be 4 or larger`,
    );
  }
  if (diff.fullScanThreshold !== undefined && diff.fullScanThreshold < 10n) {
    throw qdrantErrors.validation(
      `${field}.full_scan_threshold`,
      `value ${diff.fullScanThreshold} invalid, must be 10 or larger`,
    );
  }
}

export function checkOptimizers(diff: OptimizersConfigDiff): void {
  const field = 'optimizers_config';
  if (diff.deletedThreshold !== undefined && (diff.deletedThreshold < 0 || diff.deletedThreshold > 1)) {
    throw qdrantErrors.validation(
      `${field}.deleted_threshold`,
      `value ${diff.deletedThreshold} invalid, must be from 0 to 1`,
    );
  }
  if (diff.vacuumMinVectorNumber !== undefined && diff.vacuumMinVectorNumber < 100n) {
    throw qdrantErrors.validation(
      `${field}.vacuum_min_vector_number`,
      `value ${diff.vacuumMinVectorNumber} invalid, must be 100 or larger`,
    );
  }
  if (diff.maxSegmentSize !== undefined && diff.maxSegmentSize < 1n) {
    throw qdrantErrors.validation(
      `${field}.max_segment_size`,
      `value ${diff.maxSegmentSize} invalid, must be 1 or larger`,
    );
  }
}

export function checkQuantization(config: QuantizationConfig, field = 'quantization_config'): void {
  const q = config.quantization;
  if (q.case !== 'scalar') return;
  if (q.value.type !== QuantizationType.Int8) {
    throw qdrantErrors.badInput(`Malformed scalar quantization type: value ${q.value.type}`);
  }
  const quantile = q.value.quantile;
  if (quantile !== undefined && (quantile < 0.5 || quantile > 1)) {
    throw qdrantErrors.validation(
      `${field}.scalar.quantile`,
      `value ${quantile} invalid, must be from 0.5 to 1`,
    );
  }
}
