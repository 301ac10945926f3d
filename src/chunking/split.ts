import type { Block } from './markdown-blocks.js';
import { estimateTokens } from './tokens.js';

/** A piece of text with the whitespace that stood before it in the original (`''` inside a word). */
export interface Segment {
  text: string;
  /** What joins this segment to the one before it: `' '`, `'\n'`, `''`, or `'\n\n'` between blocks. */
  sep: string;
  tokens: number;
}

// Sentence ends: punctuation (+ closing quotes/brackets) then spaces; a line break; a CJK full stop.
const boundary = /([.!?]["')\]\u201d\u2019]*)([ \t]+)(?=\S)|(\n)|([\u3002\uff01\uff1f])/g;

/**
 * Splits prose into sentences and lines, keeping the separators, so that joining
 * `segments[i].sep + segments[i].text` gives the text back. The first segment's sep is `''`.
 */
export function sentenceSegments(text: string): Segment[] {
  const segments: Segment[] = [];
  let start = 0;
  let sep = '';
  const push = (end: number, next: number, nextSep: string): void => {
    const piece = text.slice(start, end);
    if (piece !== '') {
      segments.push({ text: piece, sep: segments.length === 0 ? '' : sep, tokens: estimateTokens(piece) });
      sep = nextSep;
    } else if (segments.length > 0) {
      sep += nextSep;
    }
    start = next;
  };
  boundary.lastIndex = 0;
  for (let match = boundary.exec(text); match !== null; match = boundary.exec(text)) {
    if (match[1] !== undefined) {
      const end = match.index + match[1].length;
      push(end, match.index + match[0].length, match[2]!);
    } else if (match[3] !== undefined) {
      push(match.index, match.index + 1, '\n');
    } else {
      push(match.index + 1, match.index + 1, '');
    }
  }
  push(text.length, text.length, '');
  return segments;
}

/** Never cut between the two halves of a surrogate pair. */
function safeCut(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff && at > 1 ? at - 1 : at;
}

/** Slices one overlong word into pieces of at most `budget` tokens; linear in the word's length. */
function sliceWord(word: string, budget: number, firstSep: string): Segment[] {
  const pieces: Segment[] = [];
  const target = Math.max(1, Math.floor((budget * word.length) / Math.max(1, estimateTokens(word))));
  let start = 0;
  while (start < word.length) {
    let length = Math.min(target, word.length - start);
    let text = word.slice(start, start + length);
    let tokens = estimateTokens(text);
    while (tokens > budget && length > 1) {
      length = Math.max(1, Math.floor(length * 0.9));
      text = word.slice(start, start + length);
      tokens = estimateTokens(text);
    }
    const cut = start + length < word.length ? safeCut(text, length) : length;
    if (cut !== length) {
      text = text.slice(0, cut);
      tokens = estimateTokens(text);
    }
    pieces.push({ text, sep: pieces.length === 0 ? firstSep : '', tokens });
    start += cut;
  }
  return pieces;
}

/**
 * The last resort: cuts text at whitespace into pieces of at most `budget` tokens, and a word
 * longer than that into slices. The first piece carries `firstSep`.
 */
export function hardSplit(text: string, budget: number, firstSep = ''): Segment[] {
  const pieces: Segment[] = [];
  const words = text.split(/(\s+)/);
  let current = '';
  let currentTokens = 0;
  let currentSep = firstSep;
  let pendingSpace = '';
  const flush = (nextSep: string): void => {
    if (current !== '') pieces.push({ text: current, sep: currentSep, tokens: currentTokens });
    current = '';
    currentTokens = 0;
    currentSep = nextSep;
  };
  for (let index = 0; index < words.length; index++) {
    const part = words[index]!;
    if (index % 2 === 1) {
      pendingSpace = part;
      continue;
    }
    if (part === '') continue;
    const tokens = estimateTokens(part);
    const spaceTokens = pendingSpace.includes('\n') ? 1 : 0;
    if (tokens > budget) {
      flush(current === '' ? currentSep : pendingSpace);
      const slices = sliceWord(part, budget, currentSep);
      pieces.push(...slices.slice(0, -1));
      const last = slices[slices.length - 1]!;
      current = last.text;
      currentTokens = last.tokens;
      currentSep = last.sep;
    } else if (current === '') {
      current = part;
      currentTokens = tokens;
    } else if (currentTokens + spaceTokens + tokens > budget) {
      flush(pendingSpace);
      current = part;
      currentTokens = tokens;
    } else {
      current += pendingSpace + part;
      currentTokens += spaceTokens + tokens;
    }
    pendingSpace = '';
  }
  flush('');
  return pieces;
}

/** Prose over the budget: sentence and line segments, each cut further when still too long. */
export function splitProse(text: string, budget: number, firstSep: string): Segment[] {
  const segments: Segment[] = [];
  for (const segment of sentenceSegments(text)) {
    const sep = segments.length === 0 ? firstSep : segment.sep;
    if (segment.tokens <= budget) segments.push({ ...segment, sep });
    else segments.push(...hardSplit(segment.text, budget, sep));
  }
  return segments;
}

/**
 * A fenced code block over the budget, cut between lines into pieces that each repeat the opening
 * and closing fence, so every piece is still a valid fence. A single line over the budget is cut too.
 */
export function splitCode(block: Extract<Block, { kind: 'code' }>, budget: number): string[] {
  const overhead = estimateTokens(block.opener) + estimateTokens(block.closer) + 2;
  const lineBudget = budget - overhead;
  if (lineBudget < 4) return hardSplit(block.text, budget).map((segment) => segment.text);
  const pieces: string[] = [];
  let lines: string[] = [];
  let used = 0;
  const flush = (): void => {
    if (lines.length > 0) pieces.push([block.opener, ...lines, block.closer].join('\n'));
    lines = [];
    used = 0;
  };
  for (const line of block.body) {
    const tokens = estimateTokens(line) + 1;
    if (tokens - 1 > lineBudget) {
      for (const part of hardSplit(line, lineBudget - 1)) {
        if (used + part.tokens + 1 > lineBudget) flush();
        lines.push(part.text);
        used += part.tokens + 1;
      }
      continue;
    }
    if (used + tokens > lineBudget && lines.length > 0) flush();
    lines.push(line);
    used += tokens;
  }
  flush();
  return pieces;
}

/**
 * A table over the budget, cut between rows into tables that each repeat the header and delimiter
 * rows. Returns `kind: 'prose'` segments when the header alone leaves no room, or for a single row
 * over the budget (the only case where a table is broken).
 */
export function splitTable(
  block: Extract<Block, { kind: 'table' }>,
  budget: number,
): Array<Segment & { kind: 'table' | 'prose' }> {
  const rows = block.text.split('\n');
  const header = rows.slice(0, block.headerLines).join('\n');
  const rowBudget = budget - estimateTokens(header) - 1;
  if (rowBudget < 8) {
    return splitProse(block.text, budget, '\n\n').map((segment) => ({ ...segment, kind: 'prose' as const }));
  }
  const pieces: Array<Segment & { kind: 'table' | 'prose' }> = [];
  let current: string[] = [];
  let used = 0;
  const flush = (): void => {
    if (current.length > 0) {
      const text = [header, ...current].join('\n');
      pieces.push({ text, sep: '\n\n', tokens: estimateTokens(text), kind: 'table' });
    }
    current = [];
    used = 0;
  };
  for (const row of rows.slice(block.headerLines)) {
    const tokens = estimateTokens(row) + 1;
    if (tokens > rowBudget) {
      flush();
      for (const part of hardSplit(row, budget, '\n\n')) pieces.push({ ...part, kind: 'prose' });
      continue;
    }
    if (used + tokens > rowBudget) flush();
    current.push(row);
    used += tokens;
  }
  flush();
  return pieces;
}
