/**
 * Fault injection for the TEI test server. A fault without `route` applies to POST routes only (embed,
 * rerank, tokenize...), so a client's `/info` or `/health` probe does not use it up; name a route
 * (`'/info'`, `'/health'`) to fail a GET.
 */

export type FaultStatus = 429 | 503 | 424 | 500;

export interface FaultTarget {
  /** Path to match exactly, e.g. `'/embed'` or `'/v1/embeddings'`. */
  route?: string;
}

export interface FailOptions extends FaultTarget {
  /** Adds a `retry-after` header (seconds). TEI itself never sends one. */
  retryAfterSeconds?: number;
}

interface Pending {
  remaining: number;
  route: string | undefined;
}

interface PendingFailure extends Pending {
  /** Periodic: every `every`-th matching request fails, counted in `seen`, until `reset()`. */
  every?: number;
  seen?: number;
  status: FaultStatus;
  retryAfterSeconds: number | undefined;
}

export class TeiFaults {
  /** Extra time each input spends "in inference" while holding its concurrency permit (ms). */
  latencyMs = 0;
  private failures: PendingFailure[] = [];
  private resets: Pending[] = [];

  constructor(
    private readonly setDown: (down: boolean) => Promise<void>,
    private readonly isDown: () => boolean,
  ) {}

  /** The next `count` matching requests answer `status` with TEI's body for it. */
  failNext(count: number, status: FaultStatus, options: FailOptions = {}): void {
    checkCount(count);
    this.failures.push({
      remaining: count,
      route: options.route,
      status,
      retryAfterSeconds: options.retryAfterSeconds,
    });
  }

  /** Every `count`-th matching request (the n-th, 2n-th, ...) answers `status`, until `reset()`. */
  failEvery(count: number, status: FaultStatus, options: FailOptions = {}): void {
    checkCount(count);
    this.failures.push({
      remaining: Number.POSITIVE_INFINITY,
      every: count,
      seen: 0,
      route: options.route,
      status,
      retryAfterSeconds: options.retryAfterSeconds,
    });
  }

  /** The next `count` matching requests get their socket destroyed after the body arrives, no reply. */
  resetNext(count: number, options: FaultTarget = {}): void {
    checkCount(count);
    this.resets.push({ remaining: count, route: options.route });
  }

  /** Stops listening and drops every connection: clients get ECONNREFUSED until `up()`. */
  down(): Promise<void> {
    return this.setDown(true);
  }

  /** Listens again on the same port. */
  up(): Promise<void> {
    return this.setDown(false);
  }

  get isServerDown(): boolean {
    return this.isDown();
  }

  /** Clears every fault and brings the server back up. */
  async reset(): Promise<void> {
    this.latencyMs = 0;
    this.failures = [];
    this.resets = [];
    if (this.isDown()) await this.setDown(false);
  }

  /** @internal Consumes one pending failure for this request, if any. */
  takeFailure(method: string, path: string): PendingFailure | undefined {
    const once = take(
      this.failures.filter((fault) => fault.every === undefined),
      method,
      path,
    );
    if (once) {
      if (once.remaining <= 0) this.failures.splice(this.failures.indexOf(once), 1);
      return once;
    }
    return this.failures.find(
      (fault) => fault.every !== undefined && routeMatches(fault, method, path) && periodicHit(fault),
    );
  }

  /** @internal Consumes one pending reset for this request, if any. */
  takeReset(method: string, path: string): boolean {
    return take(this.resets, method, path) !== undefined;
  }
}

function routeMatches(fault: Pending, method: string, path: string): boolean {
  return fault.route === undefined ? method === 'POST' : fault.route === path;
}

function periodicHit(fault: PendingFailure): boolean {
  fault.seen = (fault.seen ?? 0) + 1;
  return fault.seen % fault.every! === 0;
}

function take<T extends Pending>(queue: T[], method: string, path: string): T | undefined {
  const index = queue.findIndex((fault) => routeMatches(fault, method, path));
  if (index < 0) return undefined;
  const fault = queue[index]!;
  fault.remaining -= 1;
  if (fault.remaining <= 0) queue.splice(index, 1);
  return fault;
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1) {
    throw new TypeError(`Expected \`count\` to be a positive integer, got \`${count}\``);
  }
}
