import { describe, expect, it } from 'vitest';
import {
  type IndexingSample,
  type IndexingTarget,
  indexingVerdict,
  waitForIndexing,
} from '../../src/qdrant/indexing-wait.js';

const target: IndexingTarget = {
  expectedPoints: 10_000,
  vectorBytes: 1024 * 4,
  indexingThresholdKb: 20_000,
  hnswEnabled: true,
};

function sample(overrides: Partial<IndexingSample> = {}): IndexingSample {
  return {
    status: 'green',
    optimizerOk: true,
    optimizerError: undefined,
    points: 10_000,
    indexedVectors: 10_000,
    segments: 2,
    ...overrides,
  };
}

describe('indexingVerdict', () => {
  it('is indexed when green and every point is in the index', () => {
    expect(indexingVerdict(sample(), target)).toBe('indexed');
  });

  it('waits while yellow, while the optimizer is not ok, and while points are still arriving', () => {
    expect(indexingVerdict(sample({ status: 'yellow' }), target)).toBe('waiting');
    expect(indexingVerdict(sample({ optimizerOk: false }), target)).toBe('waiting');
    expect(indexingVerdict(sample({ points: 9_500, indexedVectors: 9_500 }), target)).toBe('waiting');
  });

  it('accepts an unindexed remainder that fits in segments below the indexing threshold', () => {
    // 10,000 × 4 KiB = 40,000 KiB: two segments of 20,000 KiB stay plain on a real Qdrant.
    expect(indexingVerdict(sample({ indexedVectors: 0 }), target)).toBe('unindexed-ok');
    // One segment cannot hold 40,000 KiB below the threshold: its optimizer has not run yet.
    expect(indexingVerdict(sample({ indexedVectors: 0, segments: 1 }), target)).toBe('waiting');
    expect(indexingVerdict(sample({ indexedVectors: 6_000, segments: 1 }), target)).toBe('unindexed-ok');
  });

  it('expects no index at all when HNSW is off (m = 0)', () => {
    const off = { ...target, hnswEnabled: false };
    expect(indexingVerdict(sample({ indexedVectors: 0, segments: 1 }), off)).toBe('unindexed-ok');
    expect(indexingVerdict(sample({ indexedVectors: 0, status: 'yellow' }), off)).toBe('waiting');
  });
});

/** A fake clock that only moves when the poller sleeps. */
function fakeClock() {
  let time = 0;
  return {
    now: () => time,
    sleep: async (ms: number) => {
      time += ms;
    },
    advance: (ms: number) => {
      time += ms;
    },
  };
}

describe('waitForIndexing', () => {
  it('polls until indexed and reports the time until that answer', async () => {
    const clock = fakeClock();
    const answers = [sample({ status: 'yellow', indexedVectors: 0 }), sample({ status: 'yellow' }), sample()];
    let polls = 0;
    const outcome = await waitForIndexing(
      async () => {
        clock.advance(5);
        return answers[Math.min(polls++, answers.length - 1)]!;
      },
      target,
      { timeoutMs: 60_000, now: clock.now, sleep: clock.sleep },
    );
    expect(polls).toBe(3);
    expect(outcome.verdict).toBe('indexed');
    // 5 ms per answer plus the pauses of 100 and 200 ms between polls.
    expect(outcome.seconds).toBeCloseTo(0.315, 6);
  });

  it('needs two equal answers before accepting a collection below the threshold', async () => {
    const clock = fakeClock();
    const answers = [
      sample({ indexedVectors: 0, points: 10_000 }),
      sample({ indexedVectors: 0, points: 10_000, segments: 3 }),
      sample({ indexedVectors: 0, points: 10_000, segments: 3 }),
    ];
    let polls = 0;
    const outcome = await waitForIndexing(async () => answers[Math.min(polls++, 2)]!, target, {
      timeoutMs: 60_000,
      now: clock.now,
      sleep: clock.sleep,
    });
    expect(polls).toBe(3);
    expect(outcome.verdict).toBe('unindexed-ok');
    // Timed at the first of the two equal answers (after the 100 ms pause).
    expect(outcome.seconds).toBeCloseTo(0.1, 6);
  });

  it('fails after the timeout with the last counts and a hint', async () => {
    const clock = fakeClock();
    const promise = waitForIndexing(async () => sample({ status: 'yellow', indexedVectors: 1_234 }), target, {
      timeoutMs: 2_000,
      now: clock.now,
      sleep: clock.sleep,
    });
    await expect(promise).rejects.toThrow(
      /not indexed after 2 s: status yellow, 1234 of 10000 vectors indexed/,
    );
    await expect(promise).rejects.toHaveProperty('hint', 'Give it longer with --index-timeout <seconds>.');
  });

  it('fails at once when the optimizer reports an error', async () => {
    const clock = fakeClock();
    let polls = 0;
    const promise = waitForIndexing(
      async () => {
        polls += 1;
        return sample({ status: 'red', optimizerOk: false, optimizerError: 'disk full' });
      },
      target,
      { timeoutMs: 60_000, now: clock.now, sleep: clock.sleep },
    );
    await expect(promise).rejects.toThrow(/optimization failed \(status red\): disk full/);
    expect(polls).toBe(1);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const clock = fakeClock();
    const promise = waitForIndexing(
      async () => {
        controller.abort(new Error('interrupted by SIGINT'));
        return sample({ status: 'yellow' });
      },
      target,
      { timeoutMs: 60_000, now: clock.now, sleep: clock.sleep, signal: controller.signal },
    );
    await expect(promise).rejects.toThrow('interrupted by SIGINT');
  });
});
