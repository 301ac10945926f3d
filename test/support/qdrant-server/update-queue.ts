interface Pending {
  apply: () => void;
  /** `performance.now()` after which a timer applies it; Infinity: only a `wait=true` write or `drain()`. */
  due: number;
}

/**
 * A collection's update queue, as Qdrant's per-shard update worker runs it: writes are applied one
 * at a time in the order they were acknowledged. A `wait=false` write is acknowledged once queued
 * (Qdrant: written to the WAL) and applied later; a `wait=true` write is applied after everything
 * queued before it, and answered only then.
 *
 * With no apply delay (`delayMs()` undefined) nothing waits: a write is applied before it is
 * answered, which is what a lightly loaded Qdrant looks like to a client that reads afterwards.
 */
export class UpdateQueue {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param delayMs how long a `wait=false` write stays invisible, read at each write
   * @param onLateError called with the error of a write that failed after it was acknowledged
   *   (Qdrant only logs those: the client has its `Acknowledged` already)
   */
  constructor(
    private readonly delayMs: () => number | undefined,
    private readonly onLateError: (error: unknown) => void,
  ) {}

  /** Writes acknowledged and not applied yet (`update_queue.length` in collection info). */
  get length(): number {
    return this.pending.length;
  }

  /** Apply `apply` now (`wait=true`: after what is queued, errors thrown) or queue it (`wait=false`). */
  submit(apply: () => void, wait: boolean): void {
    if (wait) {
      this.drain();
      apply();
      return;
    }
    const delay = this.delayMs();
    if (delay === undefined && this.pending.length === 0) {
      this.run(apply);
      return;
    }
    this.pending.push({ apply, due: performance.now() + (delay ?? 0) });
    this.schedule();
  }

  /** Apply everything queued, in order. */
  drain(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const op of this.pending.splice(0)) this.run(op.apply);
  }

  /** Forget what is queued (the collection was deleted). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }

  private run(apply: () => void): void {
    try {
      apply();
    } catch (error) {
      this.onLateError(error);
    }
  }

  private schedule(): void {
    const head = this.pending[0];
    if (this.timer !== undefined || head === undefined || !Number.isFinite(head.due)) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        while (this.pending[0] && this.pending[0].due <= performance.now()) {
          const op = this.pending.shift();
          if (op) this.run(op.apply);
        }
        this.schedule();
      },
      Math.max(0, Math.ceil(head.due - performance.now())),
    );
    this.timer.unref();
  }
}
