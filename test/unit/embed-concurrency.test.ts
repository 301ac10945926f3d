import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrency } from '../../src/pipeline/embed-concurrency.js';

/** Answers one whole round at the current limit, each with this queue time and backlog. */
function round(controller: AdaptiveConcurrency, queueMs: number | undefined, backlog = true): void {
  const tag = controller.round;
  const answers = controller.limit;
  for (let i = 0; i < answers; i += 1) controller.observe({ round: tag, queueMs, backlog });
}

describe('AdaptiveConcurrency', () => {
  it('raises the limit one round at a time while the queue runs short and batches wait for a place', () => {
    const changes: number[] = [];
    const controller = new AdaptiveConcurrency({
      initial: 4,
      max: 16,
      onChange: (limit) => changes.push(limit),
    });
    expect(controller.limit).toBe(4);
    for (let i = 0; i < 3; i += 1) round(controller, 60);
    expect(changes).toEqual([5, 6, 7]);
    // Enough queued now: it holds.
    round(controller, 150);
    round(controller, 300);
    expect(controller.limit).toBe(7);
  });

  it('raises by a quarter while the queue is all but empty, to reach a fast GPU in a few rounds', () => {
    const changes: number[] = [];
    const controller = new AdaptiveConcurrency({
      initial: 4,
      max: 64,
      onChange: (limit) => changes.push(limit),
    });
    for (let i = 0; i < 5; i += 1) round(controller, 5);
    expect(changes).toEqual([5, 7, 9, 12, 15]);
  });

  it('never raises when nothing waited for a place: the producer, not the limit, is short', () => {
    const controller = new AdaptiveConcurrency({ initial: 4, max: 16 });
    for (let i = 0; i < 5; i += 1) round(controller, 0, false);
    expect(controller.limit).toBe(4);
  });

  it('decides on the median of a round, so one odd answer does not move it', () => {
    const controller = new AdaptiveConcurrency({ initial: 4, max: 16 });
    const tag = controller.round;
    for (const queueMs of [900, 40, 50, 60]) controller.observe({ round: tag, queueMs, backlog: true });
    expect(controller.limit).toBe(5);
  });

  it('stops at the most the server admits', () => {
    const controller = new AdaptiveConcurrency({ initial: 4, max: 6 });
    for (let i = 0; i < 10; i += 1) round(controller, 0);
    expect(controller.limit).toBe(6);
  });

  it('comes back down while the queue stays long, but not below where it started', () => {
    const controller = new AdaptiveConcurrency({ initial: 4, max: 16 });
    for (let i = 0; i < 4; i += 1) round(controller, 50);
    expect(controller.limit).toBe(8);
    for (let i = 0; i < 10; i += 1) round(controller, 2000);
    expect(controller.limit).toBe(4);
  });

  it('ignores answers to requests sent under an earlier limit', () => {
    const controller = new AdaptiveConcurrency({ initial: 2, max: 16 });
    const stale = controller.round;
    round(controller, 50);
    expect(controller.limit).toBe(3);
    for (let i = 0; i < 10; i += 1) controller.observe({ round: stale, queueMs: 50, backlog: true });
    expect(controller.limit).toBe(3);
  });

  it('holds without queue times: a server that does not report them gives no signal', () => {
    const controller = new AdaptiveConcurrency({ initial: 4, max: 16 });
    for (let i = 0; i < 5; i += 1) round(controller, undefined);
    expect(controller.limit).toBe(4);
  });

  it('halves on a 429 once per round, below its floor if need be, and never climbs back to where it came', () => {
    const controller = new AdaptiveConcurrency({ initial: 4, max: 16 });
    for (let i = 0; i < 6; i += 1) round(controller, 50);
    expect(controller.limit).toBe(10);
    const tag = controller.round;
    controller.overloaded(tag);
    controller.overloaded(tag);
    expect(controller.limit).toBe(5);
    for (let i = 0; i < 10; i += 1) round(controller, 50);
    expect(controller.limit).toBe(9);
    controller.overloaded(controller.round);
    controller.overloaded(controller.round);
    controller.overloaded(controller.round);
    expect(controller.limit).toBe(1);
  });

  it('checks its options with the usual message', () => {
    expect(() => new AdaptiveConcurrency({ initial: 0, max: 4 })).toThrow(
      'Expected `initial` to be a positive integer, got `0`',
    );
    expect(() => new AdaptiveConcurrency({ initial: 4, max: 8, lowQueueMs: 50, highQueueMs: 50 })).toThrow(
      'Expected `highQueueMs` (50) to be above `lowQueueMs` (50), both non-negative',
    );
  });
});
