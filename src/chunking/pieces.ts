import type { Block } from './markdown-blocks.js';
import type { Segment } from './split.js';
import { estimateTokens } from './tokens.js';

/**
 * What the packer moves around: pieces of text (a block, or a cut of one) tagged with their
 * section, and the drafts of chunks they go into.
 */

/** One heading's stretch of a document, up to the next heading of any level. */
export interface Section {
  /** Heading path, `Configuration > Scrape configs`; `''` before the first heading. */
  path: string;
  /** The section of the nearest heading above with a lower level; undefined at the top. */
  parent: Section | undefined;
  /** False for the text before the first heading. */
  hasHeading: boolean;
}

export type PieceKind = 'heading' | 'prose' | 'code' | 'table' | 'overlap';

export interface Piece extends Segment {
  kind: PieceKind;
  section: Section;
  /** What the piece was cut from, when it can still be cut finer to fill a chunk. */
  source?: Block;
}

/** Pieces bound for one chunk. */
export interface Draft {
  pieces: Piece[];
  /** Sum of the pieces' estimates and their joins: never below the joined text's estimate. */
  tokens: number;
}

/** What joining a piece costs beyond the two pieces' own estimates (a `''` join may fuse two words). */
export function sepCost(sep: string): number {
  if (sep === '') return 2;
  return sep.includes('\n') ? 1 : 0;
}

/** Tokens of pieces joined: each piece's estimate plus its join (see `sepCost`). */
export function measure(pieces: readonly Piece[]): number {
  let total = 0;
  for (let index = 0; index < pieces.length; index++) {
    total += pieces[index]!.tokens + (index > 0 ? sepCost(pieces[index]!.sep) : 0);
  }
  return total;
}

/** The estimate of the pieces' joined text, as the chunk will report it. */
export function textTokens(pieces: readonly Piece[]): number {
  if (pieces.length === 0) return 0;
  let text = pieces[0]!.text;
  for (let index = 1; index < pieces.length; index++) text += pieces[index]!.sep + pieces[index]!.text;
  return estimateTokens(text);
}

/** Text of the section itself, as opposed to a heading or the overlap repeated from the chunk before. */
export function isBody(piece: Piece): boolean {
  return piece.kind !== 'heading' && piece.kind !== 'overlap';
}

export function bodyTokens(pieces: readonly Piece[]): number {
  let total = 0;
  for (const piece of pieces) if (isBody(piece)) total += piece.tokens;
  return total;
}
