import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { watchForClosedPipe } from '../../src/ui/closed-pipe.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`write ${code}`), { code });
}

describe('watchForClosedPipe', () => {
  it('reports EPIPE on any watched stream instead of letting it crash the process', () => {
    const stdout = new EventEmitter();
    const stderr = new EventEmitter();
    const onClosed = vi.fn();
    watchForClosedPipe([stdout, stderr], onClosed);
    stderr.emit('error', errno('EPIPE'));
    expect(onClosed).toHaveBeenCalledWith(stderr);
  });

  it('rethrows any other stream error: it is not the reader closing early', () => {
    const stdout = new EventEmitter();
    const onClosed = vi.fn();
    watchForClosedPipe([stdout], onClosed);
    expect(() => stdout.emit('error', errno('EIO'))).toThrow('write EIO');
    expect(onClosed).not.toHaveBeenCalled();
  });

  it('stops watching when disposed', () => {
    const stdout = new EventEmitter();
    const dispose = watchForClosedPipe([stdout], vi.fn());
    dispose();
    expect(stdout.listenerCount('error')).toBe(0);
  });
});
