import { type Code, ConnectError } from '@connectrpc/connect';
import { mulberry32 } from '../../../src/bench/vectors.js';
import { defaultFaultMessage } from './errors.js';

/** `Service/Method` (`Points/Upsert`) or a whole service (`Points`); absent matches every call. */
export type MethodMatch = string | undefined;

/** A delay in ms, or a function drawn again for every call (`() => 2000 + random() * 8000`). */
export type Latency = number | (() => number);

export interface FailOptions {
  /** Only calls of this method or service. */
  method?: string;
  /** Send `retry-after` (whole seconds, rounded up, as Qdrant's rate limiter does). */
  retryAfterSeconds?: number;
}

interface FailRule {
  code: Code;
  message: string;
  method: MethodMatch;
  retryAfterSeconds: number | undefined;
  /** Calls still to fail (`failNext`); periodic and random rules never run out. */
  remaining: number;
  /** Decides, for each matching call, whether this one fails (`failEvery`, `failRate`). */
  hit?: () => boolean;
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

interface GoAwayRule {
  remaining: number;
  method: MethodMatch;
  refuse: boolean;
}

function matches(rule: MethodMatch, method: string): boolean {
  return rule === undefined || rule === method || method.startsWith(`${rule}/`);
}

/**
 * Injected failures. `failNext` rules are used up first, in the order they were added; periodic
 * and random rules see every matching call. Counts are per call, whether it fails or not.
 */
export class Faults {
  /** Delay added to every call. */
  latencyMs: Latency = 0;
  /** Extra delay per method (`Points/Upsert`) or service (`Points`), on top of `latencyMs`. */
  readonly latencyByMethod = new Map<string, Latency>();
  private failures: FailRule[] = [];
  private drops: DropRule[] = [];
  private goAways: GoAwayRule[] = [];

  /** Fail the next `n` matching calls with `code`; the message defaults to Qdrant's wording for it. */
  failNext(n: number, code: Code, message?: string, options: FailOptions = {}): this {
    this.failures.push(rule(code, message, options, n));
    return this;
  }

  /**
   * Fail every `n`-th matching call (the n-th, 2n-th, ...) with `code` until `reset()`: a server
   * that keeps shedding a share of its load, as a busy Qdrant does.
   */
  failEvery(n: number, code: Code, message?: string, options: FailOptions = {}): this {
    let seen = 0;
    this.failures.push({ ...rule(code, message, options, 0), hit: () => ++seen % n === 0 });
    return this;
  }

  /**
   * Fail each matching call with probability `rate` (0.2: about one in five), drawn from a PRNG
   * seeded with `seed`, so a run can be repeated call for call.
   */
  failRate(rate: number, code: Code, message?: string, options: FailOptions & { seed?: number } = {}): this {
    const random = mulberry32(options.seed ?? 1);
    this.failures.push({ ...rule(code, message, options, 0), hit: () => random() < rate });
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

  /**
   * Send HTTP/2 GOAWAY on the session of the next `n` matching calls, then close it, as a server
   * that shuts down or a proxy that recycles connections does. By default the call is still
   * handled and answered (it is the last stream the GOAWAY admits) and the client must open a new
   * connection for its next call. With `refuse`, the call is not handled: after the GOAWAY its
   * stream is reset with REFUSED_STREAM, which tells a client it is safe to retry.
   */
  goAwayNext(n: number, options: { method?: string; refuse?: boolean } = {}): this {
    this.goAways.push({ remaining: n, method: options.method, refuse: options.refuse ?? false });
    return this;
  }

  reset(): void {
    this.latencyMs = 0;
    this.latencyByMethod.clear();
    this.failures = [];
    this.drops = [];
    this.goAways = [];
  }

  /** @internal Total delay for this call, in ms, drawing each latency function once. */
  delayFor(method: string): number {
    let delay = draw(this.latencyMs);
    for (const [rule, latency] of this.latencyByMethod) if (matches(rule, method)) delay += draw(latency);
    return delay;
  }

  /** @internal The error to answer this call with, if a rule claims it. */
  takeFailure(method: string): ConnectError | undefined {
    const applicable = this.failures.filter((r) => matches(r.method, method));
    let chosen = applicable.find((r) => r.hit === undefined && r.remaining > 0);
    if (chosen) chosen.remaining -= 1;
    for (const r of applicable) {
      if (r.hit?.() && !chosen) chosen = r;
    }
    if (!chosen) return undefined;
    const metadata =
      chosen.retryAfterSeconds === undefined
        ? undefined
        : { 'retry-after': String(Math.ceil(chosen.retryAfterSeconds)) };
    return new ConnectError(chosen.message, chosen.code, metadata);
  }

  /** @internal Whether to drop this call's connection, and when. */
  takeDrop(method: string): Drop | undefined {
    const found = this.drops.find((r) => r.remaining > 0 && matches(r.method, method));
    if (!found) return undefined;
    found.remaining -= 1;
    return { when: found.afterHandling ? 'after' : 'before', mode: found.mode };
  }

  /** @internal Whether to send GOAWAY on this call's session, and whether it refuses the call. */
  takeGoAway(method: string): { refuse: boolean } | undefined {
    const found = this.goAways.find((r) => r.remaining > 0 && matches(r.method, method));
    if (!found) return undefined;
    found.remaining -= 1;
    return { refuse: found.refuse };
  }
}

function rule(code: Code, message: string | undefined, options: FailOptions, remaining: number): FailRule {
  return {
    code,
    message: message ?? defaultFaultMessage(code),
    method: options.method,
    retryAfterSeconds: options.retryAfterSeconds,
    remaining,
  };
}

function draw(latency: Latency): number {
  return typeof latency === 'function' ? Math.max(0, latency()) : latency;
}
