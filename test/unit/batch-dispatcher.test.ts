import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchDispatcher } from '../../src/pipeline/batch-dispatcher.js';

/** A send the test answers by hand: `sends` holds each batch with its resolve. */
function manualSend() {
  const sends: Array<{ batch: number[]; done: () => void }> = [];
  let running = 0;
  let maxRunning = 0;
  const send = (batch: number[]) =>
    new Promise<void>((resolve) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      sends.push({
        batch,
        done: () => {
          running -= 1;
          resolve();
        },
      });
    });
  return {
    send,
    sends,
    get running() {
      return running;
    },
    get maxRunning() {
      return maxRunning;
    },
  };
}

const limits = (maxInputs: number) => ({ maxInputs, maxTokens: Infinity, maxBytes: Infinity });
/** Lets promise callbacks (p-queue's hand-offs, awaiting producers) run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('BatchDispatcher', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets concurrent producers take freed places one each, never queueing more than `concurrency` batches', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const sink = manualSend();
    const dispatcher = new BatchDispatcher(limits(1), 2, sink.send);
    // Six producers, as the embed stage's sends all feed the upsert stage; each add of a second
    // item hands the first on as a full batch of one.
    let next = 0;
    const producers = Array.from({ length: 6 }, async () => {
      for (let i = 0; i < 3; i += 1) await dispatcher.add(next++, 0, 0);
    });
    let worst = 0;
    for (let round = 0; round < 40; round += 1) {
      await settle();
      // Buffered (at most one item) + queued + running.
      worst = Math.max(worst, dispatcher.pending);
      sink.sends.shift()?.done();
    }
    await Promise.all(producers);
    const finished = dispatcher.finish();
    for (let round = 0; round < 20; round += 1) {
      await settle();
      sink.sends.shift()?.done();
    }
    await finished;
    expect(sink.maxRunning).toBe(2);
    expect(worst).toBeLessThanOrEqual(2 + 2 + 1);
  });

  it('sends a partial batch once nothing has been added for lingerMs and a slot is free', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const sink = manualSend();
    const dispatcher = new BatchDispatcher(limits(100), 2, sink.send, { lingerMs: 200 });
    for (let i = 0; i < 7; i += 1) await dispatcher.add(i, 0, 0);
    await vi.advanceTimersByTimeAsync(150);
    // A steady producer keeps filling the batch: no flush while items keep coming.
    await dispatcher.add(7, 0, 0);
    await vi.advanceTimersByTimeAsync(150);
    expect(sink.sends).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(60);
    expect(sink.sends.map((s) => s.batch)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7]]);
    sink.sends[0]!.done();
    await dispatcher.finish();
  });

  it('holds a lingering partial batch while every slot is busy and sends it when one frees', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const sink = manualSend();
    const dispatcher = new BatchDispatcher(limits(2), 1, sink.send, { lingerMs: 200 });
    // [0, 1] goes at once (a full batch), 2 stays buffered.
    for (let i = 0; i < 3; i += 1) await dispatcher.add(i, 0, 0);
    await settle();
    expect(sink.sends.map((s) => s.batch)).toEqual([[0, 1]]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sink.sends).toHaveLength(1);
    sink.sends.shift()!.done();
    await settle();
    expect(sink.sends.map((s) => s.batch)).toEqual([[2]]);
    sink.sends.shift()!.done();
    await dispatcher.finish();
    expect(dispatcher.pending).toBe(0);
  });

  it('with lingerMs 0, sends what a burst left behind as soon as the burst ends and a slot is free', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const sink = manualSend();
    const dispatcher = new BatchDispatcher(limits(4), 2, sink.send, { lingerMs: 0 });
    for (let i = 0; i < 6; i += 1) await dispatcher.add(i, 0, 0);
    // Adds that follow each other without a turn of the event loop fill batches: no flush between.
    expect(sink.sends.map((s) => s.batch)).toEqual([[0, 1, 2, 3]]);
    await settle();
    expect(sink.sends.map((s) => s.batch)).toEqual([
      [0, 1, 2, 3],
      [4, 5],
    ]);
    for (const send of sink.sends) send.done();
    await dispatcher.finish();
  });

  it('starts more sends at once when its concurrency is raised, and fewer after it is lowered', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const sink = manualSend();
    const dispatcher = new BatchDispatcher(limits(1), 1, sink.send);
    const adding = (async () => {
      for (let i = 0; i < 8; i += 1) await dispatcher.add(i, 0, 0);
    })();
    await settle();
    expect(sink.running).toBe(1);
    expect(dispatcher.backlog).toBe(1);
    dispatcher.concurrency = 3;
    await settle();
    expect(sink.running).toBe(3);
    dispatcher.concurrency = 1;
    for (let round = 0; round < 3; round += 1) {
      sink.sends.shift()?.done();
      await settle();
    }
    expect(sink.running).toBe(1);
    for (let round = 0; round < 20; round += 1) {
      sink.sends.shift()?.done();
      await settle();
    }
    await adding;
    const finished = dispatcher.finish();
    for (let round = 0; round < 5; round += 1) {
      sink.sends.shift()?.done();
      await settle();
    }
    await finished;
    expect(sink.maxRunning).toBe(3);
    expect(dispatcher.pending).toBe(0);
  });

  it('with a sort window, sends batches of similar length and keeps every item', async () => {
    const sent: number[][] = [];
    const dispatcher = new BatchDispatcher(
      limits(2),
      4,
      async (batch: number[]) => {
        sent.push(batch);
      },
      { sortWindow: 4 },
    );
    for (const tokens of [90, 10, 80, 20, 70, 30]) await dispatcher.add(tokens, tokens, 0);
    await dispatcher.finish();
    expect(sent).toEqual([
      [10, 20],
      [90, 80],
      [70, 30],
    ]);
  });

  it('after a fatal error, hands back every item of a sorted window, the batches it never reached too', async () => {
    const sends: Array<(error: Error) => void> = [];
    const dispatcher = new BatchDispatcher<number>(
      limits(2),
      1,
      () => new Promise<void>((_, reject) => sends.push(reject)),
      { sortWindow: 14 },
    );
    // One window: six batches go out one by one behind the single place, the seventh is kept.
    const added = Promise.allSettled(Array.from({ length: 14 }, (_, i) => dispatcher.add(i, i, 0)));
    for (let round = 0; round < 10; round += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      sends.shift()?.(new Error('TEI is gone'));
    }
    expect((await added).some((outcome) => outcome.status === 'rejected')).toBe(true);
    await expect(dispatcher.finish()).rejects.toThrow('TEI is gone');
    expect(dispatcher.takeUnsent().sort((a, b) => a - b)).toEqual(Array.from({ length: 14 }, (_, i) => i));
  });

  it('refuses a negative lingerMs with the usual message', () => {
    expect(() => new BatchDispatcher(limits(1), 1, async () => {}, { lingerMs: -1 })).toThrow(
      'Expected `lingerMs` to be a non-negative number, got `-1`',
    );
  });
});
