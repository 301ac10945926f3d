import type { Block } from './markdown-blocks.js';
import { estimateTokens } from './tokens.js';

/**
 * Cutting text that is over a budget. Every cutter is a generator that walks its text once, so a
 * 20 MB paragraph or code block is cut with memory for one piece at a time, not for all of them.
 */

/** A piece of text with the whitespace that stood before it in the original (`''` inside a word). */
export interface Segment {
  text: string;
  /** What joins this segment to the one before it: `' '`, `'\n'`, `''`, or `'\n\n'` between blocks. */
  sep: string;
  tokens: number;
}

// Sentence ends: punctuation (+ closing quotes/brackets) then spaces; a line break; a CJK full stop.
const boundaryPattern = /([.!?]["')\]\u201d\u2019]*)([ \t]+)(?=\S)|(\n)|([\u3002\uff01\uff1f])/g;

/**
 * Splits prose into sentences and lines, keeping the separators, so that joining
 * `segments[i].sep + segments[i].text` gives the text back. The first segment's sep is `''`.
 */
export function* sentenceSegments(text: string): Generator<Segment> {
  const boundary = new RegExp(boundaryPattern.source, 'g');
  let start = 0;
  let sep = '';
  let first = true;
  let pending: Segment | undefined;
  const take = (end: number, next: number, nextSep: string): Segment | undefined => {
    const piece = text.slice(start, end);
    start = next;
    if (piece !== '') {
      const segment = { text: piece, sep: first ? '' : sep, tokens: estimateTokens(piece) };
      first = false;
      sep = nextSep;
      return segment;
    }
    if (!first) sep += nextSep;
    return undefined;
  };
  for (let match = boundary.exec(text); match !== null; match = boundary.exec(text)) {
    if (match[1] !== undefined) {
      pending = take(match.index + match[1].length, match.index + match[0].length, match[2]!);
    } else if (match[3] !== undefined) {
      pending = take(match.index, match.index + 1, '\n');
    } else {
      pending = take(match.index + 1, match.index + 1, '');
    }
    if (pending) yield pending;
  }
  pending = take(text.length, text.length, '');
  if (pending) yield pending;
}

/** Never cut between the two halves of a surrogate pair. */
function safeCut(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff && at > 1 ? at - 1 : at;
}

/** Slices one overlong word into pieces of at most `budget` tokens; linear in the word's length. */
function* sliceWord(word: string, budget: number, firstSep: string): Generator<Segment> {
  const target = Math.max(1, Math.floor((budget * word.length) / Math.max(1, estimateTokens(word))));
  let start = 0;
  let first = true;
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
    yield { text, sep: first ? firstSep : '', tokens };
    first = false;
    start += cut;
  }
}

/**
 * The last resort: cuts text at whitespace into pieces of at most `budget` tokens, and a word
 * longer than that into slices. The first piece carries `firstSep`.
 */
export function* hardSplit(text: string, budget: number, firstSep = ''): Generator<Segment> {
  const words = /(\s*)(\S+)/g;
  let current = '';
  let currentTokens = 0;
  let currentSep = firstSep;
  for (let match = words.exec(text); match !== null; match = words.exec(text)) {
    const space = match[1]!;
    const word = match[2]!;
    const tokens = estimateTokens(word);
    const spaceTokens = space.includes('\n') ? 1 : 0;
    if (tokens > budget) {
      if (current !== '') yield { text: current, sep: currentSep, tokens: currentTokens };
      const sep = current === '' ? currentSep : space;
      current = '';
      let last: Segment | undefined;
      for (const slice of sliceWord(word, budget, sep)) {
        if (last) yield last;
        last = slice;
      }
      current = last!.text;
      currentTokens = last!.tokens;
      currentSep = last!.sep;
    } else if (current === '') {
      current = word;
      currentTokens = tokens;
    } else if (currentTokens + spaceTokens + tokens > budget) {
      yield { text: current, sep: currentSep, tokens: currentTokens };
      current = word;
      currentTokens = tokens;
      currentSep = space;
    } else {
      current += space + word;
      currentTokens += spaceTokens + tokens;
    }
  }
  if (current !== '') yield { text: current, sep: currentSep, tokens: currentTokens };
}

/** Prose over the budget: sentence and line segments, each cut further when still too long. */
export function* splitProse(text: string, budget: number, firstSep: string): Generator<Segment> {
  let first = true;
  for (const segment of sentenceSegments(text)) {
    const sep = first ? firstSep : segment.sep;
    first = false;
    if (segment.tokens <= budget) yield { ...segment, sep };
    else yield* hardSplit(segment.text, budget, sep);
  }
}

/** The lines of `text` from line `from` (0-based) up to but not including `skipLast` lines from the end. */
function* linesOf(text: string, from: number, skipLast: number): Generator<string> {
  let end = text.length;
  for (let count = 0; count < skipLast; count++) end = Math.max(0, text.lastIndexOf('\n', end - 1));
  let start = 0;
  for (let count = 0; count < from && start <= end; count++) {
    const next = text.indexOf('\n', start);
    start = next === -1 ? end + 1 : next + 1;
  }
  while (start <= end && start < text.length) {
    const next = text.indexOf('\n', start);
    const stop = next === -1 || next > end ? end : next;
    yield text.slice(start, stop);
    start = stop + 1;
  }
}

/**
 * A code block over the budget, cut between lines into pieces that each repeat the opening and
 * closing fence, so every piece is still a valid fence (indented code has no fences to repeat).
 * A single line over the budget is cut too. The first piece fits `firstBudget`, the rest `budget`.
 */
export function* splitCode(
  block: Extract<Block, { kind: 'code' }>,
  budget: number,
  firstBudget = budget,
): Generator<string> {
  const fenced = block.opener !== '';
  const overhead = fenced ? estimateTokens(block.opener) + estimateTokens(block.closer) + 2 : 0;
  if (budget - overhead < 4) {
    for (const segment of hardSplit(block.text, budget)) yield segment.text;
    return;
  }
  let lineBudget = firstBudget - overhead < 4 ? budget - overhead : firstBudget - overhead;
  const closed = fenced && block.text.endsWith(`\n${block.closer}`);
  let lines: string[] = [];
  let used = 0;
  const piece = (): string => (fenced ? [block.opener, ...lines, block.closer] : lines).join('\n');
  const body = linesOf(block.text, fenced ? 1 : 0, closed ? 1 : 0);
  for (const line of body) {
    const tokens = estimateTokens(line) + 1;
    if (tokens - 1 > lineBudget) {
      for (const part of hardSplit(line, Math.max(1, lineBudget - 1))) {
        if (used + part.tokens + 1 > lineBudget && lines.length > 0) {
          yield piece();
          lines = [];
          used = 0;
          lineBudget = Math.max(4, budget - overhead);
        }
        lines.push(part.text);
        used += part.tokens + 1;
      }
      continue;
    }
    if (used + tokens > lineBudget && lines.length > 0) {
      yield piece();
      lines = [];
      used = 0;
      lineBudget = budget - overhead;
    }
    lines.push(line);
    used += tokens;
  }
  if (lines.length > 0) yield piece();
}

/**
 * A table over the budget, cut between rows into tables that each repeat the header and delimiter
 * rows. Returns `kind: 'prose'` segments when the header alone leaves no room, or for a single row
 * over the budget (the only case where a table is broken). The first piece fits `firstBudget`.
 */
export function* splitTable(
  block: Extract<Block, { kind: 'table' }>,
  budget: number,
  firstBudget = budget,
): Generator<Segment & { kind: 'table' | 'prose' }> {
  const header = [...linesOf(block.text, 0, 0)].slice(0, block.headerLines).join('\n');
  const headerTokens = estimateTokens(header) + 1;
  let rowBudget = firstBudget - headerTokens < 8 ? budget - headerTokens : firstBudget - headerTokens;
  if (budget - headerTokens < 8) {
    for (const segment of splitProse(block.text, budget, '\n\n')) yield { ...segment, kind: 'prose' };
    return;
  }
  let rows: string[] = [];
  let used = 0;
  const flush = (): (Segment & { kind: 'table' }) | undefined => {
    if (rows.length === 0) return undefined;
    const text = [header, ...rows].join('\n');
    rows = [];
    used = 0;
    rowBudget = budget - headerTokens;
    return { text, sep: '\n\n', tokens: estimateTokens(text), kind: 'table' };
  };
  for (const row of linesOf(block.text, block.headerLines, 0)) {
    const tokens = estimateTokens(row) + 1;
    if (tokens > budget - headerTokens) {
      const flushed = flush();
      if (flushed) yield flushed;
      for (const part of hardSplit(row, budget, '\n\n')) yield { ...part, kind: 'prose' };
      continue;
    }
    if (used + tokens > rowBudget && rows.length > 0) yield flush()!;
    rows.push(row);
    used += tokens;
  }
  const last = flush();
  if (last) yield last;
}
