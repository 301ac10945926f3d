/**
 * What a byte stream is cut into: runs of whole lines, a line too long to keep (only its length),
 * or, when the head of the stream holds a NUL byte, the verdict that it is binary (nothing else is
 * yielded for it).
 */
export type LineSegment =
  | {
      kind: 'lines';
      /** Number of the segment's first line (from 1). */
      firstLine: number;
      /**
       * Whole lines, each ending in `\n` except a last line without one at the end of the stream.
       * A view from offset 0 of a buffer that holds nothing else the splitter still needs, so it
       * can be transferred to a worker or handed back to `buffers` once read.
       */
      bytes: Uint8Array;
    }
  | { kind: 'too-long'; line: number /** bytes of the line, without its `\n` */; length: number }
  | { kind: 'binary' };

/** Reads up to `length` bytes into `into` at `offset`; resolves with 0 at the end of the stream. */
export type ReadInto = (into: Uint8Array, offset: number, length: number) => Promise<number>;

/** Where segment buffers come from: a caller may recycle the buffers of segments it is done with. */
export interface SegmentBuffers {
  /** A buffer of at least `size` bytes over an `ArrayBuffer` of its own (so that it can be transferred). */
  take(size: number): Uint8Array;
}

export interface SegmentOptions {
  /** Longer lines are reported as `too-long` and never held whole. */
  maxLineBytes: number;
  /** Bytes read at a time: a segment holds about this much (more when one line is longer). */
  segmentBytes: number;
  /** A NUL byte in the stream's first `sniffBytes` bytes makes it `binary`. 0: never sniffed. */
  sniffBytes?: number;
  buffers?: SegmentBuffers;
}

const freshBuffers: SegmentBuffers = { take: (size) => new Uint8Array(new ArrayBuffer(size)) };

/**
 * Cuts a byte stream into segments of whole lines without decoding it. Each read of about
 * `segmentBytes` gives one segment of the lines it completes, in the buffer it was read into; only
 * the unfinished last line is copied on, into the next buffer. So per line the splitter does no
 * more than find its `\n`, and a segment can go to another thread whole. A line longer than
 * `maxLineBytes` is dropped as it arrives and reported by its length, so memory stays within
 * `maxLineBytes` plus a read. A `\r` before the `\n` stays in the bytes; a last line without `\n`
 * is still a line; an empty stream yields nothing.
 */
export async function* segmentLines(read: ReadInto, options: SegmentOptions): AsyncGenerator<LineSegment> {
  const { maxLineBytes, segmentBytes } = options;
  const buffers = options.buffers ?? freshBuffers;
  const sniffBytes = options.sniffBytes ?? 0;
  let buffer = buffers.take(segmentBytes);
  /** Bytes in `buffer`; lines before `lineStart` are whole, the rest is the line in progress. */
  let held = 0;
  let lineStart = 0;
  /** Bytes of `buffer` already searched for `\n`. */
  let scanned = 0;
  /** Number of the line at `buffer[0]`, and of the line in progress. */
  let firstLine = 1;
  let line = 1;
  /** Length so far of a too-long line being dropped; -1 when none is. */
  let skipping = -1;
  let total = 0;
  let sniffed = sniffBytes === 0;

  for (;;) {
    if (held === buffer.length) {
      // The line in progress fills the buffer (it is at most `maxLineBytes`): make room.
      const larger = buffers.take(buffer.length * 2);
      larger.set(buffer.subarray(0, held));
      buffer = larger;
    }
    const n = await read(buffer, held, buffer.length - held);
    if (!sniffed) {
      const head = buffer.subarray(held, held + Math.min(n, sniffBytes - total));
      if (head.includes(0)) {
        yield { kind: 'binary' };
        return;
      }
      sniffed = n === 0 || total + n >= sniffBytes;
    }
    total += n;
    const end = n === 0;
    if (skipping >= 0 && !end) {
      const newline = buffer.subarray(held, held + n).indexOf(10);
      if (newline === -1) {
        skipping += n;
        continue;
      }
      yield { kind: 'too-long', line, length: skipping + newline };
      skipping = -1;
      line += 1;
      firstLine = line;
      buffer.copyWithin(0, held + newline + 1, held + n);
      held = n - newline - 1;
      scanned = 0;
    } else {
      held += n;
    }
    // Nothing leaves before the head of the stream is known not to be binary.
    if (!sniffed) continue;

    let view = buffer.subarray(0, held);
    for (let newline = view.indexOf(10, scanned); newline !== -1; newline = view.indexOf(10, scanned)) {
      if (newline - lineStart <= maxLineBytes) {
        lineStart = newline + 1;
        scanned = lineStart;
        line += 1;
        continue;
      }
      // A whole line over the limit inside the buffer: the lines before it, then it, then go on after it.
      if (lineStart > 0) yield { kind: 'lines', firstLine, bytes: copyOf(buffers, buffer, lineStart) };
      yield { kind: 'too-long', line, length: newline - lineStart };
      buffer.copyWithin(0, newline + 1, held);
      held -= newline + 1;
      view = buffer.subarray(0, held);
      lineStart = 0;
      scanned = 0;
      line += 1;
      firstLine = line;
    }
    scanned = held;
    if (skipping < 0 && held - lineStart > maxLineBytes) {
      skipping = held - lineStart;
      held = lineStart;
    }
    if (end) {
      // Whole lines and a last one without `\n`, or the too-long last line after them.
      if (held > 0) yield { kind: 'lines', firstLine, bytes: buffer.subarray(0, held) };
      if (skipping >= 0) yield { kind: 'too-long', line, length: skipping };
      return;
    }
    if (lineStart > 0) {
      // The whole lines leave in this buffer; the line in progress moves to a fresh one.
      const rest = held - lineStart;
      // A short rest fits a buffer of the usual size (so buffers can be recycled); a long one gets room to grow.
      const next = buffers.take(rest <= segmentBytes / 4 ? segmentBytes : rest + segmentBytes);
      next.set(buffer.subarray(lineStart, held));
      const lines = buffer.subarray(0, lineStart);
      buffer = next;
      held = rest;
      scanned = rest;
      lineStart = 0;
      const first = firstLine;
      firstLine = line;
      yield { kind: 'lines', firstLine: first, bytes: lines };
    }
  }
}

function copyOf(buffers: SegmentBuffers, buffer: Uint8Array, length: number): Uint8Array {
  const copy = buffers.take(length).subarray(0, length);
  copy.set(buffer.subarray(0, length));
  return copy;
}

/**
 * Calls `each` with every line of a `lines` segment (bytes without the `\n`) and its number. Blank
 * lines are passed too: they count.
 */
export function forEachLine(
  segment: { firstLine: number; bytes: Uint8Array },
  each: (bytes: Buffer, line: number) => void,
): void {
  const bytes = Buffer.from(segment.bytes.buffer, segment.bytes.byteOffset, segment.bytes.byteLength);
  let line = segment.firstLine;
  let start = 0;
  while (start < bytes.length) {
    const newline = bytes.indexOf(10, start);
    const end = newline === -1 ? bytes.length : newline;
    each(bytes.subarray(start, end), line);
    line += 1;
    start = end + 1;
  }
}
