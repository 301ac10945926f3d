import { Distance, type PointStruct } from '@qdrant/js-client-grpc';
import type { StoredCollection } from './collection.js';
import { qdrantErrors } from './errors.js';

type Vector = Extract<NonNullable<PointStruct['vectors']>['vectorsOptions'], { case: 'vector' }>['value'];

/** A dense vector's numbers, from `dense` or from the deprecated packed `data` field (fast encoders use it). */
export function denseData(vector: Vector, name: string): number[] {
  if (vector.vector.case === 'dense') return vector.vector.value.data;
  if (vector.vector.case === undefined) return vector.data;
  throw qdrantErrors.unsupported(`Vector \`${name}\` of kind ${vector.vector.case}`);
}

function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] ?? 0) / norm;
  return vector;
}

/** Check a point or query vector against the collection's spec; Float32Array, normalised for Cosine as Qdrant stores it. */
export function toStoredVector(
  collection: StoredCollection,
  name: string,
  data: ArrayLike<number>,
): Float32Array {
  const spec = collection.vectors.get(name);
  if (!spec) throw qdrantErrors.badInput(`Not existing vector name error: ${name}`);
  if (data.length !== spec.size) throw qdrantErrors.dimension(spec.size, data.length);
  const vector = Float32Array.from(data);
  return spec.distance === Distance.Cosine ? normalise(vector) : vector;
}
