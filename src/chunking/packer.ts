import type { Block } from './markdown-blocks.js';
import { overlapOf } from './overlap.js';
import {
  bodyTokens,
  type Draft,
  isBody,
  measure,
  type Piece,
  type PieceKind,
  type Section,
  sepCost,
  textTokens,
} from './pieces.js';
import { sentenceSegments, splitCode, splitProse, splitTable } from './split.js';
import { estimateTokens } from './tokens.js';

export interface PackOptions {
  chunkTokens: number;
  chunkOverlap: number;
  minChunkTokens: number;
}

/** True when `section` is `ancestor` or lies under it; everything lies under the top (undefined). */
function isWithin(section: Section | undefined, ancestor: Section | undefined): boolean {
  if (ancestor === undefined) return true;
  for (let cursor = section; cursor; cursor = cursor.parent) if (cursor === ancestor) return true;
  return false;
}

function lastSection(draft: Draft): Section | undefined {
  for (let index = draft.pieces.length - 1; index >= 0; index--) {
    const piece = draft.pieces[index]!;
    if (piece.kind !== 'overlap') return piece.section;
  }
  return undefined;
}

function blockKind(block: Block): PieceKind {
  return block.kind === 'code' || block.kind === 'table' ? block.kind : 'prose';
}

/**
 * Packs a document's blocks, section by section, into drafts of at most `chunkTokens`, streaming:
 * it holds the chunk being filled, the last closed one (which a small tail may still join) and
 * small sections waiting for the next heading. The rules, in order of precedence:
 * - no chunk ends on a heading, and a section with no text of its own (a heading right before
 *   another) goes with the next section;
 * - a section starts a new chunk, unless it or the one before is under `minChunkTokens`: a small
 *   section joins the next one when that is its subsection (or a sibling), else the chunk before
 *   when that lies under the same parent heading and has room;
 * - within a section, a chunk is cut before the block that does not fit; when that would leave the
 *   chunk under `minChunkTokens`, prose is cut between list items, sentences or lines to fill it
 *   (a code block or table that fits a chunk is never cut), and a small last chunk joins the one
 *   before or takes text from its end;
 * - a chunk after the first of a section starts with up to `chunkOverlap` tokens of the previous
 *   chunk's closing prose from the same section (never a heading).
 */
export class Packer {
  private held: Draft | undefined;
  private current: Piece[] = [];
  private used = 0;
  private carry: Piece[] = [];
  private section: Section | undefined;
  private closedInSection = 0;
  private readonly pieceBudget: number;

  constructor(
    private readonly options: PackOptions,
    private readonly emit: (draft: Draft) => void,
  ) {
    this.pieceBudget =
      options.chunkTokens - Math.min(options.chunkOverlap, Math.floor(options.chunkTokens / 2));
  }

  /** A heading: the section before it ends, `section` starts with the heading as its first piece. */
  heading(block: Extract<Block, { kind: 'heading' }>, section: Section): void {
    this.finishSection(section);
    this.section = section;
    this.closedInSection = 0;
    this.current = this.carry;
    this.used = measure(this.current);
    this.carry = [];
    const tokens = estimateTokens(block.text);
    if (tokens > this.options.chunkTokens / 2) {
      // A heading that long is text: cut like prose, so that no chunk goes over the budget.
      for (const segment of splitProse(block.text, this.pieceBudget, '\n\n')) {
        this.place({ ...segment, kind: 'prose', section });
      }
      return;
    }
    const piece: Piece = { text: block.text, sep: '\n\n', tokens, kind: 'heading', section };
    if (this.current.length > 0 && !this.fits(piece)) this.close(true);
    this.append(piece);
  }

  /**
   * The pieces of a block of the current section (`preamble` when no heading came yet), to pass to
   * `place` one by one: a block over the budget comes out cut, lazily, so a huge block never sits
   * in memory as pieces.
   */
  *piecesOf(block: Block, preamble: Section): Generator<Piece> {
    if (!this.section) this.section = preamble;
    const section = this.section;
    const tokens = estimateTokens(block.text);
    if (tokens <= this.options.chunkTokens) {
      yield { text: block.text, sep: '\n\n', tokens, kind: blockKind(block), section, source: block };
      return;
    }
    const room = this.options.chunkTokens - this.used - 1;
    const fill =
      bodyTokens(this.current) < this.options.minChunkTokens || room >= this.options.minChunkTokens;
    yield* this.cut(block, fill ? room : this.pieceBudget, section);
  }

