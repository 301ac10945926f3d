import { describe, expect, it } from 'vitest';
import { prefetched } from '../../src/pipeline/prefetch.js';

const turns = async (n = 10) => {
  for (let i = 0; i < n; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

describe('prefetched', () => {
  it('produces ahead of the consumer while what waits weighs less than the budget', async () => {
    const produced: number[] = [];
    async function* source() {
      for (const weight of [0.1, 0.2, 0.4, 1, 1, 1]) {
        produced.push(weight);
        yield weight;
      }
    }
    const iterator = prefetched(source(), { weight: (weight) => weight, budget: 1 })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe(0.1);
    await turns();
    // 0.2 + 0.4 wait below the budget, so the full group after them is made too; then it stops.
    expect(produced).toEqual([0.1, 0.2, 0.4, 1]);
    await iterator.next();
    await iterator.next();
    await turns();
    expect(produced).toEqual([0.1, 0.2, 0.4, 1]);
    expect((await iterator.next()).value).toBe(1);
    await turns();
    // One full group ahead, as before the small ones: never more.
    expect(produced).toEqual([0.1, 0.2, 0.4, 1, 1]);
    const rest: number[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    expect(rest).toEqual([1, 1]);
  });

  it('keeps one element ahead by default', async () => {
    let produced = 0;
    async function* source() {
      for (let i = 0; i < 5; i += 1) {
        produced += 1;
        yield i;
      }
    }
    const iterator = prefetched(source())[Symbol.asyncIterator]();
    await iterator.next();
    await turns();
    expect(produced).toBe(2);
  });

  it('raises a source error when the consumer reaches it, after what came before', async () => {
    async function* source() {
      yield 1;
      yield 2;
      throw new Error('manifests unreadable');
    }
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const value of prefetched(source(), { budget: 5 })) seen.push(value);
      })(),
    ).rejects.toThrow('manifests unreadable');
    expect(seen).toEqual([1, 2]);
  });

  it('closes the source when the consumer stops early', async () => {
    let closed = false;
    async function* source() {
      try {
        for (let i = 0; ; i += 1) yield i;
      } finally {
        closed = true;
      }
    }
    for await (const value of prefetched(source(), { budget: 3 })) {
      if (value === 1) break;
    }
    expect(closed).toBe(true);
  });
});
