/**
 * Rates and the time left during an ingest, from Qdrant's acknowledgements ([time ms, vectors],
 * in order). Pure functions of their inputs, so they are checked on synthetic marks.
 */
type Marks = ReadonlyArray<readonly [ms: number, vectors: number]>;

/** The vec/s shown while running: the last 5 s. */
export const displayWindowMs = 5_000;
/** The rate the ETA extrapolates: the last 20 s, smooth enough to ignore one slow batch. */
export const etaWindowMs = 20_000;
/** No ETA until acknowledgements have come in for this long: before that the rate is a guess. */
export const etaAfterMs = 5_000;

/**
 * Vectors per second acknowledged over the last `windowMs`. Early on the window starts at the
 * first acknowledgement and leaves it out: its vectors were read, embedded and sent while the
 * pipeline filled up, so counting them over the short time since (or counting the start-up time)
 * would misstate the rate. Undefined before the first acknowledgement.
 */
export function ackRate(marks: Marks, now: number, windowMs: number): number | undefined {
  const first = marks[0];
  if (!first) return undefined;
  const from = Math.max(now - windowMs, first[0]);
  let vectors = 0;
  for (let index = marks.length - 1; index >= 0; index -= 1) {
    const [at, count] = marks[index]!;
    if (at <= from) break;
    vectors += count;
  }
  const span = now - from;
  return span > 0 ? (vectors * 1000) / span : 0;
}

export interface EtaInput {
  bytesDone: number;
  bytesTotal: number;
  /** Chunks read so far, and those that failed (they will never be acknowledged). */
  chunks: number;
  failed: number;
  vectorsUpserted: number;
  acknowledgements: Marks;
}

/**
 * Vectors the run will end with: the chunks so far, scaled by the share of input bytes read.
 * Undefined before any input is measured.
 */
export function expectedVectors(input: EtaInput): number | undefined {
  if (input.bytesTotal === 0 || input.bytesDone === 0) return undefined;
  const readShare = Math.min(1, input.bytesDone / input.bytesTotal);
  return input.chunks / readShare;
}

/**
 * Time left: the vectors still expected over the smoothed rate of the last `etaWindowMs`.
 * Undefined until acknowledgements have come in for `etaAfterMs` (an ETA from the first batches
 * was off by a factor of five), and when nothing is left or nothing moves.
 */
export function estimateRemainingMs(input: EtaInput, now: number): number | undefined {
  const first = input.acknowledgements[0];
  if (!first || now - first[0] < etaAfterMs) return undefined;
  const expected = expectedVectors(input);
  if (expected === undefined) return undefined;
  const remaining = expected - input.vectorsUpserted - input.failed;
  const rate = ackRate(input.acknowledgements, now, etaWindowMs);
  if (remaining <= 0 || !rate) return undefined;
  return (remaining * 1000) / rate;
}