  /** The document ended: everything still held is emitted. */
  end(): void {
    this.finishSection(undefined);
    if (this.held) this.emit(this.held);
    this.held = undefined;
  }

  private fits(piece: Piece): boolean {
    const join = this.current.length > 0 ? sepCost(piece.sep) : 0;
    return this.used + join + piece.tokens <= this.options.chunkTokens;
  }

  private append(piece: Piece): void {
    this.used += (this.current.length > 0 ? sepCost(piece.sep) : 0) + piece.tokens;
    this.current.push(piece);
  }

  /** Pieces of a block cut to the piece budget, the first to `firstBudget` (code and tables). */
  private *cut(block: Block, firstBudget: number, section: Section): Generator<Piece> {
    const budget = this.pieceBudget;
    if (block.kind === 'code') {
      for (const text of splitCode(block, budget, Math.max(1, firstBudget))) {
        yield { text, sep: '\n\n', tokens: estimateTokens(text), kind: 'code', section };
      }
    } else if (block.kind === 'table') {
      for (const piece of splitTable(block, budget, Math.max(1, firstBudget))) yield { ...piece, section };
    } else if (block.kind === 'prose' && block.parts) {
      let first = true;
      for (const part of block.parts) {
        const sep = first ? '\n\n' : part.sep;
        first = false;
        const tokens = estimateTokens(part.text);
        if (tokens <= budget) {
          const source: Block = { kind: 'prose', text: part.text };
          yield { text: part.text, sep, tokens, kind: 'prose', section, source };
        } else {
          for (const segment of splitProse(part.text, budget, sep))
            yield { ...segment, kind: 'prose', section };
        }
      }
    } else {
      for (const segment of splitProse(block.text, budget, '\n\n'))
        yield { ...segment, kind: 'prose', section };
    }
  }

  /** Adds a piece of the current section to the chunk being filled, closing it first when full. */
  place(piece: Piece): void {
    if (this.fits(piece)) {
      this.append(piece);
      return;
    }
    const body = bodyTokens(this.current);
    if (piece.source && body < this.options.minChunkTokens) {
      // Closing now would leave a small chunk or a lone heading: fill it from this block instead.
      const room = this.options.chunkTokens - this.used - sepCost(piece.sep);
      if (piece.kind === 'prose' || (body === 0 && room > 0)) {
        let first = true;
        for (const part of this.cutFiner(piece.source, room, piece.section)) {
          this.place(first ? { ...part, sep: piece.sep } : part);
          first = false;
        }
        return;
      }
    }
    this.close(false);
    this.continueWith(piece);
  }

  /** A block that fits a chunk, cut finer: list items, else sentences; code and tables to `room`. */
  private *cutFiner(block: Block, room: number, section: Section): Generator<Piece> {
    if (block.kind === 'prose' && !block.parts) {
      for (const segment of splitProse(block.text, this.pieceBudget, '\n\n'))
        yield { ...segment, kind: 'prose', section };
      return;
    }
    yield* this.cut(block, room, section);
  }

  /** Starts the next chunk of the section with the overlap, then `piece`. */
  private continueWith(piece: Piece): void {
    if (this.current.length === 0 && this.held && piece.kind !== 'heading') {
      const overlap = overlapOf(this.held.pieces, this.options.chunkOverlap);
      if (
        overlap &&
        overlap.section === piece.section &&
        overlap.tokens + sepCost(piece.sep) + piece.tokens <= this.options.chunkTokens
      ) {
        this.append(overlap);
      }
    }
    this.append(piece);
  }

  private release(draft: Draft): void {
    if (this.held) this.emit(this.held);
    this.held = draft;
  }

  private appendToHeld(pieces: Piece[]): void {
    const held = this.held!;
    held.pieces.push(...pieces.filter((piece) => piece.kind !== 'overlap'));
    held.tokens = measure(held.pieces);
  }

  private heldFits(pieces: Piece[]): boolean {
    const rest = pieces.filter((piece) => piece.kind !== 'overlap');
    if (!this.held || rest.length === 0) return false;
    return this.held.tokens + sepCost(rest[0]!.sep) + measure(rest) <= this.options.chunkTokens;
  }

