import { describe, expect, it } from 'vitest';
import { queryRecall, recallAtK } from '../../src/bench/recall.js';

describe('recallAtK', () => {
  it('averages the share of each exact top k that the approximate top k found', () => {
    const exact = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const approx = [
      [1, 2, 3],
      [4, 9, 8],
    ];
    // (3/3 + 1/3) / 2
    expect(recallAtK(approx, exact, 3)).toBeCloseTo(2 / 3, 12);
  });

  it('counts only the first k of longer lists', () => {
    expect(recallAtK([[1, 9, 2]], [[1, 2, 3]], 2)).toBe(0.5);
    // The exact top 1 is [1]; the approximate top 1 found it.
    expect(recallAtK([[1, 7, 8]], [[1, 2, 3]], 1)).toBe(1);
  });

  it('divides by the exact list when it holds fewer than k ids', () => {
    expect(recallAtK([['a', 'x', 'y']], [['a', 'b']], 10)).toBe(0.5);
  });

  it('scores a query with no exact results as 1', () => {
    expect(recallAtK([[], [1]], [[], [2]], 5)).toBe(0.5);
  });

  it('counts an id repeated in the approximate list once', () => {
    expect(queryRecall([1, 1, 1], [1, 2, 3], 3)).toBeCloseTo(1 / 3, 12);
  });

  it('matches numbers with bigints, and UUIDs in any case and hyphenation', () => {
    expect(queryRecall([7, 2 ** 60], [7n, 2n ** 60n], 2)).toBe(1);
    const uuid = '6f1c8a3e-2b4d-5e6f-8a9b-0c1d2e3f4a5b';
    expect(queryRecall([uuid.toUpperCase()], [uuid.replace(/-/g, '')], 1)).toBe(1);
    expect(queryRecall(['7'], [7], 1)).toBe(0);
  });

  it('rejects mismatched query counts, zero queries and a bad k', () => {
    expect(() => recallAtK([[1]], [[1], [2]], 1)).toThrow(/1 and 2/);
    expect(() => recallAtK([], [], 1)).toThrow(RangeError);
    expect(() => recallAtK([[1]], [[1]], 0)).toThrow(/positive integer/);
    expect(() => queryRecall([1], [1], 1.5)).toThrow(RangeError);
  });
});
