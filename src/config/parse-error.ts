/**
 * Config files that do not parse: the parser's reason with the file, line and column
 * (`taboot.config.json:3:1: Expected double-quoted property name`), never the file's text, which
 * may hold an API key that is not yet known to the redaction.
 */
import { ConfigError } from '../errors.js';

/** cosmiconfig's loader for `.json` files (and package.json): JSON.parse, with a located error. */
export function loadJsonConfig(filepath: string, content: string): unknown {
  try {
    return JSON.parse(content);
  } catch (error) {
    throw new ConfigError([`${filepath}:${describeJsonError(content, error)}`]);
  }
}

/** `line:column: reason` for a JSON.parse failure of `text`. */
export function describeJsonError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const stated = /at position (\d+)/.exec(message);
  const at = stated ? Number(stated[1]) : firstBadOffset(text);
  const reason = message
    // V8 quotes the whole text in some messages: it may hold a secret, and the position says more.
    .replace(/, .* is not valid JSON$/s, '')
    .replace(/ (in JSON )?at position \d+.*$/s, '');
  const { line, column } = lineAndColumn(text, at);
  // The commonest slip in a hand-edited JSON file; the parser only notices it one token later.
  const before = text.slice(0, at).trimEnd();
  const comma = before.endsWith(',') && /^\s*[}\]]/.test(text.slice(at)) ? before.length - 1 : -1;
  const where = comma >= 0 ? lineAndColumn(text, comma) : undefined;
  const hint = where ? ` (a comma after the last entry, at ${where.line}:${where.column}?)` : '';
  return `${line}:${column}: ${reason}${hint}`;
}

/**
 * js-yaml, cosmiconfig's YAML parser, puts the position in `mark` (0-based) and the reason in
 * `reason`; other errors keep their first line.
 */
export function describeYamlError(error: unknown): string | undefined {
  const { mark, reason } = error as { mark?: { line?: number; column?: number }; reason?: unknown };
  if (typeof mark?.line !== 'number' || typeof mark.column !== 'number' || typeof reason !== 'string')
    return undefined;
  return `${mark.line + 1}:${mark.column + 1}: ${reason}`;
}

/**
 * Where parsing fails when V8 does not say: the shortest prefix that no continuation can make
 * valid. Whether a prefix can still be completed only changes once, so a binary search finds it.
 */
function firstBadOffset(text: string): number {
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (viablePrefix(text.slice(0, middle + 1))) low = middle + 1;
    else high = middle;
  }
  return low;
}

function viablePrefix(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (/end of JSON input/.test(message)) return true;
    const position = /at position (\d+)/.exec(message);
    return position !== null && Number(position[1]) >= prefix.length;
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}
