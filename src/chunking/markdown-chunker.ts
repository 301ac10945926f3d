import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import { type Block, parseBlocks } from './markdown-blocks.js';
import { type Segment, sentenceSegments, splitCode, splitProse, splitTable } from './split.js';
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
}

export interface ChunkOptions {
  /** Budget per chunk in estimated tokens, overlap included (default 512). */
  chunkTokens?: number;
  /** Tokens of the previous chunk's tail repeated at the start of the next one in the same section (default 64). */
  chunkOverlap?: number;
  /** Sections smaller than this merge with the next one (default `chunkTokens / 8`). */
  minChunkTokens?: number;
  /** `plain`: no headings, fences or tables, only paragraphs (default `markdown`). */
  format?: 'markdown' | 'plain';
}

type PieceKind = 'heading' | 'prose' | 'code' | 'table' | 'overlap';

interface Piece extends Segment {
  kind: PieceKind;
  section: string;
}

interface SectionBlocks {
  section: string;
  blocks: Array<{ block: Block; tokens: number }>;
  tokens: number;
}

function checkOptions(options: ChunkOptions): Required<Omit<ChunkOptions, 'format'>> {
  const chunkTokens = options.chunkTokens ?? 512;
  const chunkOverlap = options.chunkOverlap ?? 64;
  const minChunkTokens = options.minChunkTokens ?? Math.floor(chunkTokens / 8);
  if (!Number.isInteger(chunkTokens) || chunkTokens < 16) {
    throw new UsageError(`Expected \`chunkTokens\` to be an integer of at least 16, got \`${chunkTokens}\``);
  }
  if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= chunkTokens) {
    throw new UsageError(
      `Expected \`chunkOverlap\` to be a non-negative integer below \`chunkTokens\` (${chunkTokens}), got \`${chunkOverlap}\``,
    );
  }
  if (!Number.isInteger(minChunkTokens) || minChunkTokens < 0) {
    throw new UsageError(
      `Expected \`minChunkTokens\` to be a non-negative integer, got \`${minChunkTokens}\``,
    );
  }
  return { chunkTokens, chunkOverlap, minChunkTokens };
}

/** What joining a piece costs beyond the two pieces' own estimates (a `''` join may fuse two words). */
function sepCost(sep: string): number {
  if (sep === '') return 2;
  return sep.includes('\n') ? 1 : 0;
}

function plainBlocks(text: string): Block[] {
  return text
    .split(/\n[ \t]*\n/)
    .map((paragraph) => paragraph.replace(/^\n+|\n+$/g, ''))
    .filter((paragraph) => paragraph.trim() !== '')
    .map((paragraph) => ({ kind: 'paragraph', text: paragraph }));
}

/** Groups blocks under their heading path; a heading starts a section and belongs to it. */
function sectionsOf(blocks: Block[]): SectionBlocks[] {
  const sections: SectionBlocks[] = [];
  const stack: Array<{ level: number; title: string }> = [];
  let current: SectionBlocks | undefined;
  for (const block of blocks) {
    if (block.kind === 'heading') {
      while (stack.length > 0 && stack[stack.length - 1]!.level >= block.level) stack.pop();
      stack.push({ level: block.level, title: block.title });
      const path = stack
        .map((entry) => entry.title)
        .filter((title) => title !== '')
        .join(' > ');
      current = { section: path, blocks: [], tokens: 0 };
      sections.push(current);
    } else if (!current) {
      current = { section: '', blocks: [], tokens: 0 };
      sections.push(current);
    }
    const tokens = estimateTokens(block.text);
    current.blocks.push({ block, tokens });
    current.tokens += tokens;
  }
  return sections;
}

/** Tiny sections join the next one (the last joins the one before), so no chunk is a lone heading. */
function mergeTiny(
  sections: SectionBlocks[],
  minChunkTokens: number,
): Array<Array<{ block: Block; tokens: number; section: string }>> {
  const units: Array<Array<{ block: Block; tokens: number; section: string }>> = [];
  let unit: Array<{ block: Block; tokens: number; section: string }> = [];
  let unitTokens = 0;
  for (const section of sections) {
    for (const entry of section.blocks) unit.push({ ...entry, section: section.section });
    unitTokens += section.tokens;
    if (unitTokens >= minChunkTokens) {
      units.push(unit);
      unit = [];
      unitTokens = 0;
    }
  }
  if (unit.length > 0) {
    const last = units[units.length - 1];
    if (last) last.push(...unit);
    else units.push(unit);
  }
  return units;
}

