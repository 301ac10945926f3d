import { type CollectionInfo, CollectionStatus } from '@qdrant/js-client-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { id, point, type QdrantTarget, qdrantTarget, until } from '../support/qdrant-server/client.js';
import { skipOnReal } from '../support/real-servers.js';

/**
 * When Qdrant 1.19 indexes: per segment, once its vectors take `indexing_threshold` KB (default
 * 10,000; 0 disables indexing). These run against the test server, or a real Qdrant with
 * TABOOT_TEST_QDRANT_URL, where the optimizer works in the background: each test waits for the
 * state it expects, then checks the counts.
 */
let q: QdrantTarget;
beforeAll(async () => {
  q = await qdrantTarget();
});
afterAll(async () => {
  await q.close();
});

/** 8-dimensional float32 vectors: 32 bytes each, so 320 of them make 10 KB. */
const points = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) =>
    point(
      from + i,
      Array.from({ length: 8 }, (_, j) => Math.sin(from + i + j) + 1.5),
    ),
  );

const settled = (expectedIndexed: number) => (info: CollectionInfo) =>
  info.status === CollectionStatus.Green && Number(info.indexedVectorsCount) === expectedIndexed;

/** Two segments whatever the machine's CPU count, so that segment counts compare. */
const twoSegments = (optimizers: Record<string, bigint>, hnsw?: Record<string, bigint>) => ({
  optimizersConfig: { defaultSegmentNumber: 2n, ...optimizers },
  ...(hnsw ? { hnswConfig: hnsw } : {}),
});

describe('indexing threshold', () => {
  it('keeps a small collection green with nothing indexed: below the default threshold', async () => {
    const name = q.name('small');
    await q.create(name, 8, twoSegments({}));
    await q.points.upsert({ collectionName: name, wait: true, points: points(1, 50) });
    const info = await until(() => q.info(name), settled(0));
    expect(info).toMatchObject({ pointsCount: 50n, indexedVectorsCount: 0n, segmentsCount: 2n });
    expect(info.config?.optimizerConfig?.indexingThreshold).toBe(10000n);
    expect(info.optimizerStatus).toMatchObject({ ok: true });
  });

  it('indexes segments once their vectors pass the threshold, merged into one beside a new empty segment', async () => {
    const name = q.name('indexed');
    await q.create(name, 8, twoSegments({ indexingThreshold: 10n }));
    await q.points.upsert({ collectionName: name, wait: true, points: points(1, 1000) });
    const info = await until(() => q.info(name), settled(1000));
    expect(info).toMatchObject({ pointsCount: 1000n, segmentsCount: 2n });
  });

  it('indexes only the segments past the threshold: new points fill the smallest segment 32 at a time', async () => {
    const name = q.name('partial');
    await q.create(name, 8, twoSegments({ indexingThreshold: 1n }));
    // 50 points: 32 (1,024 bytes, at the 1 KB threshold) in one segment, 18 in the other.
    await q.points.upsert({ collectionName: name, wait: true, points: points(1, 50) });
    expect(await until(() => q.info(name), settled(32))).toMatchObject({
      pointsCount: 50n,
      segmentsCount: 2n,
    });
  });

  it('indexes nothing with indexing_threshold 0, and builds the index once the threshold is restored', async () => {
    const name = q.name('deferred');
    await q.create(name, 8, twoSegments({ indexingThreshold: 0n }));
    await q.points.upsert({ collectionName: name, wait: true, points: points(1, 1000) });
    expect(await until(() => q.info(name), settled(0))).toMatchObject({
      pointsCount: 1000n,
      segmentsCount: 2n,
    });
    await q.collections.update({ collectionName: name, optimizersConfig: { indexingThreshold: 10n } });
    expect(await until(() => q.info(name), settled(1000))).toMatchObject({ pointsCount: 1000n });
  });

  it('builds segments with hnsw m=0 and counts their vectors as indexed, then rebuilds them when m is restored', async () => {
    const name = q.name('m0');
    await q.create(name, 8, twoSegments({ indexingThreshold: 10n }, { m: 0n }));
    await q.points.upsert({ collectionName: name, wait: true, points: points(1, 1000) });
    await until(() => q.info(name), settled(1000));
    await q.collections.update({ collectionName: name, hnswConfig: { m: 16n } });
    const info = await until(() => q.info(name), settled(1000));
    expect(info.config?.hnswConfig?.m).toBe(16n);
  });

  it('lowers indexed_vectors_count on delete but not when an update moves a point out of an indexed segment', async () => {
    const name = q.name('moves');
    await q.create(name, 8, twoSegments({ indexingThreshold: 10n }));
    await q.points.upsert({ collectionName: name, wait: true, points: points(0, 1000) });
    await until(() => q.info(name), settled(1000));
    await q.points.delete({
      collectionName: name,
      wait: true,
      points: {
        pointsSelectorOneOf: { case: 'points', value: { ids: Array.from({ length: 300 }, (_, i) => id(i)) } },
      },
    });
    expect(await until(() => q.info(name), settled(700))).toMatchObject({ pointsCount: 700n });
    // 200 updated points move into the plain segment, still counted in the indexed one.
    await q.points.upsert({ collectionName: name, wait: true, points: points(300, 200) });
    expect(await until(() => q.info(name), settled(700))).toMatchObject({ pointsCount: 700n });
    // 600 new points push the plain segment past the threshold: it is merged with the indexed one.
    await q.points.upsert({ collectionName: name, wait: true, points: points(2000, 600) });
    expect(await until(() => q.info(name), settled(1300))).toMatchObject({
      pointsCount: 1300n,
      segmentsCount: 2n,
    });
  });
});

