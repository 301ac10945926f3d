import { setTimeout as sleep } from 'node:timers/promises';
import { TabootError } from '../errors.js';
import type { Qdrant } from './client.js';
import { type CollectionSummary, describeCollection } from './collections.js';

/** The parts of a collection's info that say whether indexing has finished. */
export type IndexingSample = Pick<
  CollectionSummary,
  'status' | 'optimizerOk' | 'optimizerError' | 'points' | 'indexedVectors' | 'segments'
>;

export interface IndexingTarget {
  /** Points the upload wrote; fewer means Qdrant has not applied them all yet (`wait=false`). */
  expectedPoints: number;
  /** Bytes of one stored vector (`dim × 4`). */
  vectorBytes: number;
  /** `collection.optimizers.indexingThresholdKb`: segments whose vectors are smaller stay unindexed. */
  indexingThresholdKb: number;
  /** False with HNSW `m = 0`, where Qdrant builds no index at all. */
  hnswEnabled: boolean;
}

/**
 * `indexed`: green, optimizers idle, every vector in an HNSW index. `unindexed-ok`: green and
 * idle, with the vectors left out of the index fitting in segments below the indexing threshold
 * (Qdrant never indexes those and reports `indexed_vectors_count` without them), or HNSW off.
 * `waiting`: anything else.
 */
export type IndexingVerdict = 'indexed' | 'unindexed-ok' | 'waiting';

/**
 * Whether a collection is done indexing. A real Qdrant leaves a segment whose vectors take less
 * than `indexing_threshold` kilobytes on a plain (brute-force) index, so `indexed_vectors_count`
 * can stay below `points_count` for good. The vectors it leaves out must then fit in
 * `segments × threshold`; more than that means an optimizer has not started yet.
 */
export function indexingVerdict(sample: IndexingSample, target: IndexingTarget): IndexingVerdict {
  if (sample.status !== 'green' || !sample.optimizerOk) return 'waiting';
  if (sample.points < target.expectedPoints) return 'waiting';
  if (sample.indexedVectors >= sample.points) return 'indexed';
  if (!target.hnswEnabled) return 'unindexed-ok';
  const unindexedBytes = (sample.points - sample.indexedVectors) * target.vectorBytes;
  const plainCapacity = target.indexingThresholdKb * 1024 * Math.max(1, sample.segments);
  return unindexedBytes <= plainCapacity ? 'unindexed-ok' : 'waiting';
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Each sample as it arrives (progress). */
  onSample?: (sample: IndexingSample) => void;
  /** What the timeout's message tells the user to do (default: the bench's `--index-timeout`). */
  timeoutHint?: string;
  /** For tests: the clock and the pause between polls. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface IndexingOutcome {
  /** From the call until the first answer with the final verdict arrived, seconds. */
  seconds: number;
  verdict: Exclude<IndexingVerdict, 'waiting'>;
  sample: IndexingSample;
}

/**
 * Polls `read` until `indexingVerdict` says done: 100 ms between the first polls, growing to
 * 500 ms. `unindexed-ok` must hold on two polls in a row with the same counts, since right after
 * a `wait=false` upload a collection can look green and idle before its optimizer starts. A red
 * status or an optimizer error fails at once; the timeout fails with the last counts.
 */
export async function waitForIndexing(
  read: () => Promise<IndexingSample>,
  target: IndexingTarget,
  options: WaitOptions,
): Promise<IndexingOutcome> {
  const now = options.now ?? (() => performance.now());
  const pause = options.sleep ?? ((ms: number) => sleep(ms, undefined, { signal: options.signal }));
  const started = now();
  let pending: { at: number; sample: IndexingSample } | undefined;
  for (let poll = 0; ; poll += 1) {
    options.signal?.throwIfAborted();
    const sample = await read();
    // The moment Qdrant's answer arrived: a slow reply to the first poll is part of the wait.
    const at = now();
    options.onSample?.(sample);
    if (sample.status === 'red' || sample.optimizerError) {
      throw new TabootError(
        `collection optimization failed (status ${sample.status}): ${sample.optimizerError ?? 'no reason given'}`,
      );
    }
    const verdict = indexingVerdict(sample, target);
    if (verdict === 'indexed') {
      return { seconds: (at - started) / 1000, verdict, sample };
    }
    if (verdict === 'unindexed-ok') {
      if (pending && sameCounts(pending.sample, sample)) {
        return { seconds: (pending.at - started) / 1000, verdict, sample };
      }
      pending = { at, sample };
    } else {
      pending = undefined;
    }
    if (now() - started >= options.timeoutMs) {
      throw new TabootError(
        `collection not indexed after ${Math.round(options.timeoutMs / 1000)} s: status ${sample.status}, ` +
          `${sample.indexedVectors} of ${sample.points} vectors indexed (${target.expectedPoints} uploaded)`,
        { hint: options.timeoutHint ?? 'Give it longer with --index-timeout <seconds>.' },
      );
    }
    await pause(Math.min(500, 100 * 2 ** Math.min(poll, 3)));
  }
}

function sameCounts(a: IndexingSample, b: IndexingSample): boolean {
  return a.points === b.points && a.indexedVectors === b.indexedVectors && a.segments === b.segments;
}

/** `waitForIndexing` on a Qdrant collection, with the target taken from its size and the config. */
export function waitForCollectionIndex(
  qdrant: Qdrant,
  name: string,
  target: IndexingTarget,
  options: WaitOptions,
): Promise<IndexingOutcome> {
  return waitForIndexing(() => describeCollection(qdrant, name), target, options);
}
