import { type FileHandle, open } from 'node:fs/promises';
import { errorMessage } from '../errors.js';
import type { DiscoveredFile } from './discovered-file.js';
import { sourceNameFor } from './discovered-file.js';
import { displayPath, problemEvent, type ReadEvent } from './document.js';
import { type JsonlLineContext, parseJsonlLine } from './jsonl-line.js';
import { forEachLine, type LineSegment, type SegmentBuffers, segmentLines } from './line-splitter.js';

export interface JsonlReadOptions {
  /** Text field; `text` (the default) falls back to `content`. */
  textField?: string;
  /** Id field, default `id`. */
  idField?: string;
  /** Longest line kept, in bytes (default 8 MiB); longer lines are reported and skipped unread. */
  maxLineBytes?: number;
}

/** Bytes read from disk at a time: large reads cost far less per byte (64 KiB reads were 4x slower). */
export const READ_CHUNK_BYTES = 1024 * 1024;

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
  const context = jsonlContext(file, options);
  const buffers = new RecycledBuffers();
  for await (const segment of readJsonlSegments(file, context, { buffers })) {
    if (segment.kind !== 'lines') {
      yield segmentProblem(context, segment);
      continue;
    }
    const events: ReadEvent[] = [];
    forEachLine(segment, (bytes, line) => {
      context.line = line;
      for (const event of parseJsonlLine(bytes, context)) events.push(event);
    });
    // Everything read from the buffer was copied out (strings, vectors): it can take the next read.
    buffers.give(segment.bytes);
    yield* events;
  }
}

/** How to read the lines of one JSONL file: `line` is set for each line in turn. */
export interface JsonlFileContext extends JsonlLineContext {
  maxLineBytes: number;
}

export function jsonlContext(file: DiscoveredFile, options: JsonlReadOptions): JsonlFileContext {
  return {
    source: sourceNameFor(file.root),
    relative: file.relative,
    display: displayPath(file.absolute),
    line: 0,
    textField: options.textField ?? 'text',
    idField: options.idField ?? 'id',
    maxLineBytes: options.maxLineBytes ?? defaultMaxLineBytes,
  };
}

/** A problem of the file rather than of a line it holds. */
export type FileProblem = { kind: 'problem'; reason: string };

/**
 * The file's lines cut into segments (see `segmentLines`), reading `segmentBytes` at a time; a
 * file that cannot be opened or read ends with a `problem` after whatever was read.
 */
export async function* readJsonlSegments(
  file: DiscoveredFile,
  context: JsonlFileContext,
  options: { buffers?: SegmentBuffers; segmentBytes?: number } = {},
): AsyncGenerator<LineSegment | FileProblem> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file.absolute, 'r');
    const fd = handle;
    yield* segmentLines(
      (into, offset, length) => fd.read(into, offset, length, null).then((r) => r.bytesRead),
      {
        maxLineBytes: context.maxLineBytes,
        segmentBytes: options.segmentBytes ?? READ_CHUNK_BYTES,
        sniffBytes: binarySniffBytes,
        buffers: options.buffers,
      },
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? errorMessage(error);
    yield { kind: 'problem', reason: `cannot read: ${code}; skipped` };
  } finally {
    await handle?.close();
  }
}

/** The event of a segment that holds no lines to parse. */
export function segmentProblem(
  context: JsonlFileContext,
  segment: Exclude<LineSegment, { kind: 'lines' }> | FileProblem,
): ReadEvent {
  switch (segment.kind) {
    case 'too-long':
      return problemEvent(
        context.display,
        `line is ${segment.length} bytes, over maxLineBytes (${context.maxLineBytes}); skipped`,
        'error',
        { line: segment.line },
      );
    case 'binary':
      return problemEvent(context.display, 'binary file (NUL bytes); skipped', 'error');
    case 'problem':
      return problemEvent(context.display, segment.reason, 'error');
  }
}

/** Read buffers handed back once their lines are parsed, so that a file is read into a few of them. */
export class RecycledBuffers implements SegmentBuffers {
  private readonly free: ArrayBuffer[] = [];

  constructor(private readonly keep = 4) {}

  take(size: number): Uint8Array {
    const index = this.free.findIndex((buffer) => buffer.byteLength >= size);
    if (index !== -1) return new Uint8Array(this.free.splice(index, 1)[0]!);
    return new Uint8Array(new ArrayBuffer(size));
  }

  give(bytes: Uint8Array): void {
    const buffer = bytes.buffer as ArrayBuffer;
    if (buffer.byteLength > 0 && this.free.length < this.keep) this.free.push(buffer);
  }
}
