import { describe, expect, it } from 'vitest';
import { EndpointPool } from '../../src/embed/endpoint-pool.js';
import type { TeiEndpoint } from '../../src/embed/tei-http.js';
import { ServiceError, UsageError } from '../../src/errors.js';
import { BatchBuilder } from '../../src/pipeline/batch-builder.js';
import { type RetryEvent, withRetry } from '../../src/pipeline/retry.js';

const fast = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 4 };
const transient = () =>
  new ServiceError('qdrant', 'http://q', 'UNAVAILABLE', { code: 'UNAVAILABLE', retryable: true });

describe('withRetry', () => {
  it('retries transient service errors until the operation succeeds', async () => {
    const events: RetryEvent[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw transient();
        return 'ok';
      },
      fast,
      { onRetry: (event) => events.push(event) },
    );
    expect(result).toBe('ok');
    expect(events.map((event) => event.attempt)).toEqual([1, 2]);
  });

  it('gives up after maxRetries and rethrows the last error', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls += 1;
        throw transient();
      }, fast),
    ).rejects.toThrow('UNAVAILABLE');
    expect(calls).toBe(4);
  });

  it('never retries bad input or errors that are not service errors', async () => {
    for (const error of [
      new ServiceError('qdrant', 'http://q', 'bad', { code: 'INVALID_ARGUMENT', retryable: false }),
      new UsageError('no'),
      new TypeError('bug'),
    ]) {
      let calls = 0;
      await expect(
        withRetry(async () => {
          calls += 1;
          throw error;
        }, fast),
      ).rejects.toBe(error);
      expect(calls).toBe(1);
    }
  });

  it('waits at least the retry-after the server asked for', async () => {
    const events: RetryEvent[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        calls += 1;
        if (calls === 1)
          throw new ServiceError('qdrant', 'u', 'limit', { retryable: true, retryAfterMs: 30 });
      },
      fast,
      { onRetry: (event) => events.push(event) },
    );
    expect(events[0]!.delayMs).toBe(30);
  });

  it('backs off exponentially with jitter, capped', async () => {
    const delays: number[] = [];
    await expect(
      withRetry(
        async () => {
          throw transient();
        },
        { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 400 },
        { onRetry: (event) => delays.push(event.delayMs), random: () => 1 },
      ).catch((error) => {
        throw error;
      }),
    ).rejects.toThrow();
    // random() = 1 gives the ceiling itself; the sleeps are real but short enough.
    expect(delays).toEqual([100, 200, 400, 400, 400]);
  }, 10_000);
});

describe('BatchBuilder', () => {
  it('closes a batch before the item that would break a limit', () => {
    const builder = new BatchBuilder<string>({ maxInputs: 3, maxTokens: 10, maxBytes: 100 });
    expect(builder.add('a', 4, 1)).toBeUndefined();
    expect(builder.add('b', 4, 1)).toBeUndefined();
    expect(builder.add('c', 4, 1)).toEqual(['a', 'b']);
    expect(builder.add('d', 1, 1)).toBeUndefined();
    expect(builder.add('e', 1, 1)).toBeUndefined();
    expect(builder.add('f', 1, 1)).toEqual(['c', 'd', 'e']);
    expect(builder.add('g', 1, 100)).toEqual(['f']);
    expect(builder.take()).toEqual(['g']);
    expect(builder.take()).toEqual([]);
  });

  it('lets one oversized item form a batch of its own rather than dropping it', () => {
    const builder = new BatchBuilder<string>({ maxInputs: 10, maxTokens: 10, maxBytes: 100 });
    expect(builder.add('huge', 50, 1)).toBeUndefined();
    expect(builder.add('next', 1, 1)).toEqual(['huge']);
  });
});

describe('EndpointPool', () => {
  const endpoint = (url: string) => ({ url, timeoutMs: 1 }) as TeiEndpoint;

  it('sends each request to the endpoint with the fewest in flight', async () => {
    const pool = new EndpointPool([endpoint('a'), endpoint('b')]);
    const used: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = pool.use(
      async (e) => {
        used.push(e.url);
        await gate;
      },
      () => true,
    );
    await pool.use(
      async (e) => void used.push(e.url),
      () => true,
    );
    release();
    await first;
    expect(used).toEqual(['a', 'b']);
  });

  it('benches a failing endpoint until its time is up', async () => {
    let now = 0;
    const pool = new EndpointPool([endpoint('a'), endpoint('b')], () => now);
    await expect(
      pool.use(
        async () => Promise.reject(new Error('down')),
        () => true,
      ),
    ).rejects.toThrow();
    const used: string[] = [];
    for (let i = 0; i < 3; i += 1)
      await pool.use(
        async (e) => void used.push(e.url),
        () => true,
      );
    expect(used).toEqual(['b', 'b', 'b']);
    now = 1001;
    await pool.use(
      async (e) => void used.push(e.url),
      () => true,
    );
    expect(used.at(-1)).toBe('a');
  });
});
