import { type Code, ConnectError } from '@connectrpc/connect';
import { defaultFaultMessage } from './errors.js';

/** `Service/Method` (`Points/Upsert`) or a whole service (`Points`); absent matches every call. */
export type MethodMatch = string | undefined;

interface FailRule {
  remaining: number;
  /** Periodic rules: fail every `every`-th matching call (counted in `seen`), forever. */
  every?: number;
  seen?: number;
  code: Code;
  message: string;
  method: MethodMatch;
  retryAfterSeconds: number | undefined;
}

/**
 * `reset`: TCP RST, the client reads ECONNRESET (connect-node: Code.Aborted). `close`: a plain
 * close, the client's streams end with `http/2 stream closed with error code CANCEL` (Code.Canceled).
 */
export type DropMode = 'reset' | 'close';

export interface Drop {
  when: 'before' | 'after';
  mode: DropMode;
}

interface DropRule {
  remaining: number;
  method: MethodMatch;
  afterHandling: boolean;
  mode: DropMode;
}

function matches(rule: MethodMatch, method: string): boolean {
  return rule === undefined || rule === method || method.startsWith(`${rule}/`);
}

/**
 * Injected failures. Rules are consumed in the order they were added; each matching call
 * uses up one. Counts are per call, whether the call fails or not.
 */
export class Faults {
  /** Delay added to every call, in ms. */
  latencyMs = 0;
  /** Extra delay per method (`Points/Upsert`) or service (`Points`), in ms, on top of `latencyMs`. */
  readonly latencyByMethod = new Map<string, number>();
  private failures: FailRule[] = [];
  private drops: DropRule[] = [];

  /**
   * Fail the next `n` matching calls with `code`. The message defaults to Qdrant's wording for
   * that code; `retryAfterSeconds` sends `retry-after` (whole seconds) as Qdrant's rate limiter does.
   */
  failNext(
    n: number,
    code: Code,
    message?: string,
    options: { method?: string; retryAfterSeconds?: number } = {},
  ): this {
    this.failures.push({
      remaining: n,
      code,
      message: message ?? defaultFaultMessage(code),
      method: options.method,
      retryAfterSeconds: options.retryAfterSeconds,
    });
    return this;
  }

  /**
   * Fail every `n`-th matching call (the n-th, 2n-th, ...) with `code` until `reset()`: a server
   * that keeps shedding a share of its load, as a busy Qdrant does.
   */
  failEvery(
    n: number,
    code: Code,
    message?: string,
    options: { method?: string; retryAfterSeconds?: number } = {},
  ): this {
    this.failures.push({
      remaining: Number.POSITIVE_INFINITY,
      every: n,
      seen: 0,
      code,
      message: message ?? defaultFaultMessage(code),
      method: options.method,
      retryAfterSeconds: options.retryAfterSeconds,
    });
    return this;
  }

  /**
   * Drop the connection (destroy the TCP socket under the HTTP/2 session) on the next `n`
   * matching calls. By default before the call is handled; with `afterHandling` the call takes
   * effect and only its response is lost, the case that makes clients retry a write that
   * already happened. Other calls on the same connection fail too, as they would.
   */
  dropNext(n: number, options: { method?: string; afterHandling?: boolean; mode?: DropMode } = {}): this {
    this.drops.push({
      remaining: n,
      method: options.method,
      afterHandling: options.afterHandling ?? false,
      mode: options.mode ?? 'reset',
    });
    return this;
  }

  reset(): void {
    this.latencyMs = 0;
    this.latencyByMethod.clear();
    this.failures = [];
    this.drops = [];
  }

  /** @internal Total delay for this call, in ms. */
  delayFor(method: string): number {
    let delay = this.latencyMs;
    for (const [rule, ms] of this.latencyByMethod) if (matches(rule, method)) delay += ms;
    return delay;
  }

  /** @internal The error to answer this call with, if a rule claims it. */
  takeFailure(method: string): ConnectError | undefined {
    const rule =
      this.failures.find((r) => r.remaining > 0 && r.every === undefined && matches(r.method, method)) ??
      this.failures.find((r) => r.every !== undefined && matches(r.method, method) && periodicHit(r));
    if (!rule) return undefined;
    rule.remaining -= 1;
    const metadata =
      rule.retryAfterSeconds === undefined ? undefined : { 'retry-after': String(rule.retryAfterSeconds) };
    return new ConnectError(rule.message, rule.code, metadata);
  }

  /** @internal Whether to drop this call's connection, and when. */
  takeDrop(method: string): Drop | undefined {
    const rule = this.drops.find((r) => r.remaining > 0 && matches(r.method, method));
    if (!rule) return undefined;
    rule.remaining -= 1;
    return { when: rule.afterHandling ? 'after' : 'before', mode: rule.mode };
  }
}

function periodicHit(rule: FailRule): boolean {
  rule.seen = (rule.seen ?? 0) + 1;
  return rule.seen % rule.every! === 0;
}
