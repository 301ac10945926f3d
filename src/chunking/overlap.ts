import { type Piece, type Section, sepCost } from './pieces.js';
import { type Segment, sentenceSegments } from './split.js';
import { estimateTokens } from './tokens.js';

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

const fenceLine = /^\s*(?:`{3,}|~{3,})/;

/** The tail of a chunk's prose, up to `budget` tokens, cut at a sentence or line (between words when the last sentence is longer). */
export function overlapOf(pieces: readonly Piece[], budget: number): Piece | undefined {
  if (budget <= 0 || pieces.length === 0) return undefined;
  const section = pieces[pieces.length - 1]!.section;
  const tail: Segment[] = [];
  let used = 0;
  let nextSep = '';
  for (let index = pieces.length - 1; index >= 0; index--) {
    const piece = pieces[index]!;
    if (piece.kind !== 'prose' || piece.section !== section) break;
    const segments = [...sentenceSegments(piece.text)];
    if (segments[0]) segments[0].sep = piece.sep;
    for (let inner = segments.length - 1; inner >= 0; inner--) {
      const segment = segments[inner]!;
      // Code fenced inside a list item: half a fence would open a code block in the next chunk.
      if (fenceLine.test(segment.text)) return tail.length > 0 ? joinTail(tail, section) : undefined;
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

function joinTail(reversed: Segment[], section: Section): Piece {
  let text = reversed[reversed.length - 1]!.text;
  for (let index = reversed.length - 2; index >= 0; index--)
    text += reversed[index]!.sep + reversed[index]!.text;
  return { text, sep: '', tokens: estimateTokens(text), kind: 'overlap', section };
}
