import { createReadStream } from 'node:fs';
import type { DiscoveredFile } from './discovered-file.js';
import { sourceNameFor } from './discovered-file.js';
import { displayPath, type ReadEvent, type SourceProblem } from './document.js';
import { parseJsonlLine } from './jsonl-line.js';
import { splitLines } from './line-splitter.js';

export interface JsonlReadOptions {
  /** Text field; `text` (the default) falls back to `content`. */
  textField?: string;
  /** Id field, default `id`. */
  idField?: string;
  /** Longest line kept, in bytes (default 8 MiB); longer lines are reported and skipped unread. */
  maxLineBytes?: number;
}

/** Bytes read from disk at a time: large reads cost far less per byte (64 KiB reads were 4x slower). */
const READ_CHUNK_BYTES = 1024 * 1024;

export const defaultMaxLineBytes = 8 * 1024 * 1024;

/** Bytes looked at for NUL to tell a binary file from text. */
export const binarySniffBytes = 8 * 1024;

/**
 * Streams a JSONL file line by line: one document per object line, problems as events (see
 * `parseJsonlLine`). Memory stays at about `maxLineBytes` plus one 1 MiB read whatever the file's
 * size. A file with NUL bytes in its first 8 KiB is skipped as binary (an error: nothing of it is
 * read); an empty one yields nothing; a read error ends the file with an error problem (the lines
 * before it were read). Reads failed-chunk files too (same shape).
 */
export async function* readJsonlFile(
  file: DiscoveredFile,
  options: JsonlReadOptions = {},
): AsyncGenerator<ReadEvent> {
  const display = displayPath(file.absolute);
  const maxLineBytes = options.maxLineBytes ?? defaultMaxLineBytes;
  const base = {
    source: sourceNameFor(file.root),
    relative: file.relative,
    display,
    textField: options.textField ?? 'text',
    idField: options.idField ?? 'id',
  };
  const problem = (reason: string, severity: SourceProblem['severity'], line?: number): ReadEvent => {
    const entry: SourceProblem = { file: display, reason, severity };
    if (line !== undefined) entry.line = line;
    return { kind: 'problem', problem: entry };
  };

  const stream = createReadStream(file.absolute, { highWaterMark: READ_CHUNK_BYTES });
  let sniffed = 0;
  let binary = false;
  async function* sniffing(): AsyncGenerator<Buffer> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (sniffed < binarySniffBytes) {
        const window = chunk.subarray(0, binarySniffBytes - sniffed);
        sniffed += window.length;
        if (window.includes(0)) {
          binary = true;
          return;
        }
      }
      yield chunk;
    }
  }

  try {
    for await (const raw of splitLines(sniffing(), maxLineBytes)) {
      if (raw.kind === 'too-long') {
        yield problem(
          `line is ${raw.length} bytes, over maxLineBytes (${maxLineBytes}); skipped`,
          'error',
          raw.line,
        );
        continue;
      }
      yield* parseJsonlLine(raw.bytes, { ...base, line: raw.line });
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    yield problem(`cannot read: ${code}; skipped`, 'error');
    return;
  } finally {
    stream.destroy();
  }
  if (binary) yield problem('binary file (NUL bytes); skipped', 'error');
}
