import { parseDocument } from 'yaml';
import { findFirstHeading } from '../chunking/markdown-blocks.js';
import { errorMessage } from '../errors.js';
import type { DiscoveredFile } from './discovered-file.js';
import { sourceNameFor } from './discovered-file.js';
import {
  computeDocHash,
  displayPath,
  emptyIfBlank,
  problemEvent,
  type ReadEvent,
  type SourceDocument,
  type SourceProblem,
} from './document.js';
import { normaliseMetadata, readDocId } from './metadata.js';
import { readWholeFile } from './text-reader.js';

/** Front matter split off a Markdown text. */
export interface FrontMatter {
  /** The YAML between the fences. */
  yaml: string;
  /** 1-based line of the file where the YAML starts (the line after the opening `---`). */
  firstLine: number;
  /** The text after the closing fence. */
  body: string;
}

const openingFence = /^---[ \t]*\n/;
const closingFence = /^(?:---|\.\.\.)[ \t]*$/m;

/**
 * Splits YAML front matter off `text` (LF line endings): a first line `---`, then YAML up to a line
 * `---` or `...`. Without a closing fence there is no front matter (the `---` is a thematic break).
 */
export function splitFrontMatter(text: string): FrontMatter | undefined {
  const open = openingFence.exec(text);
  if (!open) return undefined;
  const rest = text.slice(open[0].length);
  const close = closingFence.exec(rest);
  if (!close) return undefined;
  const afterClose = rest.indexOf('\n', close.index);
  return {
    yaml: rest.slice(0, close.index),
    firstLine: 2,
    body: afterClose === -1 ? '' : rest.slice(afterClose + 1),
  };
}

/**
 * Front matter lands in the payload of every chunk of its document: more than this is a mistake
 * (a closing fence far down the file), not metadata, and is ignored with a warning.
 */
export const maxFrontMatterBytes = 64 * 1024;

/** Parsed front matter fields, or the problem that kept them out. */
export function parseFrontMatter(
  frontMatter: FrontMatter,
  file: string,
): { fields: Record<string, unknown>; problem?: SourceProblem } {
  const ignored = (reason: string): { fields: Record<string, unknown>; problem: SourceProblem } => ({
    fields: {},
    problem: { file, line: frontMatter.firstLine, reason, severity: 'warning' },
  });
  const size = Buffer.byteLength(frontMatter.yaml);
  if (size > maxFrontMatterBytes) {
    return ignored(`front matter is ${size} bytes, over ${maxFrontMatterBytes}; front matter ignored`);
  }
  let document: ReturnType<typeof parseDocument>;
  try {
    document = parseDocument(frontMatter.yaml, { prettyErrors: true });
  } catch (cause) {
    return ignored(`invalid YAML front matter: ${errorMessage(cause)}; front matter ignored`);
  }
  const error = document.errors[0];
  if (error) {
    const yamlLine = error.linePos?.[0]?.line ?? 1;
    const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    return {
      fields: {},
      problem: {
        file,
        line: frontMatter.firstLine + yamlLine - 1,
        reason: `invalid YAML front matter: ${message}; front matter ignored`,
        severity: 'warning',
      },
    };
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    return ignored(`invalid YAML front matter: ${errorMessage(cause)}; front matter ignored`);
  }
  if (value === null || value === undefined) return { fields: {} };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return ignored('front matter is not a mapping of fields; ignored');
  }
  return { fields: value as Record<string, unknown> };
}

/**
 * A Markdown file as one document. Front matter fields become metadata (`doc_id`/`id` becomes the
 * docId instead, else the relative path; dates become Unix seconds); broken YAML is a warning with
 * the file line of the error, and the body is still ingested. The title is front matter `title`,
 * else the first `# ` heading. A file with nothing but front matter is an empty document (text
 * `''`) that keeps its metadata.
 */
export async function readMarkdownFile(
  file: DiscoveredFile,
  options: { maxFileBytes?: number } = {},
): Promise<ReadEvent[]> {
  const { text, problems } = await readWholeFile(file, options.maxFileBytes);
  const events: ReadEvent[] = problems.map((problem) => ({ kind: 'problem', problem }));
  if (text === undefined) return events;
  const display = displayPath(file.absolute);

  let body = text;
  let fields: Record<string, unknown> = {};
  const frontMatter = splitFrontMatter(text);
  if (frontMatter) {
    body = frontMatter.body;
    const parsed = parseFrontMatter(frontMatter, display);
    fields = parsed.fields;
    if (parsed.problem) events.push({ kind: 'problem', problem: parsed.problem });
  }
  body = emptyIfBlank(body);

  let docId = file.relative;
  for (const key of ['doc_id', 'id']) {
    const id = readDocId(fields[key]);
    if (id && 'reason' in id) {
      const reason = `\`${key}\` ${id.reason}; not used as the document id`;
      events.push(problemEvent(display, reason, 'warning', { field: key }));
    } else if (id) {
      docId = id.id.trim();
      fields = { ...fields };
      delete fields[key];
      break;
    }
  }
  const { metadata, problems: fieldProblems } = normaliseMetadata(fields);
  for (const entry of fieldProblems) {
    events.push({
      kind: 'problem',
      problem: { file: display, field: entry.field, reason: entry.reason, severity: 'warning' },
    });
  }

  const format = file.relative.toLowerCase().endsWith('.mdx') ? 'mdx' : 'markdown';
  const document: SourceDocument = {
    docId,
    source: sourceNameFor(file.root),
    file: file.relative,
    text: body,
    format,
    metadata,
    docHash: computeDocHash(body, metadata),
  };
  const title = titleOf(metadata.title) ?? findFirstHeading(body, 1, format);
  if (title !== undefined) document.title = title;
  events.push({ kind: 'document', document });
  return events;
}

function titleOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return undefined;
}
