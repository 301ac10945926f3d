import { getMaxListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Interrupt, interruptOnSignals, maxListeners } from '../../src/commands/signals.js';

describe('interruptOnSignals', () => {
  let interrupt: Interrupt | undefined;
  afterEach(() => {
    interrupt?.dispose();
    interrupt = undefined;
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('stops at the first signal and cancels what is in flight once the drain time is up', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const onCancel = vi.fn();
    const onFirst = vi.fn();
    interrupt = interruptOnSignals({ drainMs: 5000, onFirst, onCancel });
    process.emit('SIGTERM', 'SIGTERM');
    expect(onFirst).toHaveBeenCalledWith('SIGTERM');
    expect(interrupt.signal.aborted).toBe(true);
    expect(interrupt.received()).toBe('SIGTERM');
    vi.advanceTimersByTime(4999);
    expect(interrupt.cancel.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(interrupt.cancel.aborted).toBe(true);
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(String(interrupt.cancel.reason)).toContain('cancelled after 5000 ms of draining');
  });

  it('takes a listener per request in flight without a leak warning, past 10 of them', () => {
    interrupt = interruptOnSignals({ drainMs: 5000 });
    const warned = vi.fn();
    process.on('warning', warned);
    const listeners = Array.from({ length: 32 }, () => () => {});
    try {
      for (const signal of [interrupt.signal, interrupt.cancel]) {
        expect(getMaxListeners(signal)).toBe(maxListeners);
        for (const listener of listeners) signal.addEventListener('abort', listener);
        for (const listener of listeners) signal.removeEventListener('abort', listener);
      }
    } finally {
      process.off('warning', warned);
    }
    expect(warned).not.toHaveBeenCalled();
  });

  it('never cancels once disposed, nor without a drain time', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const drained = interruptOnSignals({ drainMs: 100 });
    process.emit('SIGINT', 'SIGINT');
    drained.dispose();
    vi.advanceTimersByTime(1000);
    expect(drained.cancel.aborted).toBe(false);
    interrupt = interruptOnSignals();
    process.emit('SIGINT', 'SIGINT');
    vi.advanceTimersByTime(60_000);
    expect(interrupt.signal.aborted).toBe(true);
    expect(interrupt.cancel.aborted).toBe(false);
  });

  it('quits at once on a second signal: its handlers gone, the signal sent again to the default action', () => {
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    const before = process.listenerCount('SIGINT');
    interrupt = interruptOnSignals({ drainMs: 60_000 });
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    process.emit('SIGINT', 'SIGINT');
    expect(kill).not.toHaveBeenCalled();
    process.emit('SIGINT', 'SIGINT');
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGINT');
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('refuses a negative drain time with the usual message', () => {
    expect(() => interruptOnSignals({ drainMs: -1 })).toThrow(
      'Expected `drainMs` to be a non-negative number, got `-1`',
    );
  });
});
