import { isUtf8 } from 'node:buffer';
import { readFile, stat } from 'node:fs/promises';
import { errorMessage } from '../errors.js';
import type { DiscoveredFile } from './discovered-file.js';
import { sourceNameFor } from './discovered-file.js';
import {
  computeDocHash,
  displayPath,
  emptyIfBlank,
  normaliseText,
  type ReadEvent,
  type SourceProblem,
} from './document.js';

/** Largest Markdown, HTML or text file read, in bytes, unless the caller says otherwise. */
export const defaultMaxFileBytes = 64 * 1024 * 1024;

/** The bytes of a whole file, or why there are none. */
export type WholeFileBytes =
  | { bytes: Buffer; problem?: undefined }
  | { bytes?: undefined; problem: SourceProblem };

/**
 * Reads a file whole for the readers that need all of it. Skipped, with an `error` problem: a file
 * over `maxFileBytes`, one that is not a regular file (any more), one that cannot be read, and a
 * binary one (a NUL byte anywhere: text formats never hold one).
 */
export async function readWholeBytes(
  file: DiscoveredFile,
  maxFileBytes = defaultMaxFileBytes,
): Promise<WholeFileBytes> {
  const skip = (reason: string): WholeFileBytes => ({
    problem: { file: displayPath(file.absolute), reason, severity: 'error' },
  });
  const overLimit = (size: number) =>
    skip(`file is ${size} bytes, over maxFileBytes (${maxFileBytes}); skipped`);
  let bytes: Buffer;
  try {
    const stats = await stat(file.absolute);
    if (!stats.isFile()) return skip('not a regular file; skipped');
    if (stats.size > maxFileBytes) return overLimit(stats.size);
    bytes = await readFile(file.absolute);
  } catch (error) {
    return skip(`cannot read: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}; skipped`);
  }
  if (bytes.length > maxFileBytes) return overLimit(bytes.length);
  if (bytes.includes(0)) return skip('binary file (NUL bytes); skipped');
  return { bytes };
}

/** The decoded text of a whole file, or why there is none, plus warnings met on the way. */
export interface WholeFile {
  /** Normalised text (no BOM, `\n` line endings; `''` when blank); `undefined` when the file is skipped. */
  text: string | undefined;
  problems: SourceProblem[];
}

/**
 * Reads and decodes a file whole as UTF-8 (see `readWholeBytes` for what is skipped). Invalid
 * UTF-8 is decoded with U+FFFD and warned about. An empty or blank file is text `''`, not a problem.
 */
export async function readWholeFile(
  file: DiscoveredFile,
  maxFileBytes = defaultMaxFileBytes,
): Promise<WholeFile> {
  const { bytes, problem } = await readWholeBytes(file, maxFileBytes);
  if (problem) return { text: undefined, problems: [problem] };
  return decodeUtf8(bytes, displayPath(file.absolute));
}

/** UTF-8 text, normalised, with a warning when bytes had to be replaced. */
export function decodeUtf8(bytes: Buffer, display: string): WholeFile {
  const problems: SourceProblem[] = [];
  if (!isUtf8(bytes)) {
    problems.push({
      file: display,
      reason: 'invalid UTF-8; decoded with replacement characters',
      severity: 'warning',
    });
  }
  return { text: emptyIfBlank(normaliseText(bytes.toString('utf8'))), problems };
}

/** A plain-text file as one document: docId and file are the relative path, no metadata. */
export async function readTextFile(
  file: DiscoveredFile,
  options: { maxFileBytes?: number } = {},
): Promise<ReadEvent[]> {
  const { text, problems } = await readWholeFile(file, options.maxFileBytes);
  const events: ReadEvent[] = problems.map((problem) => ({ kind: 'problem', problem }));
  if (text === undefined) return events;
  const metadata: Record<string, unknown> = {};
  events.push({
    kind: 'document',
    document: {
      docId: file.relative,
      source: sourceNameFor(file.root),
      file: file.relative,
      text,
      format: 'plain',
      metadata,
      docHash: computeDocHash(text, metadata),
    },
  });
  return events;
}
