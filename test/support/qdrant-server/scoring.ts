import { Distance, type QueryPoints } from '@qdrant/js-client-grpc';
import type { StoredCollection, StoredPoint } from './collection.js';
import { qdrantErrors } from './errors.js';
import { matchesFilter } from './filter.js';
import { compareKeys, pointKey } from './values.js';
import { toStoredVector } from './vectors.js';

export interface Ranked {
  point: StoredPoint;
  score: number;
  /** The point's version for a nearest query; 0 when there is no query, as Qdrant 1.19 answers. */
  version: bigint;
}

/** Distances whose score is a distance: smaller is closer, results ascend. */
const ascending = new Set([Distance.Euclid, Distance.Manhattan]);

function score(distance: Distance, a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (distance === Distance.Euclid) sum += (x - y) * (x - y);
    else if (distance === Distance.Manhattan) sum += Math.abs(x - y);
    else sum += x * y;
  }
  return distance === Distance.Euclid ? Math.sqrt(sum) : sum;
}

/**
 * The Query API over exact (brute-force) scoring: nearest by a dense vector or by a stored
 * point's vector, then filter, score threshold, offset and limit. Without a query, points come
 * in id order with score 1 and version 0, as Qdrant 1.19 returns them. `params` (hnsw_ef, exact, quantization) are
 * accepted and make no difference: every search here is exact.
 */
export function rankPoints(
  collection: StoredCollection,
  request: QueryPoints,
  byId: StoredPoint[],
): Ranked[] {
  if (request.prefetch.length > 0) throw qdrantErrors.unsupported('Query with prefetch');
  if (request.lookupFrom) throw qdrantErrors.unsupported('Query with lookup_from');
  const limit = Number(request.limit ?? 10n);
  const offset = Number(request.offset ?? 0n);
  const candidates = byId.filter((p) => matchesFilter(p, request.filter));
  const variant = request.query?.variant;
  if (variant === undefined || variant.case === undefined) {
    return candidates.slice(offset, offset + limit).map((point) => ({ point, score: 1, version: 0n }));
  }
  if (variant.case !== 'nearest') throw qdrantErrors.unsupported(`Query \`${variant.case}\``);
  const using = request.using ?? '';
  const spec = collection.vectors.get(using);
  if (!spec) throw qdrantErrors.badInput(`Not existing vector name error: ${using}`);
  const input = variant.value.variant;
  let query: Float32Array;
  let exclude: string | undefined;
  if (input.case === 'dense') {
    query = toStoredVector(collection, using, input.value.data);
  } else if (input.case === 'id') {
    exclude = pointKey(input.value);
    const stored = collection.points.get(exclude)?.vectors.get(using);
    if (!stored) throw qdrantErrors.badInput(`No point with id ${exclude.slice(2)} found`);
    query = stored;
  } else {
    throw qdrantErrors.unsupported(`Nearest query by ${input.case ?? 'nothing'}`);
  }
  const asc = ascending.has(spec.distance);
  const threshold = request.scoreThreshold;
  const ranked: Ranked[] = [];
  for (const point of candidates) {
    // Searching by a point's id leaves that point out, as Qdrant does.
    if (point.key === exclude) continue;
    const vector = point.vectors.get(using);
    if (!vector) continue;
    const s = score(spec.distance, query, vector);
    if (threshold !== undefined && (asc ? s > threshold : s < threshold)) continue;
    ranked.push({ point, score: s, version: point.version });
  }
  ranked.sort(
    (a, b) => (asc ? a.score - b.score : b.score - a.score) || compareKeys(a.point.key, b.point.key),
  );
  return ranked.slice(offset, offset + limit);
}
