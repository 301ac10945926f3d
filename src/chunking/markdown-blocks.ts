import markdownIt, { type MarkdownIt, type StateBlock, type Token } from 'markdown-it';
import { looksLikeMdx, mdxToMarkdown } from './mdx.js';

/** A top-level block of a Markdown document, in document order, with its source text. */
export type Block =
  | { kind: 'heading'; text: string; level: number; title: string }
  | {
      kind: 'prose';
      text: string;
      /** The block's top-level children (list items) with the whitespace before each, for cutting a long list. */
      parts?: Array<{ text: string; sep: string }>;
    }
  | {
      kind: 'table';
      text: string /** header and delimiter rows, repeated when a table is cut */;
      headerLines: number;
    }
  | {
      kind: 'code';
      text: string;
      /** The opening fence line, `''` for indented code. */
      opener: string;
      /** The closing fence line (made up when the fence is unclosed), `''` for indented code. */
      closer: string;
    };

/** `markdown`: CommonMark + GFM tables. `mdx`: MDX read tolerantly (see `mdxToMarkdown`). */
export type MarkdownFormat = 'markdown' | 'mdx';

/**
 * markdown-it's paragraph rule without the paragraph's inline content: the chunker reads block
 * text from the source, and joining the lines of a 20 MB paragraph into one more string (once per
 * parse window) was most of the parse's peak memory. Where the paragraph ends is decided exactly
 * as markdown-it does (lines up to a blank line or a line that a terminator rule claims).
 */
function paragraphWithoutContent(state: StateBlock, startLine: number, endLine: number): boolean {
  const terminators = state.md.block.ruler.getRules('paragraph');
  const parentType = state.parentType;
  let nextLine = startLine + 1;
  state.parentType = 'paragraph';
  for (; nextLine < endLine && !state.isEmpty(nextLine); nextLine++) {
    if (state.sCount[nextLine]! - state.blkIndent > 3 || state.sCount[nextLine]! < 0) continue;
    if (terminators.some((rule) => rule(state, nextLine, endLine, true))) break;
  }
  state.line = nextLine;
  const open = state.push('paragraph_open', 'p', 1);
  open.map = [startLine, nextLine];
  const inline = state.push('inline', '', 0);
  inline.map = [startLine, nextLine];
  inline.children = [];
  state.push('paragraph_close', 'p', -1);
  state.parentType = parentType;
  return true;
}

function createParser(format: MarkdownFormat): MarkdownIt {
  const md = new markdownIt('commonmark', { html: format === 'markdown' });
  md.enable(['table', 'strikethrough']);
  md.block.ruler.at('paragraph', paragraphWithoutContent);
  // MDX has no indented code: indentation inside components is layout, not code.
  if (format === 'mdx') md.disable('code');
  return md;
}

const parsers: Record<MarkdownFormat, MarkdownIt> = {
  markdown: createParser('markdown'),
  mdx: createParser('mdx'),
};

/**
 * Heading text as a reader sees it, from the parser's inline tokens: code span text kept,
 * emphasis markers, link targets and inline HTML dropped, images reduced to their alt text,
 * whitespace collapsed.
 */
export function headingTitle(inline: string, format: MarkdownFormat = 'markdown'): string {
  // Most headings are plain words: nothing for the inline parser to do.
  if (!inlineSyntax.test(inline)) return inline.replace(/\s+/g, ' ').trim();
  const tokens = parsers[format].parseInline(inline, {})[0]?.children ?? [];
  return renderPlain(tokens).replace(/\s+/g, ' ').trim();
}

