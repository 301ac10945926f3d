import { QdrantClient } from '@qdrant/js-client-grpc';
import { GrpcUpsertTransport } from '../../src/qdrant/grpc-upsert-transport.js';
import { makePoints, toStockPoints } from './fixtures.js';

export interface UpsertBenchOptions {
  /** A Qdrant gRPC endpoint or a discard sink (test/support/grpc-sink.ts). */
  url: string;
  count?: number;
  batch?: number;
  parallel?: number;
  dim?: number;
  collectionName?: string;
}

export interface UpsertBenchResult {
  count: number;
  batch: number;
  parallel: number;
  dim: number;
  /** Vectors/s through js-client-grpc's `points.upsert`, converting each batch to protobuf-es messages. */
  stock: number;
  /** Vectors/s through `GrpcUpsertTransport.upsertPoints` (the hand encoder into recycled buffers). */
  fast: number;
  ratio: number;
}

/** Run `batches` calls of `send`, `parallel` at a time; returns the wall time in seconds. */
async function drive(
  batches: number,
  parallel: number,
  send: (batch: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < batches) await send(next++);
    }),
  );
  return (performance.now() - start) / 1000;
}

/**
 * Upload `count` vectors in batches with `parallel` calls in flight, once with the stock client and
 * once with the fast path, both starting from Float32Arrays and payload objects. A pool of 8 distinct
 * batches is cycled so that data generation stays out of the measurement.
 */
export async function benchUpsert(options: UpsertBenchOptions): Promise<UpsertBenchResult> {
  const count = options.count ?? 200_000;
  const batch = options.batch ?? 500;
  const parallel = options.parallel ?? 4;
  const dim = options.dim ?? 1024;
  const collectionName = options.collectionName ?? 'bench';
  const pool = Array.from({ length: 8 }, (_, i) => makePoints(batch, dim, i + 1, i * batch));
  const batches = Math.ceil(count / batch);

  const client = new QdrantClient({
    url: options.url,
    https: options.url.startsWith('https://'),
    checkCompatibility: false,
    compression: false,
  });
  const points = client.api('points');
  const stockSend = (i: number) =>
    points.upsert({ collectionName, wait: false, points: toStockPoints(pool[i % pool.length]!) });
  const transport = new GrpcUpsertTransport({ url: options.url, timeoutMs: 60_000 });
  const fastSend = (i: number) =>
    transport.upsertPoints({ collectionName, wait: false, points: pool[i % pool.length]! });
  try {
    await drive(parallel * 2, parallel, stockSend);
    const stockSeconds = await drive(batches, parallel, stockSend);
    await drive(parallel * 2, parallel, fastSend);
    const fastSeconds = await drive(batches, parallel, fastSend);
    const vectors = batches * batch;
    const stock = vectors / stockSeconds;
    const fast = vectors / fastSeconds;
    return { count: vectors, batch, parallel, dim, stock, fast, ratio: fast / stock };
  } finally {
    await transport.close();
  }
}
