/**
 * Fault injection for the TEI test server. A fault is an action (answer an error status, drop the
 * connection, or answer late) and a rule saying which requests it hits: the next n, every n-th, a
 * seeded share, or those carrying a given input. A rule without `route` applies to POST routes only
 * (embed, rerank, tokenize...), so a client's `/info` or `/health` probe does not use it up; name a
 * route (`'/info'`, `'/health'`) to fault a GET.
 *
 * Every rule that matches a request counts it (so each rule's `every` and `rate` stay independent and
 * seeded runs repeat exactly); the first error or reset rule that fires acts, and every delay rule
 * that fires adds its delay before the request is handled.
 */
import { mulberry32 } from '../../../src/bench/vectors.js';

/** 429/503/424/500 as TEI answers them; 413 and 422 as TEI rejects a body or an input. */
export type FaultStatus = 429 | 503 | 424 | 500 | 413 | 422;

export interface FaultTarget {
  /** Path to match exactly, e.g. `'/embed'` or `'/v1/embeddings'`. */
  route?: string;
}

export interface FailOptions extends FaultTarget {
  /** Adds a `retry-after` header (seconds). TEI itself never sends one. */
  retryAfterSeconds?: number;
}

/** A delay in ms, or a function drawing one from a seeded `random()` in [0, 1) and the hit's number. */
export type Delay = number | ((random: () => number, hit: number) => number);

export type FaultAction =
  | { status: FaultStatus; retryAfterSeconds?: number }
  | { reset: true }
  | { delayMs: Delay };

/** Which matching requests a fault hits. Without `every`, `rate` or `times` it hits every one. */
export interface FaultRule extends FaultTarget {
  /** At most this many hits, then the rule is gone. */
  times?: number;
  /** Hits the n-th, 2n-th, ... matching request. */
  every?: number;
  /** Hits each matching request with this probability, drawn from a PRNG seeded with `seed`. */
  rate?: number;
  /** Default 1. */
  seed?: number;
  /** Only requests with an input (`inputs`, `input`, `texts`, `documents`) for which this is true. */
  input?: (text: string) => boolean;
}

/** What the server does with one request. */
export interface FaultDecision {
  delayMs: number;
  outcome: { status: FaultStatus; retryAfterSeconds: number | undefined } | 'reset' | undefined;
}

interface ActiveRule {
  action: FaultAction;
  rule: FaultRule;
  seen: number;
  hits: number;
  random: () => number;
}

export class TeiFaults {
  /** Extra time each request spends "in inference" after its batch, holding its permits (ms). */
  latencyMs = 0;
  private rules: ActiveRule[] = [];

  constructor(
    private readonly setDown: (down: boolean) => Promise<void>,
    private readonly isDown: () => boolean,
  ) {}

  /** Adds a fault: `action` on the requests `rule` picks, until `reset()` or `rule.times` hits. */
  inject(action: FaultAction, rule: FaultRule = {}): void {
    if (rule.times !== undefined) checkCount('times', rule.times);
    if (rule.every !== undefined) checkCount('every', rule.every);
    if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) {
      throw new TypeError(`Expected \`rate\` to be a number from 0 to 1, got \`${rule.rate}\``);
    }
    if ('delayMs' in action && typeof action.delayMs === 'number' && !(action.delayMs >= 0)) {
      throw new TypeError(`Expected \`delayMs\` to be a non-negative number, got \`${action.delayMs}\``);
    }
    this.rules.push({ action, rule, seen: 0, hits: 0, random: mulberry32(rule.seed ?? 1) });
  }

  /** The next `count` matching requests answer `status` with the server's body for it. */
  failNext(count: number, status: FaultStatus, options: FailOptions = {}): void {
    checkCount('count', count);
    this.inject(failure(status, options), { route: options.route, times: count });
  }

  /** Every `count`-th matching request (the n-th, 2n-th, ...) answers `status`, until `reset()`. */
  failEvery(count: number, status: FaultStatus, options: FailOptions = {}): void {
    checkCount('count', count);
    this.inject(failure(status, options), { route: options.route, every: count });
  }

  /** A seeded share `rate` of matching requests answers `status`, until `reset()`. */
  failRate(rate: number, status: FaultStatus, options: FailOptions & { seed?: number } = {}): void {
    this.inject(failure(status, options), { route: options.route, rate, seed: options.seed });
  }

  /** The next `count` matching requests get their socket destroyed after the body arrives, no reply. */
  resetNext(count: number, options: FaultTarget = {}): void {
    checkCount('count', count);
    this.inject({ reset: true }, { route: options.route, times: count });
  }

  /** Every `count`-th matching request gets its socket destroyed, until `reset()`. */
  resetEvery(count: number, options: FaultTarget = {}): void {
    checkCount('count', count);
    this.inject({ reset: true }, { route: options.route, every: count });
  }

  /** A seeded share `rate` of matching requests gets its socket destroyed, until `reset()`. */
  resetRate(rate: number, options: FaultTarget & { seed?: number } = {}): void {
    this.inject({ reset: true }, { route: options.route, rate, seed: options.seed });
  }

  /** Holds back the answer to the requests `rule` picks (all matching ones by default) by `delayMs`. */
  delay(delayMs: Delay, rule: FaultRule = {}): void {
    this.inject({ delayMs }, rule);
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
    this.rules = [];
    if (this.isDown()) await this.setDown(false);
  }

  /** @internal What to do with this request; counts it against every matching rule. */
  decide(method: string, path: string, inputs: readonly string[]): FaultDecision {
    const decision: FaultDecision = { delayMs: 0, outcome: undefined };
    for (const active of this.rules) {
      const { action, rule } = active;
      if (!matches(rule, method, path, inputs)) continue;
      active.seen += 1;
      const picked =
        (rule.every === undefined || active.seen % rule.every === 0) &&
        (rule.rate === undefined || active.random() < rule.rate);
      if (!picked) continue;
      if ('delayMs' in action) {
        active.hits += 1;
        const delay = action.delayMs;
        decision.delayMs +=
          typeof delay === 'number' ? delay : Math.max(0, delay(active.random, active.hits));
      } else if (decision.outcome === undefined) {
        active.hits += 1;
        decision.outcome =
          'reset' in action
            ? 'reset'
            : { status: action.status, retryAfterSeconds: action.retryAfterSeconds };
      }
    }
    this.rules = this.rules.filter(
      (active) => active.rule.times === undefined || active.hits < active.rule.times,
    );
    return decision;
  }
}

function failure(status: FaultStatus, options: FailOptions): FaultAction {
  return { status, retryAfterSeconds: options.retryAfterSeconds };
}

function matches(rule: FaultRule, method: string, path: string, inputs: readonly string[]): boolean {
  if (rule.route === undefined ? method !== 'POST' : rule.route !== path) return false;
  return rule.input === undefined || inputs.some(rule.input);
}

function checkCount(name: string, count: number): void {
  if (!Number.isInteger(count) || count < 1) {
    throw new TypeError(`Expected \`${name}\` to be a positive integer, got \`${count}\``);
  }
}
