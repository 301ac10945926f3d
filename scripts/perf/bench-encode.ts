import { create, toBinary } from '@bufbuild/protobuf';
import { UpsertPointsSchema } from '@qdrant/js-client-grpc';
import { encodeUpsertPoints } from '../../src/qdrant/point-encoder.js';
import { makePoints, toStockPoints } from './fixtures.js';
import { measure } from './measure.js';

export interface EncodeBenchResult {
  points: number;
  dim: number;
  /** Bytes of one encoded batch. */
  bytes: number;
  /** Vectors/s from Float32Arrays and payload objects to bytes, building protobuf-es messages. */
  stock: number;
  /** Vectors/s through `encodeUpsertPoints`. */
  fast: number;
  ratio: number;
}

/** Encode one `UpsertPoints` batch both ways, starting from the same Float32Arrays and payloads. */
export async function benchEncode(
  options: { points?: number; dim?: number; minMs?: number } = {},
): Promise<EncodeBenchResult> {
  const count = options.points ?? 500;
  const dim = options.dim ?? 1024;
  const points = makePoints(count, dim);
  const stockRun = () =>
    toBinary(
      UpsertPointsSchema,
      create(UpsertPointsSchema, { collectionName: 'bench', wait: false, points: toStockPoints(points) }),
    );
  const fastRun = () => encodeUpsertPoints({ collectionName: 'bench', wait: false, points });
  const bytes = fastRun().byteLength;
  if (stockRun().byteLength !== bytes) throw new Error('stock and fast encodings differ in size');
  const stock = await measure(stockRun, count, { minMs: options.minMs });
  const fast = await measure(fastRun, count, { minMs: options.minMs });
  return {
    points: count,
    dim,
    bytes,
    stock: stock.perSecond,
    fast: fast.perSecond,
    ratio: fast.perSecond / stock.perSecond,
  };
}
