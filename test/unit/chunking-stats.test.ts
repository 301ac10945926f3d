import { describe, expect, it } from 'vitest';
import { ChunkStats, chunkRecord, isHeadingOnly } from '../../src/chunking/chunk-stats.js';

/** numpy.percentile's default (linear) on a sorted copy: the reference for the histogram. */
function linear(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (p / 100) * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

const chunk = (estimatedTokens: number, text = 'Some text.') => ({ estimatedTokens, text });

describe('ChunkStats', () => {
  it('reports min, median, p95 and max exactly, interpolating like numpy', () => {
    const stats = new ChunkStats({ chunkTokens: 512, minChunkTokens: 64 });
    const sizes = [10, 500, 37, 37, 480, 212, 99, 64, 300, 511, 2];
    for (const size of sizes) stats.add(chunk(size));
    const report = stats.report();
    expect(report.count).toBe(sizes.length);
    expect(report.min).toBe(2);
    expect(report.max).toBe(511);
    expect(report.median).toBe(linear(sizes, 50));
    expect(report.p95).toBeCloseTo(linear(sizes, 95), 10);
    expect(report.p95).not.toBe(Math.round(report.p95));
  });

  it('matches numpy on many chunks while keeping one counter per distinct size', () => {
    const stats = new ChunkStats({ chunkTokens: 512, minChunkTokens: 64 });
    const sizes: number[] = [];
    for (let index = 0; index < 20_000; index++) {
      const size = (index * 7919) % 600;
      sizes.push(size);
      stats.add(chunk(size));
    }
    const report = stats.report();
    expect(report.median).toBeCloseTo(linear(sizes, 50), 10);
    expect(report.p95).toBeCloseTo(linear(sizes, 95), 10);
    expect(report.tiny).toBe(sizes.filter((size) => size < 64).length);
    expect(report.overBudget).toBe(sizes.filter((size) => size > 512).length);
  });

  it('counts heading-only, tiny and over-budget chunks', () => {
    const stats = new ChunkStats({ chunkTokens: 100, minChunkTokens: 20 });
    stats.add(chunk(6, '### Other changes\n\n#### New'));
    stats.add(chunk(8, 'Release\n=======\n\nNotes\n-----'));
    stats.add(chunk(50, '## Heading\n\nWith text under it.'));
    stats.add(chunk(101, 'x'));
    stats.add(chunk(5, '# not a heading in plain text'), 'plain');
    expect(stats.report()).toMatchObject({ count: 5, headingOnly: 2, tiny: 3, overBudget: 1 });
  });

  it('reports zeros when no chunk was added', () => {
    expect(new ChunkStats({ chunkTokens: 512, minChunkTokens: 64 }).report()).toEqual({
      count: 0,
      min: 0,
      median: 0,
      p95: 0,
      max: 0,
      headingOnly: 0,
      tiny: 0,
      overBudget: 0,
    });
  });
});

describe('isHeadingOnly', () => {
  it.each([
    ['# A', true],
    ['## A\n\n### B', true],
    ['A\n===', true],
    ['## A\n\nText.', false],
    ['```\n# code\n```', false],
    ['Text.', false],
    ['', false],
  ])('%j -> %s', (text, expected) => {
    expect(isHeadingOnly(text)).toBe(expected);
  });
});

describe('chunkRecord', () => {
  it('builds the --chunks-out record from the point id, the document id and the chunk', () => {
    const record = chunkRecord('5b0c2b1e-0000-5000-8000-000000000000', 'docs/a.md', {
      chunkIndex: 3,
      section: 'Guide > Install',
      estimatedTokens: 120,
      text: '## Install\n\nRun it.',
    });
    expect(record).toEqual({
      id: '5b0c2b1e-0000-5000-8000-000000000000',
      doc_id: 'docs/a.md',
      chunk_index: 3,
      section: 'Guide > Install',
      tokens: 120,
      text: '## Install\n\nRun it.',
    });
    expect(Object.keys(record)).toEqual(['id', 'doc_id', 'chunk_index', 'section', 'tokens', 'text']);
  });
});
