import { BatchBuilder, type BatchLimits } from './batch-builder.js';

interface Entry<T> {
  item: T;
  tokens: number;
  bytes: number;
}

/**
 * Cuts items into batches within `limits` after sorting each window of `window` items by length
 * (tokens), so that a batch holds texts of similar length. A backend without variable-length
 * attention computes every row at the length of the batch's longest (TEI's batches are cut at
 * `max_batch_tokens` of rows x longest), so mixed lengths waste most of its work on padding; on
 * the bundled docs a window of eight requests' worth halves the padding.
 *
 * TEI forms its batches in arrival order across requests, so consecutive requests must be alike
 * too: the windows alternate between ascending and descending order, so that the longest texts of
 * one window meet the longest of the next. The last batch of a cut may be partial; it stays to be
 * filled by the next window. Only the order of requests changes: each item keeps its identity.
 */
export class LengthSortedBatches<T> {
  private pool: Entry<T>[] = [];
  /** Entries kept back from the last cut: the next cut waits for a full window beyond them. */
  private kept = 0;
  private ascending = true;

  constructor(
    private readonly limits: BatchLimits,
    private readonly window: number,
  ) {
    if (!Number.isInteger(window) || window < 1) {
      throw new TypeError(`Expected \`window\` to be a positive integer, got \`${window}\``);
    }
  }

  get size(): number {
    return this.pool.length;
  }

  /** Add an item; returns the batches a full window cut (none until then). */
  add(item: T, tokens: number, bytes: number): T[][] {
    this.pool.push({ item, tokens, bytes });
    if (this.pool.length < this.window + this.kept) return [];
    const batches = this.cut();
    const last = batches.pop() ?? [];
    this.pool = last;
    this.kept = last.length;
    return batches.map(items);
  }

  /** Everything held, sorted and cut (empty when nothing is). */
  take(): T[][] {
    const batches = this.pool.length > 0 ? this.cut() : [];
    this.pool = [];
    this.kept = 0;
    return batches.map(items);
  }

  private cut(): Entry<T>[][] {
    const direction = this.ascending ? 1 : -1;
    this.ascending = !this.ascending;
    // Array.prototype.sort is stable: texts of equal length keep their reading order.
    const sorted = this.pool.sort((a, b) => direction * (a.tokens - b.tokens));
    const builder = new BatchBuilder<Entry<T>>(this.limits);
    const batches: Entry<T>[][] = [];
    for (const entry of sorted) {
      const full = builder.add(entry, entry.tokens, entry.bytes);
      if (full) batches.push(full);
    }
    const rest = builder.take();
    if (rest.length > 0) batches.push(rest);
    return batches;
  }
}

function items<T>(batch: Entry<T>[]): T[] {
  return batch.map((entry) => entry.item);
}
