import type { DiscoveredFile } from './discovered-file.js';
import type { ReadEvent } from './document.js';

/** Options every reader gets, resolved (defaults filled in and checked) by `readDocuments`. */
export interface ReaderOptions {
  /** JSONL text field; `text` falls back to `content`. */
  textField: string;
  /** JSONL id field. */
  idField: string;
  /** Longest JSONL line kept, in bytes. */
  maxLineBytes: number;
  /** Largest file read whole (Markdown, HTML, text), in bytes. */
  maxFileBytes: number;
}

/**
 * Reads one file into events (see `ReadEvent` for what each must say). A reader never throws for
 * bad input: it reports a problem and returns, so that reading goes on with the next file.
 */
export type ReadFunction = (
  file: DiscoveredFile,
  options: ReaderOptions,
) => AsyncIterable<ReadEvent> | Promise<readonly ReadEvent[]>;

/** One kind of source file: what it is called, the extensions it owns, and where its reader is. */
export interface SourceType {
  /** Its name in help text and docs. */
  name: string;
  /** Lower-case extensions with their dot. Folders are searched for all of them unless `ingest.include` says otherwise. */
  extensions: readonly string[];
  /**
   * The reader, imported on first use: listing the types (for the config's defaults and the
   * CLI's help, on every start) then loads no parser, which would add tens of milliseconds.
   */
  load: () => Promise<ReadFunction>;
}

/**
 * Every source type taboot reads. Adding one is a reader file exporting a {@link ReadFunction}
 * plus one entry here; discovery's default globs, the config default and `--include`'s help follow.
 */
export const sourceTypes: readonly SourceType[] = [
  {
    name: 'Markdown',
    extensions: ['.md', '.markdown', '.mdx'],
    load: async () => (await import('./markdown-reader.js')).readMarkdownFile,
  },
  {
    name: 'JSONL',
    extensions: ['.jsonl', '.ndjson'],
    load: async () => (await import('./jsonl-reader.js')).readJsonlFile,
  },
  {
    name: 'HTML',
    extensions: ['.html', '.htm'],
    load: async () => (await import('./html-reader.js')).readHtmlFile,
  },
  { name: 'text', extensions: ['.txt'], load: async () => (await import('./text-reader.js')).readTextFile },
];

/** A file whose extension no type owns (named on the command line, or matched by a custom glob) is read as text. */
const fallbackType = sourceTypes.find((type) => type.name === 'text')!;

/** Globs a folder is searched with unless the config says otherwise: one per extension of every type. */
export const defaultInclude: readonly string[] = sourceTypes.flatMap((type) =>
  type.extensions.map((extension) => `**/*${extension}`),
);

/** Every extension a type owns, without its dot (`md`, `jsonl`, ...): the default of `--include`, in words. */
export const knownExtensions: readonly string[] = sourceTypes.flatMap((type) =>
  type.extensions.map((extension) => extension.slice(1)),
);

/** The type that reads `relative`, by its extension (case-insensitive). */
export function sourceTypeFor(relative: string): SourceType {
  const dot = relative.lastIndexOf('.');
  const extension = dot > relative.lastIndexOf('/') ? relative.slice(dot).toLowerCase() : '';
  return sourceTypes.find((type) => type.extensions.includes(extension)) ?? fallbackType;
}
