import { describe, expect, it } from 'vitest';
import { findProblems } from '../../src/gpu/gpu-status.js';
import { collectionStatus, indexingState } from '../../src/gpu/qdrant-status.js';
import { gpuIndexingFromTelemetry, restUrlFromGrpcUrl } from '../../src/gpu/qdrant-telemetry.js';
import type { QdrantSection, TeiEndpointStatus } from '../../src/gpu/report.js';
import type { CollectionSummary } from '../../src/qdrant/collections.js';

describe('restUrlFromGrpcUrl', () => {
  it.each([
    ['http://localhost:6334', 'http://localhost:6333'],
    ['https://qdrant.example.com:6334', 'https://qdrant.example.com:6333'],
    ['http://127.0.0.1:50123', undefined],
    ['https://qdrant.example.com', undefined],
    ['not a url', undefined],
  ])('%s -> %s', (grpc, rest) => {
    expect(restUrlFromGrpcUrl(grpc)).toBe(rest);
  });
});

const telemetry = (app: unknown) => ({ result: { id: 'x', app }, status: 'ok', time: 0.001 });

describe('gpuIndexingFromTelemetry', () => {
  it('is on when Qdrant lists the GPU devices it initialised', () => {
    const status = gpuIndexingFromTelemetry(
      telemetry({
        name: 'qdrant',
        version: '1.19.0',
        features: { debug: false, gpu: true, rocksdb: false },
        system: { cores: 16, gpu_devices: [{ name: 'NVIDIA GeForce RTX 4070' }] },
      }),
    );
    expect(status).toEqual({
      state: 'on',
      devices: ['NVIDIA GeForce RTX 4070'],
      gpuBuild: true,
      reason: null,
    });
  });

  it('is off in a build without GPU support', () => {
    const status = gpuIndexingFromTelemetry(telemetry({ features: { gpu: false }, system: { cores: 16 } }));
    expect(status).toMatchObject({ state: 'off', gpuBuild: false });
    expect(status.reason).toContain('gpu-nvidia');
  });

  it('is off in a GPU build without QDRANT__GPU__INDEXING', () => {
    const status = gpuIndexingFromTelemetry(telemetry({ features: { gpu: true }, system: { cores: 16 } }));
    expect(status).toMatchObject({ state: 'off', gpuBuild: true });
    expect(status.reason).toContain('QDRANT__GPU__INDEXING=1');
  });

  it('is off when GPU indexing found no device', () => {
    const status = gpuIndexingFromTelemetry(
      telemetry({ features: { gpu: true }, system: { gpu_devices: [] } }),
    );
    expect(status).toMatchObject({ state: 'off', devices: [] });
    expect(status.reason).toContain('no GPU device');
  });

  it('is unknown when the telemetry has no feature details', () => {
    expect(gpuIndexingFromTelemetry(telemetry({ name: 'qdrant', version: '1.12.0' })).state).toBe('unknown');
    expect(gpuIndexingFromTelemetry({ error: 'nope' }).state).toBe('unknown');
    expect(gpuIndexingFromTelemetry(null).state).toBe('unknown');
  });
});

function summary(overrides: Partial<CollectionSummary> & { m?: number; thresholdKb?: number } = {}) {
  const { m = 32, thresholdKb = 20_000, ...rest } = overrides;
  return {
    name: 'docs',
    status: 'green',
    optimizerOk: true,
    optimizerError: undefined,
    points: 1000,
    indexedVectors: 0,
    segments: 2,
    config: {
      vectorSize: 1024,
      distance: 'Cosine',
      onDisk: false,
      hnsw: { m, efConstruct: 256, fullScanThreshold: 10_000, onDisk: false },
      quantization: { type: 'int8', quantile: 0.99, alwaysRam: true },
      optimizers: { defaultSegmentNumber: 2, maxSegmentSizeKb: 500_000, indexingThresholdKb: thresholdKb },
      shards: 1,
      replicationFactor: 1,
      writeConsistencyFactor: 1,
    },
    payloadIndexes: {},
    ...rest,
  } as CollectionSummary;
}

describe('indexingState', () => {
  it('calls a small green collection with nothing indexed below the threshold, not a fault', () => {
    // 1,000 x 1024 x 4 bytes = 4,000 KB < 20,000 KB.
    expect(indexingState(summary())).toBe('below-threshold');
    expect(collectionStatus(summary())).toMatchObject({ indexedPercent: 0, indexing: 'below-threshold' });
  });

  it.each([
    ['partial', { points: 10_000, indexedVectors: 5000 }],
    ['complete', { points: 10_000, indexedVectors: 10_000 }],
    ['in-progress', { points: 10_000, indexedVectors: 5000, status: 'yellow' as const }],
    ['pending', { points: 10_000, indexedVectors: 5000, status: 'grey' as const }],
    ['disabled', { points: 10_000, m: 0 }],
    ['disabled', { points: 10_000, thresholdKb: 0 }],
    ['empty', { points: 0 }],
  ])('%s', (state, overrides) => {
    expect(indexingState(summary(overrides))).toBe(state);
  });

  it('gives the indexed share with one decimal', () => {
    expect(collectionStatus(summary({ points: 3, indexedVectors: 2 })).indexedPercent).toBe(66.7);
    expect(collectionStatus(summary({ points: 0 })).indexedPercent).toBeNull();
  });
});

describe('findProblems', () => {
  const upTei: TeiEndpointStatus = {
    url: 'http://tei',
    status: 'up',
    error: null,
    info: null,
    metrics: {
      available: false,
      error: null,
      queueSize: null,
      batches: null,
      meanBatchSize: null,
      meanBatchTokens: null,
    },
  };
  const qdrant = (collection: Partial<ReturnType<typeof collectionStatus>>, status: 'up' | 'down' = 'up') =>
    ({
      url: 'http://q:6334',
      status,
      error: status === 'down' ? 'Qdrant at http://q:6334: cannot connect' : null,
      version: null,
      commit: null,
      restUrl: null,
      gpuIndexing: { state: 'unknown', devices: [], gpuBuild: null, reason: 'x' },
      collection: { ...collectionStatus(summary()), ...collection },
    }) as QdrantSection;

  it('finds nothing wrong with services up and a green or yellow collection', () => {
    expect(findProblems([upTei], qdrant({}))).toEqual([]);
    expect(findProblems([upTei], qdrant({ status: 'yellow' }))).toEqual([]);
  });

  it('names a TEI endpoint that is down', () => {
    expect(
      findProblems(
        [
          upTei,
          { ...upTei, url: 'http://tei2', status: 'down', error: 'TEI at http://tei2: cannot connect' },
        ],
        qdrant({}),
      ),
    ).toEqual(['TEI at http://tei2: cannot connect']);
  });

  it('names Qdrant down once, without blaming the collection too', () => {
    expect(findProblems([upTei], qdrant({ exists: null }, 'down'))).toEqual([
      'Qdrant at http://q:6334: cannot connect',
    ]);
  });

  it('names a red collection with its optimizer error, and a missing one with the fix', () => {
    expect(findProblems([upTei], qdrant({ status: 'red', optimizerError: 'disk full' }))).toEqual([
      'collection docs is red: disk full',
    ]);
    expect(findProblems([upTei], qdrant({ exists: false }))).toEqual([
      'collection docs does not exist (create it with: taboot collection create docs)',
    ]);
  });
});
