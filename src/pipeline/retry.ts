import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceError } from '../errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt; 0 means one attempt only. */
  maxRetries: number;
  /** First backoff, doubled each retry up to `maxDelayMs`, then jittered. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxRetries: 6, baseDelayMs: 200, maxDelayMs: 10_000 };

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  error: ServiceError;
}

/**
 * Run `operation` until it succeeds, retrying only `ServiceError`s that say the same request may
 * succeed later (overload, unavailability, a lost connection). The delay is exponential with full
 * jitter (half fixed, half random), so that many clients backing off at once do not return in lockstep, and never shorter
 * than the server's own `retry-after`. Anything else (bad input, a bug) is thrown at once.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  options: {
    signal?: AbortSignal;
    onRetry?: (event: RetryEvent) => void;
    random?: () => number;
    /** Narrows what is retried further (a preflight does not wait for a server that is not there). */
    retryIf?: (error: ServiceError) => boolean;
  } = {},
): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!(error instanceof ServiceError) || !error.retryable || attempt >= policy.maxRetries) throw error;
      if (options.retryIf && !options.retryIf(error)) throw error;
      if (options.signal?.aborted) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
      const delayMs = Math.max(error.retryAfterMs ?? 0, Math.round(ceiling / 2 + (random() * ceiling) / 2));
      options.onRetry?.({ attempt: attempt + 1, delayMs, error });
      await sleep(delayMs, undefined, { signal: options.signal }).catch(() => {
        throw error;
      });
    }
  }
}