/** A unit's blocks as pieces no larger than a chunk can hold; only blocks over the budget are cut. */
function piecesOf(
  unit: Array<{ block: Block; tokens: number; section: string }>,
  chunkTokens: number,
  pieceBudget: number,
): Piece[] {
  const pieces: Piece[] = [];
  for (const { block, tokens, section } of unit) {
    const kind: PieceKind = block.kind === 'paragraph' ? 'prose' : block.kind;
    if (tokens <= chunkTokens) {
      pieces.push({ text: block.text, sep: '\n\n', tokens, kind, section });
    } else if (block.kind === 'code') {
      for (const text of splitCode(block, pieceBudget)) {
        pieces.push({ text, sep: '\n\n', tokens: estimateTokens(text), kind: 'code', section });
      }
    } else if (block.kind === 'table') {
      for (const piece of splitTable(block, pieceBudget)) pieces.push({ ...piece, section });
    } else {
      for (const segment of splitProse(block.text, pieceBudget, '\n\n'))
        pieces.push({ ...segment, kind: 'prose', section });
    }
  }
  return pieces;
}

/** The words at the end of `text` that fit in `budget` tokens, or `undefined` when the last word alone does not. */
function tailWords(text: string, budget: number): Segment | undefined {
  const parts = text.split(/(\s+)/);
  let used = 0;
  let start = parts.length;
  for (let index = parts.length - 1; index >= 0; index -= 2) {
    const tokens = estimateTokens(parts[index]!) + (parts[index + 1]?.includes('\n') ? 1 : 0);
    if (used + tokens > budget) break;
    used += tokens;
    start = index;
  }
  if (start >= parts.length) return undefined;
  const tail = parts.slice(start).join('');
  return tail.trim() === '' ? undefined : { text: tail, sep: '', tokens: estimateTokens(tail) };
}

/** The tail of a chunk's prose, up to `budget` tokens, cut at a sentence or line (between words when the last sentence is longer). */
function overlapOf(pieces: readonly Piece[], budget: number): Piece | undefined {
  if (budget <= 0) return undefined;
  const section = pieces[pieces.length - 1]!.section;
  const tail: Segment[] = [];
  let used = 0;
  let nextSep = '';
  for (let index = pieces.length - 1; index >= 0; index--) {
    const piece = pieces[index]!;
    if (piece.kind !== 'prose') break;
    const segments = sentenceSegments(piece.text);
    if (segments[0]) segments[0].sep = piece.sep;
    for (let inner = segments.length - 1; inner >= 0; inner--) {
      const segment = segments[inner]!;
      const cost = segment.tokens + (tail.length > 0 ? sepCost(nextSep) : 0);
      if (used + cost > budget) {
        if (tail.length === 0) {
          const words = tailWords(segment.text, budget);
          if (!words) return undefined;
          tail.push(words);
        }
        return joinTail(tail, section);
      }
      tail.push(segment);
      used += cost;
      nextSep = segment.sep;
    }
  }
  return tail.length > 0 ? joinTail(tail, section) : undefined;
}

function joinTail(reversed: Segment[], section: string): Piece {
  let text = reversed[reversed.length - 1]!.text;
  for (let index = reversed.length - 2; index >= 0; index--)
    text += reversed[index]!.sep + reversed[index]!.text;
  return { text, sep: '', tokens: estimateTokens(text), kind: 'overlap', section };
}

