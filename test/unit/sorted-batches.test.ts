import { describe, expect, it } from 'vitest';
import { LengthSortedBatches } from '../../src/pipeline/sorted-batches.js';

const limits = { maxInputs: 3, maxTokens: 1000, maxBytes: 1 << 20 };

/** rows x longest, summed over batches: what a backend without variable-length attention computes. */
function paddedTokens(batches: number[][]): number {
  return batches.reduce((sum, batch) => sum + batch.length * Math.max(...batch), 0);
}

describe('LengthSortedBatches', () => {
  it('holds items until a window is full, then cuts it into batches of similar length', () => {
    const batches = new LengthSortedBatches<number>(limits, 6);
    const out: number[][] = [];
    for (const tokens of [500, 10, 480, 12, 490, 11]) out.push(...batches.add(tokens, tokens, 1));
    // 1000 tokens a batch; the last batch of the cut may still grow: it waits for the next window.
    expect(out).toEqual([
      [10, 11, 12],
      [480, 490],
    ]);
    expect(batches.size).toBe(1);
    out.push(...batches.take());
    expect(out.at(-1)).toEqual([500]);
    expect(batches.size).toBe(0);
  });

  it('keeps every item exactly once, whatever the window', () => {
    const lengths = Array.from({ length: 50 }, (_, i) => (i * 37) % 101);
    for (const window of [1, 4, 7, 64]) {
      const batches = new LengthSortedBatches<number>(limits, window);
      const out: number[][] = [];
      lengths.forEach((tokens, index) => {
        out.push(...batches.add(index, tokens, 1));
      });
      out.push(...batches.take());
      expect(
        out
          .flat()
          .slice()
          .sort((a, b) => a - b),
      ).toEqual(lengths.map((_, index) => index));
      expect(out.every((batch) => batch.length <= limits.maxInputs)).toBe(true);
    }
  });

  it('alternates the order of windows so that long texts meet long ones across a boundary', () => {
    const batches = new LengthSortedBatches<number>(limits, 6);
    const out: number[][] = [];
    for (const tokens of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) out.push(...batches.add(tokens, tokens, 1));
    out.push(...batches.take());
    expect(out).toEqual([
      [1, 2, 3],
      [12, 11, 10],
      [9, 8, 7],
      [4, 5, 6],
    ]);
  });

  it('pads much less than arrival order on mixed lengths', () => {
    const lengths = Array.from({ length: 96 }, (_, i) => (i % 2 === 0 ? 500 : 20 + (i % 7)));
    const sorted = new LengthSortedBatches<number>(limits, 24);
    const out: number[][] = [];
    for (const tokens of lengths) out.push(...sorted.add(tokens, tokens, 1));
    out.push(...sorted.take());
    const arrival: number[][] = [];
    for (let i = 0; i < lengths.length; i += 3) arrival.push(lengths.slice(i, i + 3));
    const real = lengths.reduce((sum, tokens) => sum + tokens, 0);
    expect(paddedTokens(out) / real).toBeLessThan(1.05);
    expect(paddedTokens(arrival) / real).toBeGreaterThan(1.5);
  });

  it('refuses a window that is not a positive integer', () => {
    expect(() => new LengthSortedBatches(limits, 0)).toThrow(
      'Expected `window` to be a positive integer, got `0`',
    );
  });
});
