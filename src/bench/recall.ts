/** A point id as a search returns it: a uint64 (number or bigint) or a UUID string. */
export type PointIdLike = string | number | bigint;

/**
 * Mean recall@k over queries: for each query, the share of the exact top `k` that the
 * approximate top `k` found, `|approx_k ∩ exact_k| / min(k, |exact_k|)`, then the mean over
 * queries. Only the first `k` ids of each list count, so lists may be longer than `k`; an id
 * repeated in the approximate list counts once. A query whose exact list is empty scores 1
 * (there was nothing to miss).
 *
 * Ids compare by value: `7`, `7n` are the same id, and UUIDs compare case-insensitively with or
 * without hyphens (Qdrant accepts every form and answers with one). Other strings compare
 * exactly, and the string `'7'` is not the number `7`.
 *
 * Throws a RangeError when the two lists of queries differ in length, when there are none, or
 * when `k` is not a positive integer.
 */
export function recallAtK(
  approx: readonly (readonly PointIdLike[])[],
  exact: readonly (readonly PointIdLike[])[],
  k: number,
): number {
  if (approx.length !== exact.length) {
    throw new RangeError(
      `Expected as many approximate as exact results, got ${approx.length} and ${exact.length}`,
    );
  }
  if (exact.length === 0) throw new RangeError('Cannot compute recall over zero queries');
  let sum = 0;
  for (let index = 0; index < exact.length; index += 1) {
    sum += queryRecall(approx[index]!, exact[index]!, k);
  }
  return sum / exact.length;
}

/** Recall@k of one query; see `recallAtK`. */
export function queryRecall(
  approx: readonly PointIdLike[],
  exact: readonly PointIdLike[],
  k: number,
): number {
  if (!Number.isInteger(k) || k < 1)
    throw new RangeError(`Expected \`k\` to be a positive integer, got \`${k}\``);
  const expected = new Set<string>();
  for (const id of exact.slice(0, k)) expected.add(idKey(id));
  if (expected.size === 0) return 1;
  let found = 0;
  for (const id of new Set(approx.slice(0, k).map(idKey))) if (expected.has(id)) found += 1;
  return found / expected.size;
}

const UUID =
  /^(?:urn:uuid:)?\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;

/** A canonical string for an id, so that every spelling of one id lands on the same key. */
function idKey(id: PointIdLike): string {
  if (typeof id === 'string') {
    const match = UUID.exec(id);
    return match ? `u:${match.slice(1).join('-').toLowerCase()}` : `s:${id}`;
  }
  if (typeof id === 'bigint') return `n:${id.toString()}`;
  // An integer-valued double compares by its exact value, so 2 ** 60 meets 2n ** 60n.
  return Number.isInteger(id) ? `n:${BigInt(id).toString()}` : `f:${id}`;
}
