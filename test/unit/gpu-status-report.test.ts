import { describe, expect, it } from 'vitest';
import type { GpuStatusReport } from '../../src/gpu/report.js';
import { makeChalk } from '../../src/ui/colors.js';
import { gpuStatusLines } from '../../src/ui/gpu-status-report.js';

const plain = makeChalk(0);

function report(overrides: Partial<GpuStatusReport> = {}): GpuStatusReport {
  return {
    checkedAt: '2025-01-01T00:00:00.000Z',
    healthy: true,
    problems: [],
    gpu: {
      available: true,
      reason: null,
      driverVersion: '550.54.14',
      gpus: [
        {
          index: 0,
          uuid: 'GPU-0',
          name: 'NVIDIA GeForce RTX 4070',
          driverVersion: '550.54.14',
          memoryUsedBytes: null,
          memoryTotalBytes: null,
          memoryFreeBytes: null,
          utilizationPercent: null,
          temperatureC: null,
          powerDrawW: null,
          powerLimitW: null,
        },
      ],
      processes: [],
      processesError: 'nvidia-smi exited with code 2: Field "used_memory" is not a valid field to query.',
    },
    embedder: { kind: 'tei', note: null },
    tei: [],
    qdrant: {
      url: 'http://localhost:6334',
      status: 'up',
      error: null,
      version: '1.19.0',
      commit: null,
      restUrl: 'http://localhost:6333',
      gpuIndexing: {
        state: 'off',
        devices: [],
        gpuBuild: true,
        reason: 'GPU build, but GPU indexing is off (set QDRANT__GPU__INDEXING=1)',
      },
      collection: {
        name: 'docs',
        exists: true,
        error: null,
        status: 'green',
        optimizerOk: true,
        optimizerError: null,
        points: 1000,
        indexedVectors: 0,
        indexedPercent: 0,
        segments: 2,
        vectorSize: 1024,
        quantization: 'int8',
        hnswM: 32,
        indexingThresholdKb: 20_000,
        indexing: 'below-threshold',
      },
    },
    reindex: {
      verdict: 'fits',
      message: 're-index fits: needs ~1.2 MiB of 6.0 GiB free on GPU 0 (int8 vectors + HNSW links)',
      vectors: 1000,
      dimensions: 1024,
      float32Bytes: 4_096_000,
      int8Bytes: 1_024_000,
      uploads: 'int8',
      graphBytes: 256_000,
      neededBytes: 1_280_000,
      iterationLimitBytes: 16 * 1024 ** 3,
      iterations: 1,
      gpuIndex: 0,
      gpuFreeBytes: 6 * 1024 ** 3,
      teiHeldBytes: null,
    },
    ...overrides,
  };
}

describe('gpuStatusLines', () => {
  const text = gpuStatusLines(report(), plain).join('\n');

  it('calls a green collection with nothing indexed below the threshold rather than alarming', () => {
    expect(text).toContain(
      'points 1,000, indexed 0 (0.0%) below indexing threshold (20,000 KB): searched exactly, nothing to index yet, segments 2',
    );
  });

  it('says why GPU indexing is off', () => {
    expect(text).toContain(
      'GPU indexing off: GPU build, but GPU indexing is off (set QDRANT__GPU__INDEXING=1)',
    );
  });

  it('shows unknown GPU readings as n/a and why the process list is missing', () => {
    expect(text).toContain('memory n/a   util n/a   n/a   power n/a');
    expect(text).toContain('processes unavailable: nvidia-smi exited with code 2');
    expect(text).not.toContain('no process holds GPU memory');
  });

  it('ends with the re-index verdict', () => {
    expect(text.split('\n').at(-1)).toBe(
      're-index fits: needs ~1.2 MiB of 6.0 GiB free on GPU 0 (int8 vectors + HNSW links)',
    );
  });
});
