import { formatBytes } from '../format.js';
import {
  type CollectionStatus,
  GPU_ITERATION_LIMIT_BYTES,
  type GpuSection,
  type ReindexEstimate,
} from './report.js';

/**
 * What re-indexing `collection` on the GPU needs, against Qdrant's per-iteration limit and the free
 * memory of the freest GPU. Vectors: points x dims x 4 bytes as float32, x 1 as int8 codes (Qdrant
 * uploads the int8 codes when the collection has scalar quantization). Links: level-0 HNSW, points
 * x 2m x 4 bytes. Qdrant's docs hold both the original and the quantized vectors of a segment to
 * 16 GiB per iteration, so the float32 size sets the number of iterations; one iteration holds its
 * share of the uploaded vectors plus the links.
 *
 * Qdrant indexes segment by segment, so this is the worst case: the whole collection in one segment.
 * `fallbackM` is used when the collection's own m is 0 (HNSW switched off for a bulk upload).
 */
export function estimateReindex(
  collection: CollectionStatus,
  gpu: GpuSection,
  fallbackM: number,
): ReindexEstimate {
  const base: ReindexEstimate = {
    verdict: 'unknown',
    message: '',
    vectors: collection.points,
    dimensions: collection.vectorSize,
    float32Bytes: null,
    int8Bytes: null,
    uploads: null,
    graphBytes: null,
    neededBytes: null,
    iterationLimitBytes: GPU_ITERATION_LIMIT_BYTES,
    iterations: null,
    gpuIndex: null,
    gpuFreeBytes: null,
    teiHeldBytes: null,
  };
  const { points, vectorSize } = collection;
  if (points === null || vectorSize === null) {
    return { ...base, message: `re-index estimate unknown: ${collection.error ?? 'collection not read'}` };
  }
  if (points === 0) {
    return { ...base, verdict: 'empty', message: 'nothing to re-index: the collection is empty' };
  }

  const float32Bytes = points * vectorSize * 4;
  const int8Bytes = points * vectorSize;
  const uploads = collection.quantization === 'int8' ? 'int8' : 'float32';
  const vectorBytes = uploads === 'int8' ? int8Bytes : float32Bytes;
  const m = collection.hnswM && collection.hnswM > 0 ? collection.hnswM : fallbackM;
  const graphBytes = points * 2 * m * 4;
  const iterations = Math.ceil(float32Bytes / GPU_ITERATION_LIMIT_BYTES);
  const neededBytes = Math.ceil(vectorBytes / iterations) + graphBytes;
  const sized = { ...base, float32Bytes, int8Bytes, uploads, graphBytes, neededBytes, iterations } as const;
  const what =
    uploads === 'int8'
      ? `int8 vectors + HNSW links; ${formatBytes(float32Bytes)} as float32`
      : 'float32 vectors + HNSW links';
  const perSegment = collection.segments ? float32Bytes / collection.segments : float32Bytes;
  const segmentNote =
    perSegment > GPU_ITERATION_LIMIT_BYTES
      ? `; segments average ${formatBytes(perSegment)}, too big for one iteration: lower optimizers.max_segment_size`
      : '';
  const over =
    iterations > 1
      ? `re-index needs ${iterations} GPU iterations (${formatBytes(float32Bytes)} of float32 vectors, over the ${formatBytes(GPU_ITERATION_LIMIT_BYTES)} per-iteration limit)${segmentNote}`
      : undefined;

  const freest = freestGpu(gpu);
  if (!freest) {
    const why = gpu.available ? 'GPU free memory unknown' : `no GPU information (${gpu.reason})`;
    return {
      ...sized,
      verdict: over ? 'iterations' : 'unknown',
      message: over ? `${over}; ${why}` : `re-index needs ~${formatBytes(neededBytes)} (${what}); ${why}`,
    };
  }
  const teiHeldBytes = gpu.processes
    .filter((process) => process.role === 'tei' && process.gpuIndex === freest.index)
    .reduce((sum, process) => sum + (process.usedMemoryBytes ?? 0), 0);
  const located = {
    ...sized,
    gpuIndex: freest.index,
    gpuFreeBytes: freest.free,
    teiHeldBytes: teiHeldBytes > 0 ? teiHeldBytes : null,
  };
  if (neededBytes > freest.free) {
    const tei = teiHeldBytes > 0 ? ` while TEI holds ${formatBytes(teiHeldBytes)}` : '';
    return {
      ...located,
      verdict: 'insufficient-memory',
      message: `not enough free GPU memory: re-index needs ~${formatBytes(neededBytes)} (${what}), GPU ${freest.index} has ${formatBytes(freest.free)} free${tei}`,
    };
  }
  if (over) return { ...located, verdict: 'iterations', message: over };
  return {
    ...located,
    verdict: 'fits',
    message: `re-index fits: needs ~${formatBytes(neededBytes)} of ${formatBytes(freest.free)} free on GPU ${freest.index} (${what})`,
  };
}

function freestGpu(gpu: GpuSection): { index: number; free: number } | undefined {
  let best: { index: number; free: number } | undefined;
  for (const device of gpu.gpus) {
    if (device.memoryFreeBytes === null) continue;
    if (!best || device.memoryFreeBytes > best.free)
      best = { index: device.index, free: device.memoryFreeBytes };
  }
  return best;
}
