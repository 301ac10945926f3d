import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import { type Block, markdownBlocks, readingFormat } from './markdown-blocks.js';
import { Packer } from './packer.js';
import type { Draft, Piece, Section } from './pieces.js';
import { estimateTokens } from './tokens.js';

export interface Chunk {
  /** 0-based position in the document. */
  chunkIndex: number;
  text: string;
  /** Heading path, `Configuration > Scrape configs`; `''` before the first heading and for plain text. */
  section: string;
  /** sha256 hex of `text`. */
  contentHash: string;
  /** `estimateTokens(text)`; at most `chunkTokens` except for the rare cut of a row or word (see `chunkMarkdown`). */
  estimatedTokens: number;
  /** Characters at the start of `text` repeated from the previous chunk (the overlap and its join); 0 for none. */
  overlapChars: number;
}

/** `markdown` reads MDX when the text uses it (see `looksLikeMdx`); `plain` has paragraphs only. */
export type ChunkFormat = 'markdown' | 'mdx' | 'plain';

export interface ChunkOptions {
  /** Budget per chunk in estimated tokens, overlap included (default 512). */
  chunkTokens?: number;
  /** Tokens of the previous chunk's tail repeated at the start of the next one in the same section (default 64). */
  chunkOverlap?: number;
  /** Chunks smaller than this join a neighbour (default 64, at most `chunkTokens / 2`); see `Packer`. */
  minChunkTokens?: number;
  /** Default `markdown`. */
  format?: ChunkFormat;
}

/** The options with their defaults, checked: one message shape, the option named. */
export function resolveChunkOptions(options: ChunkOptions = {}): Required<ChunkOptions> {
  const chunkTokens = options.chunkTokens ?? 512;
  const chunkOverlap = options.chunkOverlap ?? 64;
  if (!Number.isInteger(chunkTokens) || chunkTokens < 16) {
    throw new UsageError(`Expected \`chunkTokens\` to be an integer of at least 16, got \`${chunkTokens}\``);
  }
  if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= chunkTokens) {
    throw new UsageError(
      `Expected \`chunkOverlap\` to be a non-negative integer below \`chunkTokens\` (${chunkTokens}), got \`${chunkOverlap}\``,
    );
  }
  const minChunkTokens = options.minChunkTokens ?? Math.min(64, Math.floor(chunkTokens / 2));
  if (!Number.isInteger(minChunkTokens) || minChunkTokens < 0 || minChunkTokens > chunkTokens / 2) {
    throw new UsageError(
      `Expected \`minChunkTokens\` to be a non-negative integer of at most half of \`chunkTokens\` (${chunkTokens}), got \`${minChunkTokens}\``,
    );
  }
  const format = options.format ?? 'markdown';
  if (format !== 'markdown' && format !== 'mdx' && format !== 'plain') {
    throw new UsageError(
      `Expected \`format\` to be \`markdown\`, \`mdx\` or \`plain\`, got \`${String(format)}\``,
    );
  }
  return { chunkTokens, chunkOverlap, minChunkTokens, format };
}

function* plainBlocks(text: string): Generator<Block> {
  const separator = /\n[ \t]*\n/g;
  let start = 0;
  for (;;) {
    const match = separator.exec(text);
    const end = match ? match.index : text.length;
    const paragraph = text.slice(start, end).replace(/^\n+|\n+$/g, '');
    if (paragraph.trim() !== '') yield { kind: 'prose', text: paragraph };
    if (!match) return;
    start = match.index + match[0].length;
    separator.lastIndex = start;
  }
}

/**
 * The chunk's section: the one that holds two thirds of its text (headings weigh nothing, so a
 * parent heading carried along does not count), else the closest heading common to all of them.
 */
function sectionOf(pieces: readonly Piece[]): string {
  const weights = new Map<Section, number>();
  let total = 0;
  for (const piece of pieces) {
    if (piece.kind === 'overlap') continue;
    const weight = piece.kind === 'heading' ? 0 : piece.tokens + 1;
    weights.set(piece.section, (weights.get(piece.section) ?? 0) + weight);
    total += weight;
  }
  for (const [section, weight] of weights) if (weight * 3 >= total * 2) return section.path;
  const sections = [...weights.keys()];
  for (let candidate: Section | undefined = sections[0]; candidate; candidate = candidate.parent) {
    if (sections.every((section) => isUnder(section, candidate))) return candidate.path;
  }
  return '';
}