/** The section whose pieces weigh most in the chunk (the first on a tie); overlap does not count. */
function sectionOf(pieces: readonly Piece[]): string {
  const weights = new Map<string, number>();
  for (const piece of pieces) {
    if (piece.kind !== 'overlap')
      weights.set(piece.section, (weights.get(piece.section) ?? 0) + piece.tokens + 1);
  }
  let best = pieces[0]?.section ?? '';
  let bestWeight = -1;
  for (const [section, weight] of weights) {
    if (weight > bestWeight) {
      best = section;
      bestWeight = weight;
    }
  }
  return best;
}

function packUnit(
  pieces: Piece[],
  chunkTokens: number,
  chunkOverlap: number,
  emit: (pieces: Piece[]) => void,
): void {
  let current: Piece[] = [];
  let used = 0;
  const add = (piece: Piece): void => {
    if (current.length > 0 && used + sepCost(piece.sep) + piece.tokens > chunkTokens) {
      // Trailing headings move on with the text they introduce.
      const carried: Piece[] = [];
      while (
        current[current.length - 1]!.kind === 'heading' &&
        current.slice(0, -1).some((entry) => entry.kind !== 'heading' && entry.kind !== 'overlap')
      ) {
        carried.unshift(current.pop()!);
      }
      emit(current);
      const previous = current;
      current = [];
      used = 0;
      if (carried.length === 0 && piece.kind !== 'heading') {
        const overlap = overlapOf(previous, chunkOverlap);
        if (
          overlap &&
          overlap.section === piece.section &&
          overlap.tokens + sepCost(piece.sep) + piece.tokens <= chunkTokens
        ) {
          current.push(overlap);
          used = overlap.tokens;
        }
      }
      if (carried.length > 0) {
        for (const entry of carried) add(entry);
        add(piece);
        return;
      }
    }
    used += (current.length > 0 ? sepCost(piece.sep) : 0) + piece.tokens;
    current.push(piece);
  };
  for (const piece of pieces) add(piece);
  if (current.length > 0) emit(current);
}

/**
 * Cuts Markdown into chunks of at most `chunkTokens` estimated tokens, following its structure:
 * - sections by ATX heading (`#` lines inside code fences are code), each chunk labelled with its
 *   heading path; a section never shares a chunk with the next unless one of them is tiny
 *   (under `minChunkTokens`), in which case they merge and the chunk takes the path of the section
 *   that weighs most in it;
 * - a section over the budget is cut between blocks (paragraphs, lists, tables, code), a block over
 *   the budget between sentences and lines, and a sentence over it between words;
 * - a fenced code block or table is never cut unless it alone is over the budget; then it is cut
 *   between lines/rows, each piece repeating the fences (or the header rows);
 * - each chunk after the first in a section starts with up to `chunkOverlap` tokens of the previous
 *   chunk's closing prose, cut at a sentence or line (no overlap after code or a table).
 * Deterministic; linear in the text's length. CRLF is read as LF.
 */
export function chunkMarkdown(text: string, options: ChunkOptions = {}): Chunk[] {
  const { chunkTokens, chunkOverlap, minChunkTokens } = checkOptions(options);
  const normalised = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  const blocks = options.format === 'plain' ? plainBlocks(normalised) : parseBlocks(normalised);
  const pieceBudget = chunkTokens - Math.min(chunkOverlap, Math.floor(chunkTokens / 2));
  const chunks: Chunk[] = [];
  const emit = (pieces: Piece[]): void => {
    let body = pieces[0]!.text;
    for (let index = 1; index < pieces.length; index++) body += pieces[index]!.sep + pieces[index]!.text;
    chunks.push({
      chunkIndex: chunks.length,
      text: body,
      section: sectionOf(pieces),
      contentHash: createHash('sha256').update(body).digest('hex'),
      estimatedTokens: estimateTokens(body),
    });
  };
  for (const unit of mergeTiny(sectionsOf(blocks), minChunkTokens)) {
    packUnit(piecesOf(unit, chunkTokens, pieceBudget), chunkTokens, chunkOverlap, emit);
  }
  return chunks;
}

/** `chunkMarkdown` for text without Markdown structure: paragraphs only, every section `''`. */
export function chunkText(text: string, options: Omit<ChunkOptions, 'format'> = {}): Chunk[] {
  return chunkMarkdown(text, { ...options, format: 'plain' });
}