describe('optimizations in progress (test server: indexingDelayMs)', () => {
  it('reports yellow with indexed_vectors_count lagging while segments are being indexed, green once done', async (context) => {
    skipOnReal(
      context,
      'qdrant',
      'holding an optimization in progress needs the test server’s indexing delay',
    );
    const server = q.server!;
    const name = q.name('yellow');
    await q.create(name, 8, twoSegments({ indexingThreshold: 10n }));
    server.setIndexingDelay(60_000);
    try {
      await q.points.upsert({ collectionName: name, wait: true, points: points(1, 1000) });
      expect(await q.info(name)).toMatchObject({
        status: CollectionStatus.Yellow,
        pointsCount: 1000n,
        indexedVectorsCount: 0n,
        optimizerStatus: expect.objectContaining({ ok: true }),
      });
    } finally {
      server.setIndexingDelay(0);
    }
    expect(await q.info(name)).toMatchObject({ status: CollectionStatus.Green, indexedVectorsCount: 1000n });
  });

  it('goes yellow when restoring indexing after a bulk load (threshold 0, then 10 KB), then green with all indexed', async (context) => {
    skipOnReal(
      context,
      'qdrant',
      'holding an optimization in progress needs the test server’s indexing delay',
    );
    const server = q.server!;
    const name = q.name('restore');
    await q.create(name, 8, twoSegments({ indexingThreshold: 0n }));
    await q.points.upsert({ collectionName: name, wait: true, points: points(1, 1000) });
    server.setIndexingDelay(60_000);
    try {
      expect(await q.info(name)).toMatchObject({ status: CollectionStatus.Green, indexedVectorsCount: 0n });
      await q.collections.update({ collectionName: name, optimizersConfig: { indexingThreshold: 10n } });
      expect(await q.info(name)).toMatchObject({ status: CollectionStatus.Yellow, indexedVectorsCount: 0n });
    } finally {
      server.setIndexingDelay(0);
    }
    expect(await q.info(name)).toMatchObject({ status: CollectionStatus.Green, indexedVectorsCount: 1000n });
  });
});
