import * as path from 'node:path';
import { UsageError } from '../errors.js';
import type { DiscoveredFile } from './discover.js';
import { displayPath, problemEvent, type ReadEvent } from './document.js';
import { defaultMaxLineBytes, readJsonlFile } from './jsonl-reader.js';
import { readMarkdownFile } from './markdown-reader.js';
import { defaultMaxFileBytes, readTextFile } from './text-reader.js';

export interface ReadOptions {
  /** JSONL text field; `text` (the default) falls back to `content`. */
  textField?: string;
  /** JSONL id field, default `id`. */
  idField?: string;
  /** Longest JSONL line kept, in bytes (default 8 MiB). */
  maxLineBytes?: number;
  /** Largest Markdown/text file read whole, in bytes (default 64 MiB). */
  maxFileBytes?: number;
}

const markdownExtensions = new Set(['.md', '.markdown', '.mdx']);
const jsonlExtensions = new Set(['.jsonl', '.ndjson']);

function checkPositiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new UsageError(`Expected \`${name}\` to be a positive integer, got \`${value}\``);
  }
}

function checkField(name: string, value: string | undefined): void {
  if (value !== undefined && value.trim() === '')
    throw new UsageError(`Expected \`${name}\` to be a field name, got \`""\``);
}

/**
 * Reads files in order and yields their documents and problems as they come: `.jsonl`/`.ndjson`
 * streamed line by line, `.md`/`.markdown`/`.mdx` with front matter, anything else (`.txt`, or a
 * file named on the command line) as plain text. A path discovery could not take (`skipReason`)
 * is reported as skipped without being opened. A bad file or line yields a problem and reading
 * goes on. Options are checked before the first file is opened (`UsageError`).
 */
export async function* readDocuments(
  files: Iterable<DiscoveredFile> | AsyncIterable<DiscoveredFile>,
  options: ReadOptions = {},
): AsyncGenerator<ReadEvent> {
  checkPositiveInteger('maxLineBytes', options.maxLineBytes);
  checkPositiveInteger('maxFileBytes', options.maxFileBytes);
  checkField('textField', options.textField);
  checkField('idField', options.idField);
  const jsonlOptions = {
    textField: options.textField ?? 'text',
    idField: options.idField ?? 'id',
    maxLineBytes: options.maxLineBytes ?? defaultMaxLineBytes,
  };
  const wholeOptions = { maxFileBytes: options.maxFileBytes ?? defaultMaxFileBytes };

  for await (const file of files) {
    if (file.skipReason !== undefined) {
      yield problemEvent(displayPath(file.absolute), file.skipReason, 'error');
      continue;
    }
    const extension = path.extname(file.relative).toLowerCase();
    if (jsonlExtensions.has(extension)) yield* readJsonlFile(file, jsonlOptions);
    else if (markdownExtensions.has(extension)) yield* await readMarkdownFile(file, wholeOptions);
    else yield* await readTextFile(file, wholeOptions);
  }
}