  /** Closes the chunk being filled; trailing headings stay for the next one unless `force`. */
  private close(force: boolean): void {
    const trailing: Piece[] = [];
    if (!force) {
      while (this.current.length > 1 && this.current[this.current.length - 1]!.kind === 'heading') {
        if (!this.current.slice(0, -1).some(isBody)) break;
        trailing.unshift(this.current.pop()!);
      }
    }
    if (this.current.length > 0) {
      const small = bodyTokens(this.current) < this.options.minChunkTokens;
      if (
        small &&
        this.closedInSection > 0 &&
        this.held &&
        lastSection(this.held) === this.section &&
        this.heldFits(this.current)
      ) {
        this.appendToHeld(this.current);
      } else {
        this.release({ pieces: this.current, tokens: measure(this.current) });
        this.closedInSection++;
      }
    }
    this.current = trailing;
    this.used = measure(trailing);
  }

  /**
   * Whether the chunk being filled would report fewer than `minChunkTokens`. The running sum
   * overestimates the joined text by at most ~3 tokens a piece (rounding, joins), so the text is
   * only measured when the sum is that close to the minimum.
   */
  private isSmall(): boolean {
    const min = this.options.minChunkTokens;
    if (this.used < min) return true;
    return this.used < min + 3 * this.current.length && textTokens(this.current) < min;
  }

  private clear(): void {
    this.current = [];
    this.used = 0;
  }

  /** The section ends before `next` (undefined at the end of the document). */
  private finishSection(next: Section | undefined): void {
    const section = this.section;
    if (!section || this.current.length === 0) return;
    const min = this.options.minChunkTokens;
    if (this.closedInSection === 0) {
      const own = this.current.filter((piece) => piece.section === section && isBody(piece));
      if (own.length === 0 && next) {
        this.carry = this.current;
        this.clear();
        return;
      }
      if (own.length === 0 || this.isSmall()) {
        if (next && own.length > 0 && (!section.hasHeading || isWithin(next, section))) {
          this.carry = this.current;
          this.clear();
          return;
        }
        const heldSection = this.held ? lastSection(this.held) : undefined;
        const inScope = own.length === 0 || isWithin(heldSection, section.parent);
        if (this.held && inScope && this.heldFits(this.current)) {
          this.appendToHeld(this.current);
          this.clear();
          return;
        }
        if (next && own.length > 0 && next.parent === section.parent) {
          this.carry = this.current;
          this.clear();
          return;
        }
      }
      this.close(true);
      return;
    }
    if (bodyTokens(this.current) < min && this.held && lastSection(this.held) === section) {
      if (this.heldFits(this.current)) {
        this.appendToHeld(this.current);
        this.clear();
        return;
      }
      this.rebalance(section);
    }
    this.close(true);
  }

  /** Moves text from the end of the previous chunk of `section` to the small last one. */
  private rebalance(section: Section): void {
    const held = this.held!;
    const min = this.options.minChunkTokens;
    let tail = this.current.filter((piece) => piece.kind !== 'overlap');
    for (;;) {
      if (bodyTokens(tail) >= min) break;
      const last = held.pieces[held.pieces.length - 1];
      if (!last || !isBody(last) || last.section !== section) break;
      const heldBody = bodyTokens(held.pieces) - last.tokens;
      const tooBig = measure([last, ...tail]) > this.options.chunkTokens;
      if (last.kind === 'prose' && (heldBody < min || tooBig)) {
        const segments = [...sentenceSegments(last.text)];
        if (segments.length > 1) {
          segments[0]!.sep = last.sep;
          held.pieces.splice(
            held.pieces.length - 1,
            1,
            ...segments.map((segment) => ({ ...segment, kind: 'prose' as const, section })),
          );
          continue;
        }
      }
      if (heldBody < min || tooBig) break;
      held.pieces.pop();
      tail = [last, ...tail];
    }
    held.tokens = measure(held.pieces);
    this.current = tail;
    this.used = measure(tail);
    const first = tail[0];
    if (!first) return;
    const overlap = overlapOf(held.pieces, this.options.chunkOverlap);
    if (
      overlap &&
      overlap.section === first.section &&
      overlap.tokens + sepCost(first.sep) + this.used <= this.options.chunkTokens
    ) {
      this.current = [overlap, ...tail];
      this.used = measure(this.current);
    }
  }
}
