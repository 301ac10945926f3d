export interface PrefetchOptions<T> {
  /** What an element weighs against `budget`. Default 1. */
  weight?: (element: T) => number;
  /**
   * How much may wait ready ahead of the consumer: the next element is produced while what waits
   * weighs less than this. Default 1 (one element ahead).
   */
  budget?: number;
}

/**
 * Iterates `source` ahead of the consumer: while the consumer works on an element, the next ones
 * are already being produced (a group's manifests read, its documents chunked), until what waits
 * ready weighs `budget`. So a round trip to Qdrant in the plan stage overlaps the embedding of the
 * previous group instead of stalling it, and small groups (the first ones of a run) are produced
 * back to back instead of one per consumed group. An error from the source surfaces when the
 * consumer reaches it.
 */
export async function* prefetched<T>(
  source: AsyncIterable<T>,
  options: PrefetchOptions<T> = {},
): AsyncGenerator<T> {
  const weigh = options.weight ?? (() => 1);
  const budget = options.budget ?? 1;
  const iterator = source[Symbol.asyncIterator]();
  const ready: Array<{ element: T; weight: number }> = [];
  let waiting = 0;
  let pulling = false;
  let ended = false;
  let failed = false;
  let failure: unknown;
  let stopped = false;
  let wake: (() => void) | undefined;

  const pump = (): void => {
    if (pulling || ended || failed || stopped || (ready.length > 0 && waiting >= budget)) return;
    pulling = true;
    iterator.next().then(
      (result) => {
        pulling = false;
        if (result.done) ended = true;
        else {
          const weight = weigh(result.value);
          ready.push({ element: result.value, weight });
          waiting += weight;
        }
        wake?.();
        pump();
      },
      (error: unknown) => {
        pulling = false;
        failed = true;
        failure = error;
        wake?.();
      },
    );
  };

  pump();
  try {
    for (;;) {
      const next = ready.shift();
      if (next === undefined) {
        if (failed) throw failure;
        if (ended) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      waiting -= next.weight;
      pump();
      yield next.element;
    }
  } finally {
    stopped = true;
    if (!ended && !failed) await iterator.return?.();
  }
}
