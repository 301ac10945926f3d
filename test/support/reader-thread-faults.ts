/**
 * A reader thread that fails on purpose, for the tests of `ReaderThreads`: it parses segments as
 * the real one does, but throws on the third segment it is sent (seq 2), or, with `?exit=1` in its
 * URL, ends the thread with exit code 3 at the first.
 */
import { parentPort } from 'node:worker_threads';
import { parseSegment } from '../../src/pipeline/precomputed/parse-segment.js';
import type { SegmentTask } from '../../src/pipeline/precomputed/protocol.js';

const exit = new URL(import.meta.url).searchParams.get('exit') === '1';
parentPort?.on('message', (task: SegmentTask) => {
  if (exit) process.exit(3);
  if (task.seq === 2) throw new Error('segment 2 is cursed');
  const result = parseSegment(task);
  parentPort?.postMessage(result, result.points ? [result.points, result.input] : [result.input]);
});
