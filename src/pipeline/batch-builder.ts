/** Bounds of one request: items, (estimated) tokens and body bytes. Unbounded dimensions use Infinity. */
export interface BatchLimits {
  maxInputs: number;
  maxTokens: number;
  maxBytes: number;
}

/**
 * Accumulates items until the next one would break a limit. A single item over the token or byte
 * budget still forms a batch of its own: TEI truncates it, and refusing it here would lose it.
 */
export class BatchBuilder<T> {
  private items: T[] = [];
  private tokens = 0;
  private bytes = 0;

  constructor(private readonly limits: BatchLimits) {}

  get size(): number {
    return this.items.length;
  }

  /** Add an item; returns the batch that was full before it, if any. */
  add(item: T, tokens: number, bytes: number): T[] | undefined {
    let full: T[] | undefined;
    const wouldOverflow =
      this.items.length > 0 &&
      (this.items.length + 1 > this.limits.maxInputs ||
        this.tokens + tokens > this.limits.maxTokens ||
        this.bytes + bytes > this.limits.maxBytes);
    if (wouldOverflow) full = this.take();
    this.items.push(item);
    this.tokens += tokens;
    this.bytes += bytes;
    return full;
  }

  /** Whatever is pending, as a batch (empty when nothing is). */
  take(): T[] {
    const batch = this.items;
    this.items = [];
    this.tokens = 0;
    this.bytes = 0;
    return batch;
  }
}
