import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { formatLocation } from '../location.js';

/**
 * What a reader says about each input it meets. The rule the pipeline counts by:
 *
 * - Every input met (a file, a JSONL line, a path that discovery found but will not open) ends as
 *   a `document` event or as a problem with `severity: 'error'`: nothing is dropped unsaid.
 * - `error` means skipped: that input (a file, or one line of it) was not ingested. Unreadable,
 *   binary (NUL bytes), over the size limits, a FIFO or socket, a symlink out of the root or to
 *   nowhere, a bad JSONL line (invalid JSON, not an object, no text, a bad id or vector). The
 *   pipeline counts it `skipped` and the run exits 3.
 * - `warning` means ingested anyway, maybe altered: bad UTF-8 replaced with U+FFFD, broken or
 *   oversized front matter ignored, a front matter id that cannot name a document (the path names
 *   it), an unreadable date or an over-deep field dropped. It comes just before the document it
 *   concerns, is counted as a warning and leaves the exit code alone.
 * - An empty document is not a problem: a 0-byte or whitespace-only file, a Markdown file with
 *   nothing after its front matter, an HTML page without text, a JSONL line whose text field is
 *   an empty or blank string. It is yielded as a `document` whose `text` is `''` (its metadata,
 *   docId and title kept), because a document that became empty must still replace its old
 *   chunks; the pipeline counts it `empty`, and it exits 0.
 * - A JSONL file holds no document of its own: a blank line, or a 0-byte file, yields nothing.
 *   A line whose text field is missing or `null` is a bad line (skipped); one whose text is `""`
 *   is an empty document, so a record can say "this document has no text any more".
 * - Two documents with the same docId are both yielded; telling them apart is the pipeline's job.
 */
export type ReadEvent =
  | { kind: 'document'; document: SourceDocument }
  | { kind: 'problem'; problem: SourceProblem };

/** How the chunker should read a document's text. */
export type TextFormat = 'markdown' | 'mdx' | 'plain';

/** One document as read from disk, before chunking. */
export interface SourceDocument {
  /** Front matter `doc_id`/`id`, the JSONL id field, else the file path relative to the ingest root (`#line` added for JSONL). */
  docId: string;
  /** Name of the ingest root (its folder's basename); scopes pruning. */
  source: string;
  /** Path relative to the ingest root, POSIX separators. */
  file: string;
  /** JSONL only: the 1-based line the document came from. */
  line?: number;
  /**
   * Normalised text: no BOM, `\n` line endings; Markdown without its front matter; HTML turned
   * into Markdown. Exactly `''` when the document is empty (blank text is never kept as blanks).
   */
  text: string;
  /**
   * `mdx` for .mdx, `markdown` for Markdown, HTML (read into Markdown) and JSONL (whose text is
   * often Markdown), `plain` for the rest.
   */
  format: TextFormat;
  /**
   * Front matter, HTML `<meta>` fields or the JSONL line's extra fields. `created_at` and `date`
   * are Unix seconds (integers); a document with only `date` also gets `created_at`.
   */
  metadata: Record<string, unknown>;
  /** Front matter `title`, a JSONL `title` field, HTML `<title>`, or the first `# ` heading. */
  title?: string;
  /** A precomputed embedding (JSONL `vector`): the document skips embedding. */
  vector?: Float32Array;
  /** sha256 hex of the text, the metadata (keys sorted) and the vector: equal hashes mean nothing to re-ingest. */
  docHash: string;
}

/** Something wrong with an input; see {@link ReadEvent} for what each severity means to the run. */
export interface SourceProblem {
  /** The file as the user would name it: relative to the working directory when under it, else absolute. */
  file: string;
  /** 1-based line in the file, when known. */
  line?: number;
  /** The field at fault (`text`, `id`, `vector`, `created_at`), when there is one. */
  field?: string;
  reason: string;
  /** `error`: the input (a file or a line) was skipped, not ingested. `warning`: ingested anyway. */
  severity: 'warning' | 'error';
}

/** `file:line: reason`, the one-line shape every problem prints in. */
export function formatProblem(problem: SourceProblem): string {
  return `${formatLocation(problem)}: ${problem.reason}`;
}

/** A path as the user would type it: relative to the working directory when inside it, else absolute. */
export function displayPath(absolute: string, cwd: string = process.cwd()): string {
  const relative = path.relative(cwd, absolute);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return absolute;
  return relative;
}

/** A problem as an event, in the one shape every reader reports with. */
export function problemEvent(
  file: string,
  reason: string,
  severity: SourceProblem['severity'],
  where: { line?: number | undefined; field?: string | undefined } = {},
): ReadEvent {
  const problem: SourceProblem = { file, reason, severity };
  if (where.line !== undefined) problem.line = where.line;
  if (where.field !== undefined) problem.field = where.field;
  return { kind: 'problem', problem };
}

/** `''` for text with nothing but whitespace, so that an empty document always reads `text === ''`. */
export function emptyIfBlank(text: string): string {
  return text.trim() === '' ? '' : text;
}

/** Strips a leading BOM and turns CRLF and lone CR into LF. */
export function normaliseText(text: string): string {
  const withoutBom = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return withoutBom.includes('\r') ? withoutBom.replace(/\r\n?/g, '\n') : withoutBom;
}

/** JSON with object keys sorted at every depth, so equal metadata always serialises the same. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}

/** The document hash: sha256 hex over the normalised text, the sorted-key metadata JSON and the vector's bytes. */
export function computeDocHash(
  text: string,
  metadata: Record<string, unknown>,
  vector?: Float32Array,
): string {
  const hash = createHash('sha256');
  hash.update(text);
  hash.update('\0');
  hash.update(stableStringify(metadata));
  if (vector) {
    hash.update('\0');
    hash.update(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength));
  }
  return hash.digest('hex');
}
