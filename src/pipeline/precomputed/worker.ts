/**
 * A reader thread, started by `ReaderThreads`: each message is a segment of JSONL lines, answered
 * with what `parseSegment` makes of it. An exception ends the thread, which the pool reports as a
 * fatal error of the read.
 */
import { parentPort } from 'node:worker_threads';
import { parseSegment } from './parse-segment.js';
import type { SegmentTask } from './protocol.js';

const port = parentPort;
if (port) {
  port.on('message', (task: SegmentTask) => {
    const result = parseSegment(task);
    const transfer = result.points ? [result.points, result.input] : [result.input];
    port.postMessage(result, transfer);
  });
}
