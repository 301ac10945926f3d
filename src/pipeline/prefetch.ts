/**
 * Iterates `source` one element ahead: while the consumer works on an element, the next one is
 * already being produced (a group's manifests read, its documents chunked), so a round trip to
 * Qdrant in the plan stage overlaps the embedding of the previous group instead of stalling it.
 * An error from the source surfaces when the consumer reaches it.
 */
export async function* prefetched<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  // The consumer may stop early; the pending result must not become an unhandled rejection.
  next.catch(() => {});
  try {
    while (true) {
      const result = await next;
      if (result.done) return;
      next = iterator.next();
      next.catch(() => {});
      yield result.value;
    }
  } finally {
    await iterator.return?.();
  }
}
