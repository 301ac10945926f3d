import { markdownBlocks } from './markdown-blocks.js';
import type { Chunk, ChunkFormat } from './markdown-chunker.js';

/** Size distribution of a run's chunks, in estimated tokens (all 0 when `count` is 0). */
export interface ChunkDistribution {
  count: number;
  min: number;
  /** Percentiles interpolate linearly between the two nearest sizes, as numpy's default does. */
  median: number;
  p95: number;
  max: number;
  /** Chunks whose text is nothing but headings. */
  headingOnly: number;
  /** Chunks under `minChunkTokens`. */
  tiny: number;
  /** Chunks over `chunkTokens`. */
  overBudget: number;
}

/** One line of `--chunks-out`: what will be embedded, and where it will land. */
export interface ChunkRecord {
  id: string;
  doc_id: string;
  chunk_index: number;
  section: string;
  tokens: number;
  text: string;
}

const headingStart = /^ {0,3}#{1,6}(?:[ \t]|$)/;
const setextUnderline = /^ {0,3}(?:=+|-+)[ \t]*$/;

/** True when a chunk's text is only headings (ATX or setext); plain text has no headings. */
export function isHeadingOnly(text: string, format: ChunkFormat = 'markdown'): boolean {
  if (format === 'plain') return false;
  const [first = '', second = ''] = text.trimStart().split('\n', 2);
  // Cheap test first: a heading-only text starts with a heading line.
  if (!headingStart.test(first) && !setextUnderline.test(second)) return false;
  let blocks = 0;
  for (const block of markdownBlocks(text, 'markdown')) {
    if (block.kind !== 'heading') return false;
    blocks++;
  }
  return blocks > 0;
}

/**
 * Collects chunk sizes for the dry-run summary. Sizes go into a histogram over integer token
 * counts, so percentiles are exact while memory grows with the number of distinct sizes (a few
 * thousand at most), not with the number of chunks.
 */
export class ChunkStats {
  private readonly histogram = new Map<number, number>();
  private count = 0;
  private headingOnly = 0;
  private tiny = 0;
  private overBudget = 0;

  constructor(private readonly options: { chunkTokens: number; minChunkTokens: number }) {}

  add(chunk: Pick<Chunk, 'text' | 'estimatedTokens'>, format: ChunkFormat = 'markdown'): void {
    const tokens = chunk.estimatedTokens;
    this.histogram.set(tokens, (this.histogram.get(tokens) ?? 0) + 1);
    this.count++;
    if (tokens < this.options.minChunkTokens) this.tiny++;
    if (tokens > this.options.chunkTokens) this.overBudget++;
    if (isHeadingOnly(chunk.text, format)) this.headingOnly++;
  }

  report(): ChunkDistribution {
    const sizes = [...this.histogram.keys()].sort((a, b) => a - b);
    const counts = sizes.map((size) => this.histogram.get(size)!);
    /** The `rank`-th smallest size (0-based). */
    const nth = (rank: number): number => {
      let seen = 0;
      for (let index = 0; index < sizes.length; index++) {
        seen += counts[index]!;
        if (rank < seen) return sizes[index]!;
      }
      return sizes[sizes.length - 1] ?? 0;
    };
    const percentile = (p: number): number => {
      if (this.count === 0) return 0;
      const position = (p / 100) * (this.count - 1);
      const low = Math.floor(position);
      const lowValue = nth(low);
      return lowValue + (nth(Math.ceil(position)) - lowValue) * (position - low);
    };
    return {
      count: this.count,
      min: sizes[0] ?? 0,
      median: percentile(50),
      p95: percentile(95),
      max: sizes[sizes.length - 1] ?? 0,
      headingOnly: this.headingOnly,
      tiny: this.tiny,
      overBudget: this.overBudget,
    };
  }
}

/** The `--chunks-out` record of one chunk; `id` is the chunk's point id. */
export function chunkRecord(
  id: string,
  docId: string,
  chunk: Pick<Chunk, 'chunkIndex' | 'section' | 'estimatedTokens' | 'text'>,
): ChunkRecord {
  return {
    id,
    doc_id: docId,
    chunk_index: chunk.chunkIndex,
    section: chunk.section,
    tokens: chunk.estimatedTokens,
    text: chunk.text,
  };
}
