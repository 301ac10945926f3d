/**
 * A deterministic stand-in for Qwen3's byte-level BPE tokenizer: words (with one leading space), single
 * punctuation marks and whitespace runs are pieces; words longer than `longWord` code units are cut into
 * pieces of `pieceLength`. With special tokens on, `<|endoftext|>` is appended, as Qwen3-Embedding's
 * tokenizer does for last-token pooling. The same split drives `/tokenize`, truncation and token counts,
 * so they always agree with each other.
 */

/** Qwen3's `<|endoftext|>` id. */
export const EOS_ID = 151_643;
export const EOS_TEXT = '<|endoftext|>';

const PIECE_PATTERN = / ?[\p{L}\p{M}\p{N}]+| ?[^\s\p{L}\p{M}\p{N}]|\s+(?!\S)|\s+/gu;
const longWord = 6;
const pieceLength = 4;
const vocabularySize = 150_000;

/**
 * Piece boundaries as UTF-16 offsets, flattened `[start0, stop0, start1, stop1, ...]` into `out`
 * (cleared first, reused across calls to avoid allocations). Returns the number of pieces.
 */
export function splitPieces(text: string, out: number[]): number {
  out.length = 0;
  PIECE_PATTERN.lastIndex = 0;
  for (let match = PIECE_PATTERN.exec(text); match !== null; match = PIECE_PATTERN.exec(text)) {
    const start = match.index;
    const stop = start + match[0].length;
    const lead = text.charCodeAt(start) === 32 ? 1 : 0;
    if (stop - start - lead <= longWord || !isWordChar(text, start + lead)) {
      out.push(start, stop);
      continue;
    }
    let from = start;
    while (from < stop) {
      let to = Math.min(stop, from + (from === start ? lead : 0) + pieceLength);
      // Never cut a surrogate pair in two.
      if (to < stop && isLowSurrogate(text.charCodeAt(to))) to += 1;
      out.push(from, to);
      from = to;
    }
  }
  return out.length / 2;
}

const scratch: number[] = [];

/** Tokens the model would see for `text`, the end-of-text token included when `addSpecial`. */
export function countTokens(text: string, addSpecial = true): number {
  return splitPieces(text, scratch) + (addSpecial ? 1 : 0);
}

export interface TeiToken {
  id: number;
  text: string;
  special: boolean;
  /** Offsets in Unicode code points, as TEI reports them; null for special tokens. */
  start: number | null;
  stop: number | null;
}

/** `/tokenize`'s view of `text`. */
export function tokenize(text: string, addSpecial: boolean): TeiToken[] {
  const bounds: number[] = [];
  const count = splitPieces(text, bounds);
  const toCodePoint = codePointOffsets(text);
  const tokens: TeiToken[] = [];
  for (let i = 0; i < count; i++) {
    const start = bounds[2 * i]!;
    const stop = bounds[2 * i + 1]!;
    const piece = text.slice(start, stop);
    tokens.push({
      id: hashString(piece) % vocabularySize,
      text: piece,
      special: false,
      start: toCodePoint(start),
      stop: toCodePoint(stop),
    });
  }
  if (addSpecial) tokens.push({ id: EOS_ID, text: EOS_TEXT, special: true, start: null, stop: null });
  return tokens;
}

export interface Encoded {
  /** The text the model embeds: the input, or the part of it that survived truncation. */
  text: string;
  /** Tokens after truncation, the end-of-text token included. */
  tokens: number;
  /** Tokens before truncation. */
  fullTokens: number;
  truncated: boolean;
}

/**
 * Tokenizes for embedding: with `truncate`, keeps `maxTokens` tokens (the end-of-text token counts) from
 * the right or the left, as TEI's `LongestFirst` truncation does for a single sequence.
 */
export function encode(
  text: string,
  truncate: boolean,
  maxTokens: number,
  direction: 'Left' | 'Right',
): Encoded {
  const pieces = splitPieces(text, scratch);
  const fullTokens = pieces + 1;
  if (!truncate || fullTokens <= maxTokens) {
    return { text, tokens: fullTokens, fullTokens, truncated: false };
  }
  const keep = Math.max(0, maxTokens - 1);
  if (keep === 0) return { text: '', tokens: 1, fullTokens, truncated: true };
  const kept =
    direction === 'Right'
      ? text.slice(scratch[0]!, scratch[2 * keep - 1]!)
      : text.slice(scratch[2 * (pieces - keep)]!, scratch[2 * pieces - 1]!);
  return { text: kept, tokens: keep + 1, fullTokens, truncated: true };
}

/** Code points in `text` (what Rust's `chars().count()` gives). */
export function countChars(text: string): number {
  if (!hasSurrogates(text)) return text.length;
  let count = 0;
  for (let i = 0; i < text.length; i++) if (!isLowSurrogate(text.charCodeAt(i))) count++;
  return count;
}

/** 32-bit FNV-1a over UTF-16 code units. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function codePointOffsets(text: string): (offset: number) => number {
  if (!hasSurrogates(text)) return (offset) => offset;
  const map = new Int32Array(text.length + 1);
  let points = 0;
  for (let i = 0; i < text.length; i++) {
    map[i] = points;
    if (!isLowSurrogate(text.charCodeAt(i + 1)) || !isHighSurrogate(text.charCodeAt(i))) points++;
  }
  map[text.length] = points;
  return (offset) => map[offset]!;
}

function hasSurrogates(text: string): boolean {
  return /[\uD800-\uDFFF]/.test(text);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

const WORD_CHAR = /[\p{L}\p{M}\p{N}]/u;

function isWordChar(text: string, index: number): boolean {
  return WORD_CHAR.test(text.charAt(index));
}
