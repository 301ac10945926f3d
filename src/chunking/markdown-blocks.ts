/** A block-level piece of Markdown, in document order. */
export type Block =
  | { kind: 'heading'; text: string; level: number; title: string }
  | { kind: 'paragraph'; text: string }
  | {
      kind: 'table';
      text: string /** header row and delimiter row, repeated when the table is split */;
      headerLines: number;
    }
  | {
      kind: 'code';
      text: string;
      opener: string;
      closer: string /** the lines between the fences */;
      body: string[];
    };

const atxHeading = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$/;
const fenceOpen = /^(\s*)(`{3,}|~{3,})(.*)$/;
const tableDelimiter = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

interface Fence {
  char: string;
  length: number;
}

function openFence(line: string): Fence | undefined {
  const match = fenceOpen.exec(line);
  if (!match) return undefined;
  const marks = match[2]!;
  // A backtick fence's info string may not hold a backtick (```js``` on one line is inline code).
  if (marks[0] === '`' && match[3]!.includes('`')) return undefined;
  return { char: marks[0]!, length: marks.length };
}

function closesFence(line: string, fence: Fence): boolean {
  const trimmed = line.trim();
  if (trimmed.length < fence.length) return false;
  for (let index = 0; index < trimmed.length; index++) if (trimmed[index] !== fence.char) return false;
  return true;
}

function headingOf(line: string): { level: number; title: string } | undefined {
  if (!line.includes('#')) return undefined;
  const match = atxHeading.exec(line);
  if (!match) return undefined;
  // A closing run of #s (`## Title ##`) is not part of the title.
  const content = (match[2] ?? '').replace(/(^|[ \t]+)#+$/, '');
  return { level: match[1]!.length, title: cleanHeadingText(content) };
}

function isTableStart(line: string, next: string | undefined): boolean {
  return (
    next !== undefined &&
    line.includes('|') &&
    next.includes('-') &&
    tableDelimiter.test(next) &&
    (next.includes('|') || line.trimStart().startsWith('|'))
  );
}

/**
 * Heading text as a reader sees it: links and images reduced to their text, emphasis, code ticks
 * and HTML tags dropped, whitespace collapsed (`[Salon](https://x) *(11am)*` -> `Salon (11am)`).
 */
export function cleanHeadingText(raw: string): string {
  return raw
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/!?\[([^\]]*)\]\[[^\]]*\]/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/(\*{1,3}|`+|~~)(\S(?:.*?\S)?)\1/g, '$2')
    .replace(/(^|\W)(_{1,3})(\S(?:.*?\S)?)\2(?!\w)/g, '$1$3')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The title of the first ATX heading of `level` outside code fences, if any. */
export function findFirstHeading(text: string, level = 1): string | undefined {
  let fence: Fence | undefined;
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end === -1 ? text.length : end);
    if (fence) {
      if (closesFence(line, fence)) fence = undefined;
    } else {
      fence = openFence(line);
      if (!fence) {
        const heading = headingOf(line);
        if (heading && heading.level === level && heading.title !== '') return heading.title;
      }
    }
    if (end === -1) break;
    start = end + 1;
  }
  return undefined;
}

/**
 * Splits Markdown (LF line endings) into headings, paragraphs, GFM tables and fenced code blocks.
 * Blank lines separate paragraphs; ATX headings and fences also interrupt them. `#` lines inside a
 * fence are code, not headings. An unclosed fence runs to the end of the text. Setext headings and
 * indented code are kept as paragraph text.
 */
export function parseBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  const flush = (): void => {
    if (paragraph.length > 0) blocks.push({ kind: 'paragraph', text: paragraph.join('\n') });
    paragraph = [];
  };

  let index = 0;
  while (index < lines.length) {
    const line = lines[index]!;
    if (line.trim() === '') {
      flush();
      index++;
      continue;
    }
    const fence = openFence(line);
    if (fence) {
      flush();
      const body: string[] = [];
      let closer: string | undefined;
      index++;
      while (index < lines.length) {
        const inner = lines[index]!;
        index++;
        if (closesFence(inner, fence)) {
          closer = inner;
          break;
        }
        body.push(inner);
      }
      const all = closer === undefined ? [line, ...body] : [line, ...body, closer];
      blocks.push({
        kind: 'code',
        text: trimTrailingBlankLines(all).join('\n'),
        opener: line,
        closer: closer ?? `${line.match(/^\s*/)![0]}${fence.char.repeat(fence.length)}`,
        body: closer === undefined ? trimTrailingBlankLines(body) : body,
      });
      continue;
    }
    const heading = headingOf(line);
    if (heading) {
      flush();
      blocks.push({ kind: 'heading', text: line.trim(), level: heading.level, title: heading.title });
      index++;
      continue;
    }
    if (isTableStart(line, lines[index + 1])) {
      flush();
      const rows = [line, lines[index + 1]!];
      index += 2;
      while (index < lines.length) {
        const row = lines[index]!;
        if (row.trim() === '' || headingOf(row) || openFence(row)) break;
        rows.push(row);
        index++;
      }
      blocks.push({ kind: 'table', text: rows.join('\n'), headerLines: 2 });
      continue;
    }
    paragraph.push(line);
    index++;
  }
  flush();
  return blocks;
}

function trimTrailingBlankLines(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end--;
  return end === lines.length ? lines : lines.slice(0, end);
}