const inlineSyntax = /[`*_~[\]!<>&\\]/;

function renderPlain(tokens: readonly Token[]): string {
  let text = '';
  for (const token of tokens) {
    switch (token.type) {
      case 'text':
      case 'text_special':
      case 'code_inline':
        text += token.content;
        break;
      case 'softbreak':
      case 'hardbreak':
        text += ' ';
        break;
      case 'image':
        text += renderPlain(token.children ?? []);
        break;
      default:
        break;
    }
  }
  return text;
}

/** Lines parsed per step; a block longer than this widens the step (see `topLevelTokens`). */
const WINDOW_LINES = 2048;

/**
 * Top-level block tokens, parsed a window of lines at a time so that the token list never holds
 * more than a window's worth of blocks: memory follows the window, not the document. Every block
 * of a window but the last is final (the block rules decide where a block ends from the lines up
 * to the next block's start, which lie inside the window); the last may have been cut by the
 * window's end, so the next window starts again at its first line. A block longer than the window
 * doubles the window until it fits.
 */
function* topLevelTokens(state: StateBlock, md: MarkdownIt): Generator<Token[]> {
  let start = 0;
  let window = WINDOW_LINES;
  while (start < state.lineMax) {
    const end = Math.min(state.lineMax, start + window);
    state.tokens = [];
    state.level = 0;
    md.block.tokenize(state, start, end);
    const tokens = state.tokens;
    if (end === state.lineMax) {
      yield tokens;
      return;
    }
    let last = tokens.length - 1;
    while (last >= 0 && (tokens[last]!.level !== 0 || tokens[last]!.nesting === -1)) last--;
    if (last <= 0) {
      window *= 2;
      continue;
    }
    yield tokens.slice(0, last);
    start = tokens[last]!.map![0];
    window = WINDOW_LINES;
  }
}

/** Source text of lines `[from, to)`, without the trailing newline and trailing blank lines. */
function linesText(state: StateBlock, from: number, to: number): string {
  let last = to - 1;
  while (last > from && state.isEmpty(last)) last--;
  return state.src.slice(state.bMarks[from], state.eMarks[last]);
}

function lineText(state: StateBlock, line: number): string {
  return state.src.slice(state.bMarks[line], state.eMarks[line]);
}

const commentPattern = /<!--[\s\S]*?-->/g;
const tagPattern = /<\/?[A-Za-z][^>]*>/g;

/** Converts one top-level token group (an open token through its close, or a leaf) to a block. */
function toBlock(
  state: StateBlock,
  tokens: Token[],
  first: number,
  close: number,
  format: MarkdownFormat,
): Block | undefined {
  const token = tokens[first]!;
  const [from, to] = token.map!;
  switch (token.type) {
    case 'heading_open': {
      const inline = tokens[first + 1]!;
      return {
        kind: 'heading',
        text: linesText(state, from, to),
        level: Number(token.tag.slice(1)),
        title: headingTitle(inline.content, format),
      };
    }
    case 'fence': {
      const opener = lineText(state, from);
      const last = to - 1 > from ? lineText(state, to - 1).trim() : '';
      const mark = token.markup[0]!;
      const closed = last.length >= token.markup.length && last === mark.repeat(last.length);
      const indent = /^\s*/.exec(opener)![0];
      return {
        kind: 'code',
        text: linesText(state, from, to),
        opener,
        closer: closed ? lineText(state, to - 1) : `${indent}${token.markup}`,
      };
    }
    case 'code_block':
      return { kind: 'code', text: linesText(state, from, to), opener: '', closer: '' };
    case 'table_open':
      return { kind: 'table', text: linesText(state, from, to), headerLines: 2 };
    case 'hr':
      return undefined;
    case 'html_block': {
      // Comments are invisible in the rendered page; a `#` line inside one is no heading. A block
      // of nothing but tags (`<details>`, `</div>`, a centred logo) has no text to embed.
      const text = linesText(state, from, to).replace(commentPattern, '');
      if (text.replace(tagPattern, '').trim() === '') return undefined;
      return { kind: 'prose', text: text.replace(/^\n+|\n+$/g, '') };
    }
    case 'bullet_list_open':
    case 'ordered_list_open': {
      const text = linesText(state, from, to);
      const parts: Array<{ text: string; sep: string }> = [];
      let previousEnd = state.bMarks[from]!;
      for (let index = first + 1; index < close; index++) {
        const item = tokens[index]!;
        if (item.type !== 'list_item_open' || item.level !== 1 || !item.map) continue;
        const itemText = linesText(state, item.map[0], item.map[1]);
        const itemStart = state.bMarks[item.map[0]]!;
        parts.push({ text: itemText, sep: state.src.slice(previousEnd, itemStart) });
        previousEnd = itemStart + itemText.length;
      }
      return parts.length > 1 ? { kind: 'prose', text, parts } : { kind: 'prose', text };
    }
    default:
      return { kind: 'prose', text: linesText(state, from, to) };
  }
}

/**
 * The document's top-level blocks, lazily: headings (ATX and setext; not those nested in lists or
 * quotes, nor `#` lines inside code, HTML comments or HTML blocks), prose (paragraphs, lists,
 * quotes, HTML blocks without their comments), GFM tables and code (fenced or indented). Thematic
 * breaks, HTML comments and link reference definitions carry no text and are left out. Text is the
 * block's source, so a chunk reads like the document. Expects LF line endings.
 */
export function* markdownBlocks(text: string, format: MarkdownFormat = 'markdown'): Generator<Block> {
  const md = parsers[format];
  const source = format === 'mdx' ? mdxToMarkdown(text) : text;
  const clean = source.includes('\0') ? source.replace(/\0/g, '\uFFFD') : source;
  const state = new md.block.State(clean, md, {}, []);
  for (const tokens of topLevelTokens(state, md)) {
    let index = 0;
    while (index < tokens.length) {
      const token = tokens[index]!;
      let close = index;
      if (token.nesting === 1) {
        let depth = 0;
        for (; close < tokens.length; close++) {
          depth += tokens[close]!.nesting;
          if (depth === 0) break;
        }
      }
      if (token.level === 0 && token.map) {
        const block = toBlock(state, tokens, index, close, format);
        if (block) yield block;
      }
      index = close + 1;
    }
  }
}

/** How to read a text given as `format`: Markdown that uses MDX syntax is read as MDX. */
export function readingFormat(text: string, format: MarkdownFormat): MarkdownFormat {
  return format === 'mdx' || looksLikeMdx(text) ? 'mdx' : 'markdown';
}

/**
 * The title of the first top-level heading of `level` (ATX or setext) with text, read with the
 * same rules as the chunker's sections: never a `#` line inside code or an HTML comment.
 */
export function findFirstHeading(
  text: string,
  level = 1,
  format: MarkdownFormat = 'markdown',
): string | undefined {
  for (const block of markdownBlocks(text, readingFormat(text, format))) {
    if (block.kind === 'heading' && block.level === level && block.title !== '') return block.title;
  }
  return undefined;
}