function isUnder(section: Section, ancestor: Section): boolean {
  for (let cursor: Section | undefined = section; cursor; cursor = cursor.parent)
    if (cursor === ancestor) return true;
  return false;
}

/** Feeds the packer piece by piece, tracking the heading path; yields after each piece. */
function* feedMarkdown(
  format: 'markdown' | 'mdx',
  text: string,
  packer: Packer,
  preamble: Section,
): Generator<void> {
  const stack: Array<{ level: number; title: string; section: Section }> = [];
  for (const block of markdownBlocks(text, format)) {
    if (block.kind === 'heading') {
      while (stack.length > 0 && stack[stack.length - 1]!.level >= block.level) stack.pop();
      const path = [...stack.map((entry) => entry.title), block.title]
        .filter((title) => title !== '')
        .join(' > ');
      const section: Section = { path, parent: stack[stack.length - 1]?.section, hasHeading: true };
      stack.push({ level: block.level, title: block.title, section });
      packer.heading(block, section);
      yield;
    } else {
      for (const piece of packer.piecesOf(block, preamble)) {
        packer.place(piece);
        yield;
      }
    }
  }
}

/**
 * Cuts Markdown into chunks of at most `chunkTokens` estimated tokens, lazily, following its
 * CommonMark structure (markdown-it; see `markdownBlocks`) and the packing rules of `Packer`:
 * - each chunk is labelled with its heading path (ATX and setext headings; `#` lines inside code,
 *   HTML comments and HTML blocks are not headings; MDX components do not hide headings);
 * - a fenced code block or table is never cut unless it alone is over the budget; then it is cut
 *   between lines/rows, each piece repeating the fences (or the header rows);
 * - prose over the budget is cut between list items, sentences and lines, and a sentence between words;
 * - MDX (`format: 'mdx'`, or Markdown that uses it) is read as the page shows it: no `import`/`export`,
 *   no component tags or expressions, their text kept (see `mdxToMarkdown`).
 * Memory: the text, plus one window of parsed blocks and the chunks being packed; chunks are
 * yielded as soon as they are final. Deterministic. CRLF is read as LF.
 */
export function iterateChunks(text: string, options: ChunkOptions = {}): Generator<Chunk> {
  return generateChunks(text, resolveChunkOptions(options));
}

function* generateChunks(text: string, options: Required<ChunkOptions>): Generator<Chunk> {
  const normalised = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  const ready: Draft[] = [];
  const packer = new Packer(options, (draft) => ready.push(draft));
  const preamble: Section = { path: '', parent: undefined, hasHeading: false };
  let chunkIndex = 0;
  const drain = function* (): Generator<Chunk> {
    for (const draft of ready) yield toChunk(draft, chunkIndex++);
    ready.length = 0;
  };
  if (options.format === 'plain') {
    for (const block of plainBlocks(normalised)) {
      for (const piece of packer.piecesOf(block, preamble)) {
        packer.place(piece);
        if (ready.length > 0) yield* drain();
      }
    }
  } else {
    const format = readingFormat(normalised, options.format);
    for (const _ of feedMarkdown(format, normalised, packer, preamble)) if (ready.length > 0) yield* drain();
  }
  packer.end();
  yield* drain();
}

function toChunk(draft: Draft, chunkIndex: number): Chunk {
  const pieces = draft.pieces;
  let body = pieces[0]!.text;
  for (let index = 1; index < pieces.length; index++) body += pieces[index]!.sep + pieces[index]!.text;
  const overlapChars =
    pieces[0]!.kind === 'overlap' && pieces.length > 1 ? pieces[0]!.text.length + pieces[1]!.sep.length : 0;
  return {
    chunkIndex,
    text: body,
    section: sectionOf(pieces),
    contentHash: createHash('sha256').update(body).digest('hex'),
    estimatedTokens: estimateTokens(body),
    overlapChars,
  };
}

/** `iterateChunks` as an array. */
export function chunkMarkdown(text: string, options: ChunkOptions = {}): Chunk[] {
  return [...iterateChunks(text, options)];
}

/** `chunkMarkdown` for text without Markdown structure: paragraphs only, every section `''`. */
export function chunkText(text: string, options: Omit<ChunkOptions, 'format'> = {}): Chunk[] {
  return chunkMarkdown(text, { ...options, format: 'plain' });
}
