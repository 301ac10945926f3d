import { createHash } from 'node:crypto';
import * as path from 'node:path';

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
  /** Normalised text: no BOM, `\n` line endings; Markdown without its front matter. */
  text: string;
  /** `mdx` for .mdx, `markdown` for .md/.markdown and JSONL (whose text is often Markdown), `plain` for the rest. */
  format: TextFormat;
  /**
   * Front matter or the JSONL line's extra fields. `created_at` and `date` are Unix seconds
   * (integers); a document with only `date` also gets `created_at`.
   */
  metadata: Record<string, unknown>;
  /** Front matter `title`, a JSONL `title` field, or the first `# ` heading. */
  title?: string;
  /** A precomputed embedding (JSONL `vector`): the document skips embedding. */
  vector?: Float32Array;
  /** sha256 hex of the text, the metadata (keys sorted) and the vector: equal hashes mean nothing to re-ingest. */
  docHash: string;
}

/**
 * Something wrong with the input. `error`: the line or file was skipped (the run ends partial);
 * `warning`: it was ingested anyway (maybe altered, e.g. bad UTF-8 replaced), or held nothing to ingest.
 */
export interface SourceProblem {
  /** The file as the user would name it: relative to the working directory when under it, else absolute. */
  file: string;
  /** 1-based line in the file, when known. */
  line?: number;
  /** The field at fault (`text`, `id`, `vector`, `created_at`), when there is one. */
  field?: string;
  reason: string;
  severity: 'warning' | 'error';
}

export type ReadEvent =
  | { kind: 'document'; document: SourceDocument }
  | { kind: 'problem'; problem: SourceProblem };

/** `file:line: reason`, the one-line shape every problem prints in. */
export function formatProblem(problem: SourceProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  return `${where}: ${problem.reason}`;
}

/** A path as the user would type it: relative to the working directory when inside it, else absolute. */
export function displayPath(absolute: string, cwd: string = process.cwd()): string {
  const relative = path.relative(cwd, absolute);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return absolute;
  return relative;
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
