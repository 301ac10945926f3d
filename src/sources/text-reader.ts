import { isUtf8 } from 'node:buffer';
import { readFile, stat } from 'node:fs/promises';
import type { DiscoveredFile } from './discover.js';
import { sourceNameFor } from './discover.js';
import {
  computeDocHash,
  displayPath,
  normaliseText,
  type ReadEvent,
  type SourceProblem,
} from './document.js';
import { binarySniffBytes } from './jsonl-reader.js';

/** Largest Markdown or text file read, in bytes, unless the caller says otherwise. */
export const defaultMaxFileBytes = 64 * 1024 * 1024;

/** The decoded text of a whole file, or why there is none, plus warnings met on the way. */
export interface WholeFile {
  /** Normalised text (no BOM, `\n` line endings); `undefined` when the file is skipped. */
  text: string | undefined;
  problems: SourceProblem[];
}

/**
 * Reads a file whole for the Markdown and text readers. Skips, with a problem: a file over
 * `maxFileBytes` (error), an empty or whitespace-only one (warning), a binary one with NUL bytes in
 * its first 8 KiB (warning), an unreadable one (error). Invalid UTF-8 is decoded with U+FFFD and warned.
 */
export async function readWholeFile(
  file: DiscoveredFile,
  maxFileBytes = defaultMaxFileBytes,
): Promise<WholeFile> {
  const display = displayPath(file.absolute);
  const problems: SourceProblem[] = [];
  const skip = (reason: string, severity: SourceProblem['severity']): WholeFile => {
    problems.push({ file: display, reason, severity });
    return { text: undefined, problems };
  };
  let bytes: Buffer;
  try {
    const { size } = await stat(file.absolute);
    if (size > maxFileBytes)
      return skip(`file is ${size} bytes, over maxFileBytes (${maxFileBytes}); skipped`, 'error');
    bytes = await readFile(file.absolute);
  } catch (error) {
    return skip(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'error');
  }
  if (bytes.length > maxFileBytes) {
    return skip(`file is ${bytes.length} bytes, over maxFileBytes (${maxFileBytes}); skipped`, 'error');
  }
  if (bytes.subarray(0, binarySniffBytes).includes(0))
    return skip('binary file (NUL bytes); skipped', 'warning');
  if (!isUtf8(bytes))
    problems.push({
      file: display,
      reason: 'invalid UTF-8; decoded with replacement characters',
      severity: 'warning',
    });
  const text = normaliseText(bytes.toString('utf8'));
  if (text.trim() === '') return skip('empty file; skipped', 'warning');
  return { text, problems };
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
