import { UsageError } from '../errors.js';
import type { DiscoveredFile } from './discovered-file.js';
import { displayPath, problemEvent, type ReadEvent } from './document.js';
import { defaultMaxLineBytes } from './jsonl-reader.js';
import { type ReaderOptions, type ReadFunction, type SourceType, sourceTypeFor } from './registry.js';
import { defaultMaxFileBytes } from './text-reader.js';

export type ReadOptions = Partial<ReaderOptions>;

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
 * Reads files in order and yields their documents and problems as they come, each file by the
 * reader its extension names in the registry (`sourceTypes`); an unknown extension is read as
 * text. A path discovery could not take (`skipReason`) is reported as skipped without being
 * opened. A bad file or line yields a problem and reading goes on. Options are checked before
 * the first file is opened (`UsageError`).
 */
export async function* readDocuments(
  files: Iterable<DiscoveredFile> | AsyncIterable<DiscoveredFile>,
  options: ReadOptions = {},
): AsyncGenerator<ReadEvent> {
  checkPositiveInteger('maxLineBytes', options.maxLineBytes);
  checkPositiveInteger('maxFileBytes', options.maxFileBytes);
  checkField('textField', options.textField);
  checkField('idField', options.idField);
  const resolved: ReaderOptions = {
    textField: options.textField ?? 'text',
    idField: options.idField ?? 'id',
    maxLineBytes: options.maxLineBytes ?? defaultMaxLineBytes,
    maxFileBytes: options.maxFileBytes ?? defaultMaxFileBytes,
  };
  const loaded = new Map<SourceType, ReadFunction>();

  for await (const file of files) {
    if (file.skipReason !== undefined) {
      yield problemEvent(displayPath(file.absolute), file.skipReason, 'error');
      continue;
    }
    const type = sourceTypeFor(file.relative);
    let read = loaded.get(type);
    if (!read) {
      read = await type.load();
      loaded.set(type, read);
    }
    yield* await read(file, resolved);
  }
}
