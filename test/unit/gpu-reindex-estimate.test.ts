import { describe, expect, it } from 'vitest';
import { estimateReindex } from '../../src/gpu/reindex-estimate.js';
import type { CollectionStatus, GpuSection } from '../../src/gpu/report.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function collection(overrides: Partial<CollectionStatus> = {}): CollectionStatus {
  return {
    name: 'docs',
    exists: true,
    error: null,
    status: 'green',
    optimizerOk: true,
    optimizerError: null,
    points: 1_000_000,
    indexedVectors: 1_000_000,
    indexedPercent: 100,
    segments: 2,
    vectorSize: 1024,
    quantization: 'int8',
    hnswM: 32,
    indexingThresholdKb: 20_000,
    indexing: 'complete',
    ...overrides,
  };
}

function gpus(freeBytes: number[], teiBytes = 0): GpuSection {
  return {
    available: true,
    reason: null,
    driverVersion: '550.54.14',
    gpus: freeBytes.map((free, index) => ({
      index,
      uuid: `GPU-${index}`,
      name: 'RTX',
      driverVersion: '550.54.14',
      memoryUsedBytes: 12 * GiB - free,
      memoryTotalBytes: 12 * GiB,
      memoryFreeBytes: free,
      utilizationPercent: 0,
      temperatureC: 40,
      powerDrawW: 20,
      powerLimitW: 200,
    })),
    processes:
      teiBytes > 0
        ? [
            {
              pid: 1,
              name: 'text-embeddings-router',
              gpuUuid: 'GPU-0',
              gpuIndex: 0,
              usedMemoryBytes: teiBytes,
              role: 'tei',
            },
          ]
        : [],
    processesError: null,
  };
}

const noGpu: GpuSection = {
  available: false,
  reason: 'nvidia-smi not found on PATH',
  driverVersion: null,
  gpus: [],
  processes: [],
  processesError: null,
};

describe('estimateReindex', () => {
  it('counts int8 codes and level-0 links against the freest GPU', () => {
    const estimate = estimateReindex(collection(), gpus([2 * GiB, 11 * GiB]), 32);
    // 1,000,000 x 1024 = 976.6 MiB of int8 codes, x 4 as float32; links 1,000,000 x 64 x 4 = 244.1 MiB.
    expect(estimate).toMatchObject({
      verdict: 'fits',
      vectors: 1_000_000,
      dimensions: 1024,
      float32Bytes: 4_096_000_000,
      int8Bytes: 1_024_000_000,
      uploads: 'int8',
      graphBytes: 256_000_000,
      neededBytes: 1_280_000_000,
      iterations: 1,
      gpuIndex: 1,
      gpuFreeBytes: 11 * GiB,
      teiHeldBytes: null,
    });
    expect(estimate.message).toBe(
      're-index fits: needs ~1.2 GiB of 11.0 GiB free on GPU 1 (int8 vectors + HNSW links; 3.8 GiB as float32)',
    );
  });

  it('counts float32 without quantization', () => {
    const estimate = estimateReindex(collection({ quantization: 'none' }), gpus([11 * GiB]), 32);
    expect(estimate).toMatchObject({ uploads: 'float32', neededBytes: 4_096_000_000 + 256_000_000 });
  });

  it('says when the GPU lacks the memory while TEI holds some of it', () => {
    const estimate = estimateReindex(collection(), gpus([400 * MiB], 10 * GiB), 32);
    expect(estimate).toMatchObject({ verdict: 'insufficient-memory', teiHeldBytes: 10 * GiB, gpuIndex: 0 });
    expect(estimate.message).toBe(
      'not enough free GPU memory: re-index needs ~1.2 GiB (int8 vectors + HNSW links; 3.8 GiB as float32), GPU 0 has 400.0 MiB free while TEI holds 10.0 GiB',
    );
  });

  it('needs several iterations when the float32 vectors pass the 16 GiB per-iteration limit', () => {
    const points = 10_000_000;
    const estimate = estimateReindex(collection({ points, segments: 4 }), gpus([80 * GiB]), 32);
    // 10M x 1024 x 4 = 38.1 GiB of float32: 3 iterations, even though the int8 codes are 9.5 GiB.
    expect(estimate).toMatchObject({
      verdict: 'iterations',
      iterations: 3,
      neededBytes: Math.ceil((points * 1024) / 3) + points * 64 * 4,
    });
    expect(estimate.message).toBe(
      're-index needs 3 GPU iterations (38.1 GiB of float32 vectors, over the 16.0 GiB per-iteration limit)',
    );
  });

  it('says when segments themselves are too big for one iteration', () => {
    const estimate = estimateReindex(collection({ points: 10_000_000, segments: 2 }), gpus([80 * GiB]), 32);
    expect(estimate.message).toBe(
      're-index needs 3 GPU iterations (38.1 GiB of float32 vectors, over the 16.0 GiB per-iteration limit); segments average 19.1 GiB, too big for one iteration: lower optimizers.max_segment_size',
    );
  });

  it('uses the configured m while the collection has HNSW off for a bulk upload', () => {
    expect(estimateReindex(collection({ hnswM: 0 }), gpus([11 * GiB]), 16).graphBytes).toBe(
      1_000_000 * 32 * 4,
    );
  });

  it('still sizes the job without GPU information, and says why the fit is unknown', () => {
    const estimate = estimateReindex(collection(), noGpu, 32);
    expect(estimate).toMatchObject({ verdict: 'unknown', neededBytes: 1_280_000_000, gpuFreeBytes: null });
    expect(estimate.message).toBe(
      're-index needs ~1.2 GiB (int8 vectors + HNSW links; 3.8 GiB as float32); no GPU information (nvidia-smi not found on PATH)',
    );
  });

  it('has nothing to estimate for an empty or unreadable collection', () => {
    expect(estimateReindex(collection({ points: 0 }), gpus([GiB]), 32)).toMatchObject({
      verdict: 'empty',
      message: 'nothing to re-index: the collection is empty',
    });
    const unread = estimateReindex(
      collection({ exists: null, points: null, vectorSize: null, error: 'Qdrant is down' }),
      gpus([GiB]),
      32,
    );
    expect(unread).toMatchObject({
      verdict: 'unknown',
      message: 're-index estimate unknown: Qdrant is down',
    });
  });
});
