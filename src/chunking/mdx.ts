/**
 * MDX read tolerantly as Markdown: what a reader of the rendered page sees, in Markdown.
 *
 * A strict MDX parser (micromark's mdxjs) fails a whole document on an unbalanced tag or a bare
 * `<` in prose, which real sites have, and is ~50x slower than markdown-it. This pass lexes only
 * what MDX adds and keeps anything that does not lex as text:
 * - `import`/`export` statements at the start of a line after a blank line (up to the next blank
 *   line) are dropped;
 * - JSX tags (`<Tabs groupId="os">`, `</TabItem>`, `<Image />`, fragments) are dropped, their text
 *   children kept; HTML comments are dropped too (MDX 1 allowed them);
 * - expressions `{...}` are dropped, except a plain string literal (`{'text'}`), which is kept;
 * - code spans and fenced code (at any indentation) are copied as they are;
 * - lines between two component tags are dedented together by their common indentation, since MDX
 *   has no indented code: a `## Heading` indented inside `<Tabs>` is a heading.
 * Lines keep their count (a dropped multi-line tag leaves blank lines), so blocks keep their shape.
 */

/** How far a tag or expression may reach before a `<` or `{` is taken as plain text. */
const MAX_CONSTRUCT = 8192;

const nameStart = /[A-Za-z_$]/;
const nameChar = /[\w$-]/;
const special = /[`<{\\\n]/g;
const fenceOpen = /^[ \t]*(`{3,}|~{3,})(.*)$/;
const esmStart = /^(?:import|export)[\s{*]/;
const importShape = /^import\s+(?:type\s+)?(?:[\w$*{][\s\S]*?\bfrom\s*)?['"][^'"\n]+['"]/;
const mdxHint = /^(?:import|export)[\s{*]/m;
const componentLine = /^\s*<\/?[A-Z][\w.]*(?:\s[^<>]*)?\/?>\s*$/;
const exportShape = /^export\s+(?:const|let|var|function|async|class|default|type|interface|\{|\*)/;

interface Line {
  text: string;
  /** Inside a fence (not the fence lines): kept out of the common indentation. */
  code: boolean;
}

/** Index after a JS string or template literal starting at `start` (a quote), or -1. */
function skipString(text: string, start: number, limit: number): number {
  const quote = text[start]!;
  for (let index = start + 1; index < limit; index++) {
    const char = text[index];
    if (char === '\\') index++;
    else if (char === quote) return index + 1;
    else if (quote === '`' && char === '$' && text[index + 1] === '{') {
      const end = skipExpression(text, index + 1, limit);
      if (end === -1) return -1;
      index = end - 1;
    } else if (char === '\n' && quote !== '`') return -1;
  }
  return -1;
}

/** Index after the `}` that balances the `{` at `start`, honouring strings and comments, or -1. */
export function skipExpression(text: string, start: number, limit = text.length): number {
  const end = Math.min(limit, start + MAX_CONSTRUCT);
  let depth = 0;
  for (let index = start; index < end; index++) {
    const char = text[index];
    if (char === '{') depth++;
    else if (char === '}') {
      depth--;
      if (depth === 0) return index + 1;
    } else if (char === '"' || char === "'" || char === '`') {
      const after = skipString(text, index, end);
      if (after === -1) return -1;
      index = after - 1;
    } else if (char === '/' && text[index + 1] === '*') {
      const close = text.indexOf('*/', index + 2);
      if (close === -1 || close >= end) return -1;
      index = close + 1;
    } else if (char === '/' && text[index + 1] === '/') {
      const close = text.indexOf('\n', index);
      if (close === -1 || close >= end) return -1;
      index = close;
    }
  }
  return -1;
}

function skipName(text: string, start: number): number {
  let index = start;
  if (!nameStart.test(text[index] ?? '')) return -1;
  while (index < text.length) {
    while (index < text.length && nameChar.test(text[index]!)) index++;
    if ((text[index] === '.' || text[index] === ':') && nameStart.test(text[index + 1] ?? '')) index++;
    else return index;
  }
  return index;
}

function skipSpace(text: string, start: number): number {
  let index = start;
  while (index < text.length && /\s/.test(text[index]!)) index++;
  return index;
}

/** Index after the JSX tag (or fragment) starting with `<` at `start`, or -1 when it is no tag. */
export function skipJsxTag(text: string, start: number): number {
  const limit = Math.min(text.length, start + MAX_CONSTRUCT);
  let index = start + 1;
  if (text[index] === '/') index++;
  if (text[index] === '>') return index + 1;
  index = skipName(text, index);
  if (index === -1) return -1;
  while (index < limit) {
    index = skipSpace(text, index);
    const char = text[index];
    if (char === '>') return index + 1;
    if (char === '/' && text[index + 1] === '>') return index + 2;
    if (char === '{') {
      index = skipExpression(text, index, limit);
      if (index === -1) return -1;
      continue;
    }
    const afterName = skipName(text, index);
    if (afterName === -1) return -1;
    index = skipSpace(text, afterName);
    if (text[index] !== '=') continue;
    index = skipSpace(text, index + 1);
    const quote = text[index];
    if (quote === '"' || quote === "'") {
      const close = text.indexOf(quote, index + 1);
      if (close === -1 || close >= limit) return -1;
      index = close + 1;
    } else if (quote === '{') {
      index = skipExpression(text, index, limit);
      if (index === -1) return -1;
    } else {
      return -1;
    }
  }
  return -1;
}

/** The value of an expression that is only a string literal (`{'a'}`, `{"a"}`, `` {`a`} ``), else undefined. */
function stringValue(expression: string): string | undefined {
  const inner = expression.slice(1, -1).trim();
  const quote = inner[0];
  if (quote !== '"' && quote !== "'" && quote !== '`') return undefined;
  if (skipString(inner, 0, inner.length) !== inner.length) return undefined;
  if (quote === '`' && inner.includes('${')) return undefined;
  return inner.slice(1, -1).replace(/\\(.)/g, '$1');
}

function lineBreaks(text: string): number {
  let count = 0;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) count++;
  return count;
}

function indentOf(line: string): number {
  let index = 0;
  while (index < line.length && (line[index] === ' ' || line[index] === '\t')) index++;
  return index;
}

/**
 * True when Markdown is written for MDX: it imports or exports (an ESM statement at the start of a
 * line after a blank line) and has a line that is a capitalised component tag, both outside code
 * fences. Either alone is not enough: a JavaScript snippet pasted as text has imports, a page about
 * HTML may show a tag, and reading plain Markdown as MDX would drop its `{...}` text.
 */
export function looksLikeMdx(text: string): boolean {
  // Most Markdown has neither: one native scan settles it.
  if (!mdxHint.test(text)) return false;
  let esm = false;
  let component = false;
  let fence: string | undefined;
  let previousBlank = true;
  let start = 0;
  while (start < text.length && !(esm && component)) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end === -1 ? text.length : end);
    const fenceMatch = fenceOpen.exec(line);
    if (fence !== undefined) {
      if (fenceMatch && fenceMatch[2]!.trim() === '' && fenceMatch[1]!.startsWith(fence)) fence = undefined;
    } else if (fenceMatch && !(fenceMatch[1]![0] === '`' && fenceMatch[2]!.includes('`'))) {
      fence = fenceMatch[1]!;
    } else if (previousBlank && esmStart.test(line)) {
      const blank = /\n[ \t]*(?:\n|$)/g;
      blank.lastIndex = start;
      const statement = text.slice(start, blank.exec(text)?.index ?? text.length);
      esm ||= importShape.test(statement) || exportShape.test(statement);
    } else if (componentLine.test(line)) {
      component = true;
    }
    previousBlank = line.trim() === '';
    if (end === -1) break;
    start = end + 1;
  }
  return esm && component;
}

/** MDX as the Markdown a reader sees (see the module comment). Expects LF line endings. */
export function mdxToMarkdown(text: string): string {
  const out: string[] = [];
  let region: Line[] = [];
  const flushRegion = (): void => {
    let common = Number.POSITIVE_INFINITY;
    for (const line of region) {
      if (!line.code && line.text.trim() !== '') common = Math.min(common, indentOf(line.text));
    }
    for (const line of region) {
      const cut = Number.isFinite(common) ? Math.min(common, indentOf(line.text)) : 0;
      out.push(cut > 0 ? line.text.slice(cut) : line.text);
    }
    region = [];
  };

  let fence: { char: string; length: number } | undefined;
  let current = '';
  let dropped = false;
  let inCode = false;
  let previousBlank = true;
  const endLine = (): void => {
    const blank = current.trim() === '';
    if (blank && dropped) {
      // A line that held only tags or expressions: a component boundary.
      flushRegion();
      out.push('');
    } else {
      region.push({ text: current, code: inCode });
    }
    previousBlank = blank;
    current = '';
    dropped = false;
  };

  // Once a comment runs to the end unclosed, every later one does too.
  let commentsClosed = true;
  const codeSpans = new CodeSpanFinder(text);
  const length = text.length;
  let index = 0;
  while (index < length) {
    const lineStart = index === 0 || text[index - 1] === '\n';
    if (lineStart) {
      const newline = text.indexOf('\n', index);
      const lineEnd = newline === -1 ? length : newline;
      const line = text.slice(index, lineEnd);
      const fenceMatch = fenceOpen.exec(line);
      if (fence) {
        const trimmed = line.trim();
        const closes = trimmed.length >= fence.length && trimmed === fence.char.repeat(trimmed.length);
        // The closing line counts towards the common indentation, like the opening one.
        inCode = !closes;
        current = line;
        endLine();
        if (closes) fence = undefined;
        inCode = fence !== undefined;
        index = lineEnd + 1;
        continue;
      }
      if (fenceMatch && !(fenceMatch[1]![0] === '`' && fenceMatch[2]!.includes('`'))) {
        fence = { char: fenceMatch[1]![0]!, length: fenceMatch[1]!.length };
        current = line;
        endLine();
        inCode = true;
        index = lineEnd + 1;
        continue;
      }
      if (previousBlank && esmStart.test(line)) {
        const blank = /\n[ \t]*(?:\n|$)/g;
        blank.lastIndex = index;
        const statementEnd = blank.exec(text)?.index ?? length;
        const statement = text.slice(index, statementEnd);
        if (importShape.test(statement) || exportShape.test(statement)) {
          flushRegion();
          for (let count = statement.split('\n').length; count > 0; count--) out.push('');
          index = statementEnd + 1;
          previousBlank = true;
          continue;
        }
      }
    }

    special.lastIndex = index;
    const next = special.exec(text);
    const stop = next ? next.index : length;
    if (stop > index) {
      current += text.slice(index, stop);
      index = stop;
      continue;
    }
    const char = text[index]!;
    if (char === '\n') {
      endLine();
      index++;
      continue;
    }
    if (char === '\\') {
      // An escaped character is text; a backslash before a line break is a hard break, not an escape.
      const escaped = text[index + 1] !== undefined && text[index + 1] !== '\n';
      current += text.slice(index, escaped ? index + 2 : index + 1);
      index += escaped ? 2 : 1;
      continue;
    }
    if (char === '`') {
      let run = index;
      while (text[run] === '`') run++;
      const ticks = text.slice(index, run);
      const close = codeSpans.closeOf(run, ticks);
      const end = close === -1 ? run : close + ticks.length;
      appendVerbatim(text.slice(index, end));
      index = end;
      continue;
    }
    let end = -1;
    let replacement = '';
    if (char === '<' && text.startsWith('<!--', index)) {
      const close = commentsClosed ? text.indexOf('-->', index + 4) : -1;
      if (close === -1) commentsClosed = false;
      end = close === -1 ? -1 : close + 3;
    } else if (char === '<') {
      end = skipJsxTag(text, index);
    } else {
      end = skipExpression(text, index);
      if (end !== -1) replacement = stringValue(text.slice(index, end)) ?? '';
    }
    if (end === -1) {
      current += char;
      index++;
      continue;
    }
    // A dropped construct that spans lines leaves its line breaks, so blocks keep their shape.
    const breaks = lineBreaks(text.slice(index, end));
    if (breaks === 0) current += replacement;
    else for (let count = 0; count < breaks; count++) endLineAfterDrop();
    if (replacement === '') dropped = true;
    index = end;
  }
  if (current !== '' || dropped) endLine();
  flushRegion();
  return out.join('\n');

  function appendVerbatim(piece: string): void {
    const lines = piece.split('\n');
    current += lines[0];
    for (let line = 1; line < lines.length; line++) {
      endLine();
      current = lines[line]!;
    }
  }

  function endLineAfterDrop(): void {
    dropped = true;
    endLine();
  }
}

/**
 * Finds where a code span closes: the next backtick run of exactly the opener's length before the
 * paragraph ends. Linear over a paragraph: a failed search for a run length is remembered, since
 * any later search for it in the same paragraph would fail too.
 */
class CodeSpanFinder {
  private paragraphStart = -1;
  private paragraphEnd = -1;
  private readonly failed = new Set<number>();

  constructor(private readonly text: string) {}

  /** Start of the closing run for an opener of `ticks` ending at `from`, or -1. */
  closeOf(from: number, ticks: string): number {
    const text = this.text;
    if (from >= this.paragraphEnd || from < this.paragraphStart) {
      const blank = /\n[ \t]*\n/g;
      blank.lastIndex = from;
      this.paragraphStart = from;
      this.paragraphEnd = blank.exec(text)?.index ?? text.length;
      this.failed.clear();
    }
    if (this.failed.has(ticks.length)) return -1;
    let search = from;
    while (search < this.paragraphEnd) {
      const found = text.indexOf(ticks, search);
      if (found === -1 || found >= this.paragraphEnd) break;
      let after = found + ticks.length;
      if (text[after] !== '`') return found;
      while (text[after] === '`') after++;
      search = after;
    }
    this.failed.add(ticks.length);
    return -1;
  }
}
