import { describe, expect, it } from 'vitest';
import { DeadlineError, withDeadline } from '../../src/gpu/deadline.js';

describe('withDeadline', () => {
  it('passes the result through when the task answers in time', async () => {
    await expect(withDeadline('x', 1000, async () => 42)).resolves.toBe(42);
  });

  it('rejects with the source named and aborts the task signal when the task never answers', async () => {
    let seen: AbortSignal | undefined;
    const result = withDeadline('TEI at http://tei', 20, (signal) => {
      seen = signal;
      return new Promise(() => {});
    });
    await expect(result).rejects.toThrow(new DeadlineError('TEI at http://tei did not answer within 20 ms'));
    expect(seen?.aborted).toBe(true);
  });

  it('stops at once when the caller aborts, with the caller reason', async () => {
    const parent = new AbortController();
    const result = withDeadline('x', 60_000, () => new Promise(() => {}), parent.signal);
    parent.abort(new Error('interrupted by SIGINT'));
    await expect(result).rejects.toThrow('interrupted by SIGINT');
  });

  it('does not start a task whose caller has already given up', async () => {
    const parent = new AbortController();
    parent.abort(new Error('gone'));
    let started = false;
    await expect(
      withDeadline(
        'x',
        60_000,
        async () => {
          started = true;
        },
        parent.signal,
      ),
    ).rejects.toThrow('gone');
    expect(started).toBe(false);
  });
});
