/** One line of a byte stream: its bytes (without the `\n`), or only its length when it was too long to keep. */
export type RawLine =
  | { kind: 'line'; line: number; bytes: Buffer }
  | { kind: 'too-long'; line: number /** bytes seen, without the `\n` */; length: number };

const EMPTY = Buffer.alloc(0);

/**
 * Splits a byte stream on `\n` without decoding it. A line longer than `maxLineBytes` is never held
 * whole: once it passes the limit its bytes are dropped as they arrive until the next `\n`, and it is
 * reported as `too-long`. Memory is bounded by `maxLineBytes` plus one stream chunk. A `\r` before
 * the `\n` stays in the bytes; a last line without `\n` is still a line; line numbers start at 1.
 */
export async function* splitLines(
  chunks: AsyncIterable<Buffer>,
  maxLineBytes: number,
): AsyncGenerator<RawLine> {
  let parts: Buffer[] = [];
  let held = 0;
  let discarding = false;
  let length = 0;
  let line = 1;

  const take = (): RawLine => {
    const result: RawLine = discarding
      ? { kind: 'too-long', line, length }
      : {
          kind: 'line',
          line,
          bytes: parts.length === 1 ? parts[0]! : parts.length === 0 ? EMPTY : Buffer.concat(parts, held),
        };
    parts = [];
    held = 0;
    discarding = false;
    length = 0;
    line++;
    return result;
  };

  for await (const chunk of chunks) {
    let start = 0;
    while (start <= chunk.length) {
      const newline = chunk.indexOf(10, start);
      const end = newline === -1 ? chunk.length : newline;
      const size = end - start;
      length += size;
      if (!discarding && size > 0) {
        if (held + size > maxLineBytes) {
          discarding = true;
          parts = [];
          held = 0;
        } else {
          parts.push(chunk.subarray(start, end));
          held += size;
        }
      }
      if (newline === -1) break;
      yield take();
      start = newline + 1;
    }
  }
  if (length > 0) yield take();
}
