import type { DefaultTreeAdapterTypes } from 'parse5';
import {
  attribute,
  blockTags,
  containsBlock,
  flatTextOf,
  isDropped,
  isElement,
  textContent,
} from './html-elements.js';

type Node = DefaultTreeAdapterTypes.Node;
type Element = DefaultTreeAdapterTypes.Element;

/** Link texts of the "permalink" anchors that documentation generators put beside headings. */
const permalinkTexts = new Set(['', '#', '¶', '§', '🔗', '⚓']);

/** Collapsible white space, as CSS `white-space: normal` sees it: ASCII only, never U+00A0. */
const whitespaceRun = /[ \t\n\r\f]+/g;

/** Marks a `<br>` inside inline text until the text is collapsed: NUL, which parsed HTML never holds. */
const LINE_BREAK = String.fromCharCode(0);
const lineBreakMark = new RegExp(` ?${LINE_BREAK} ?`, 'g');

/** What a render found besides the text. */
export interface RenderResult {
  markdown: string;
  /** Text of the first `<h1>`, for a page without `<title>`. */
  firstH1: string | undefined;
}

/**
 * Turns an element's content into CommonMark (plus GFM tables): headings as `#`..`######`,
 * paragraphs, lists, `<pre>` as fenced code (language from `language-x`/`lang-x`), tables as GFM
 * tables, links as their text, images as their alt text. White space collapses as a browser
 * collapses it, except in `<pre>`. Text that would read as Markdown structure at the start of a
 * line (`#`, `>`, `-`, `1.`, fences, `<`) is escaped, so headings come only from heading elements.
 * `inContent` says whether `root` is (inside) `<main>` or `<article>`.
 */
export function renderMarkdown(root: Element, inContent: boolean): RenderResult {
  const renderer = new Renderer();
  const blocks = renderer.blocks(root, inContent);
  return { markdown: blocks.join('\n\n'), firstH1: renderer.firstH1 };
}

/**
 * Deepest element nesting rendered with structure. Unclosed `<div>`s in generated pages can nest
 * thousands deep, which recursion cannot follow; below this depth an element's text is kept, flat.
 */
const maxStructureDepth = 200;

class Renderer {
  firstH1: string | undefined;
  private depth = 0;

  /** The blocks of a container, in order; inline runs between block elements become paragraphs. */
  blocks(container: Element, inContent: boolean): string[] {
    return this.blocksOf(container.childNodes, inContent);
  }

  private blocksOf(nodes: readonly Node[], inContent: boolean): string[] {
    if (this.depth > maxStructureDepth) {
      const flat = escapeLineStarts(finishInline(collapse(flatTextOf(nodes))));
      return flat === '' ? [] : [flat];
    }
    this.depth += 1;
    try {
      return this.blocksAt(nodes, inContent);
    } finally {
      this.depth -= 1;
    }
  }

  private blocksAt(nodes: readonly Node[], inContent: boolean): string[] {
    const blocks: string[] = [];
    let inline: string[] = [];
    const flush = () => {
      const paragraph = escapeLineStarts(finishInline(inline.join('')));
      if (paragraph !== '') blocks.push(paragraph);
      inline = [];
    };
    for (const child of nodes) {
      if (!isElement(child)) {
        if (child.nodeName === '#text')
          inline.push(collapse((child as DefaultTreeAdapterTypes.TextNode).value));
        continue;
      }
      const childInContent = inContent || child.tagName === 'main' || child.tagName === 'article';
      if (isDropped(child, inContent)) continue;
      if (!blockTags.has(child.tagName) && !containsBlock(child)) {
        inline.push(this.inline(child, inContent));
        continue;
      }
      flush();
      const rendered = this.block(child, childInContent);
      for (const block of rendered) if (block !== '') blocks.push(block);
    }
    flush();
    return blocks;
  }

  private block(element: Element, inContent: boolean): string[] {
    const tag = element.tagName;
    const level = /^h([1-6])$/.exec(tag)?.[1];
    if (level !== undefined) return this.heading(element, Number(level), inContent);
    switch (tag) {
      case 'pre':
        return [codeBlock(element)];
      case 'ul':
      case 'ol':
      case 'menu':
      case 'dir':
        return this.list(element, inContent);
      case 'table':
        return this.table(element, inContent);
      case 'blockquote':
        return [quote(this.blocks(element, inContent).join('\n\n'))];
      case 'hr':
        return [];
      default:
        return this.blocks(element, inContent);
    }
  }

  /**
   * A heading from its inline content. Blocks inside it (an unclosed `<h1>` swallows the
   * paragraphs after it, as browsers parse it) follow it as blocks rather than joining its text.
   */
  private heading(element: Element, level: number, inContent: boolean): string[] {
    const nodes = element.childNodes;
    let split = nodes.findIndex(
      (child) => isElement(child) && (blockTags.has(child.tagName) || containsBlock(child)),
    );
    if (split === -1) split = nodes.length;
    const wrapper: Element = { ...element, childNodes: nodes.slice(0, split) };
    const text = this.flatText(wrapper, inContent);
    const rest = this.blocksOf(nodes.slice(split), inContent);
    if (text === '') return rest;
    if (level === 1 && this.firstH1 === undefined) this.firstH1 = text;
    // A closing run of `#` would be read as the heading's optional closing sequence.
    return [`${'#'.repeat(level)} ${text.replace(/(^|\s)(#+)$/, '$1\\$2')}`, ...rest];
  }

  /**
   * One item per `<li>`. Anything else directly inside the list (a `<ul>` nested without its
   * `<li>`, stray text) belongs to the item before it, as a browser shows it; before the first
   * item, it is a block of its own.
   */
  private list(element: Element, inContent: boolean): string[] {
    const ordered = element.tagName === 'ol';
    let number = Number.parseInt(attribute(element, 'start') ?? '1', 10);
    if (!Number.isFinite(number)) number = 1;
    const leading: string[] = [];
    const items: { marker: string; blocks: string[] }[] = [];
    let stray: Node[] = [];
    const placeStray = () => {
      const blocks = this.blocksOf(stray, inContent);
      stray = [];
      const last = items.at(-1);
      if (last) last.blocks.push(...blocks);
      else leading.push(...blocks);
    };
    for (const child of element.childNodes) {
      if (isElement(child) && isDropped(child, inContent)) continue;
      if (!isElement(child) || child.tagName !== 'li') {
        stray.push(child);
        continue;
      }
      placeStray();
      const value = Number.parseInt(attribute(child, 'value') ?? '', 10);
      if (ordered && Number.isFinite(value)) number = value;
      items.push({ marker: ordered ? `${number}. ` : '- ', blocks: this.blocks(child, inContent) });
      if (ordered) number += 1;
    }
    placeStray();
    const lines = items
      .filter((item) => item.blocks.length > 0)
      .map(({ marker, blocks }) => {
        // A nested list follows its item's text directly, as it would in hand-written Markdown.
        const body = blocks.reduce(
          (text, block) => `${text}${/^(?:-|\d+\.) /.test(block) ? '\n' : '\n\n'}${block}`,
        );
        return marker + indent(body, marker.length);
      });
    return lines.length === 0 ? leading : [...leading, lines.join('\n')];
  }

  /** A GFM table; its caption, when there is one, as the paragraph before it. */
  private table(element: Element, inContent: boolean): string[] {
    const rows: string[][] = [];
    let caption = '';
    const visit = (node: Element) => {
      for (const child of node.childNodes) {
        if (!isElement(child) || isDropped(child, inContent)) continue;
        if (child.tagName === 'caption') caption = this.flatText(child, inContent);
        else if (child.tagName === 'tr') rows.push(this.row(child, inContent));
        else if (['thead', 'tbody', 'tfoot'].includes(child.tagName)) visit(child);
      }
    };
    visit(element);
    const width = Math.max(0, ...rows.map((row) => row.length));
    const blocks = caption === '' ? [] : [escapeLineStarts(caption)];
    if (width === 0 || rows.every((row) => row.every((cell) => cell === ''))) return blocks;
    const line = (cells: string[]) =>
      `| ${Array.from({ length: width }, (_, index) => cells[index] ?? '').join(' | ')} |`;
    const [header = [], ...body] = rows;
    const delimiter = `| ${Array.from({ length: width }, () => '---').join(' | ')} |`;
    blocks.push([line(header), delimiter, ...body.map(line)].join('\n'));
    return blocks;
  }

  private row(row: Element, inContent: boolean): string[] {
    const cells: string[] = [];
    for (const cell of row.childNodes) {
      if (!isElement(cell) || (cell.tagName !== 'td' && cell.tagName !== 'th')) continue;
      if (isDropped(cell, inContent)) continue;
      cells.push(this.flatText(cell, inContent).replaceAll('|', '\\|'));
      const span = Number.parseInt(attribute(cell, 'colspan') ?? '1', 10);
      for (let extra = 1; extra < Math.min(span, 1000); extra++) cells.push('');
    }
    return cells;
  }

  /** Inline Markdown of a non-block element (its white space collapsed later, with its paragraph). */
  private inline(element: Element, inContent: boolean): string {
    switch (element.tagName) {
      case 'br':
        return LINE_BREAK;
      case 'img':
        return collapse(attribute(element, 'alt') ?? '');
      case 'code':
      case 'kbd':
      case 'samp':
      case 'tt':
        return codeSpan(collapse(textContent(element)).trim());
      case 'a': {
        const text = this.inlineChildren(element, inContent);
        const href = attribute(element, 'href') ?? '';
        return href.startsWith('#') && permalinkTexts.has(text.trim()) ? '' : text;
      }
      default:
        return this.inlineChildren(element, inContent);
    }
  }

  private inlineChildren(element: Element, inContent: boolean): string {
    if (this.depth > maxStructureDepth) return collapse(flatTextOf(element.childNodes));
    this.depth += 1;
    try {
      return this.inlineAt(element, inContent);
    } finally {
      this.depth -= 1;
    }
  }

  private inlineAt(element: Element, inContent: boolean): string {
    let text = '';
    for (const child of element.childNodes) {
      if (!isElement(child)) {
        if (child.nodeName === '#text') text += collapse((child as DefaultTreeAdapterTypes.TextNode).value);
      } else if (!isDropped(child, inContent)) {
        // A block inside an inline element (a <div> in an <a>) still separates words.
        text += blockTags.has(child.tagName)
          ? ` ${this.flatText(child, inContent)} `
          : this.inline(child, inContent);
      }
    }
    return text;
  }

  /** An element's text on one line, for headings and table cells: blocks and breaks become spaces. */
  private flatText(element: Element, inContent: boolean): string {
    return finishInline(this.inlineChildren(element, inContent)).replaceAll('\n', ' ');
  }
}

function collapse(text: string): string {
  return text.replace(whitespaceRun, ' ');
}

/** Collapses the spaces left where inline pieces meet, and turns `<br>` marks into line breaks. */
function finishInline(text: string): string {
  return text
    .replace(/ {2,}/g, ' ')
    .replace(lineBreakMark, '\n')
    .replace(/^[ \n\u00a0]+|[ \n\u00a0]+$/g, '');
}

function codeSpan(code: string): string {
  if (code === '') return '';
  const longest = Math.max(0, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = code.startsWith('`') || code.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${code}${pad}${fence}`;
}

function codeBlock(pre: Element): string {
  const code = textContent(pre).replace(/\n$/, '');
  if (code.trim() === '') return '';
  const codeChild = pre.childNodes.find(
    (child): child is Element => isElement(child) && child.tagName === 'code',
  );
  const language = languageOf(pre) ?? (codeChild ? languageOf(codeChild) : undefined) ?? '';
  const longest = Math.max(0, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${code}\n${fence}`;
}

function languageOf(element: Element): string | undefined {
  const classes = (attribute(element, 'class') ?? '').split(/\s+/);
  for (const name of classes) {
    const match = /^(?:language|lang)-([\w+#.-]+)$/.exec(name);
    if (match) return match[1];
  }
  return undefined;
}

function quote(text: string): string {
  if (text === '') return '';
  return text
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');
}

function indent(text: string, width: number): string {
  const pad = ' '.repeat(width);
  return text.replace(/\n(?!\n|$)/g, `\n${pad}`);
}

/**
 * Escapes what would turn a line of text into Markdown structure: ATX heading `#`, block quote,
 * list markers, code fences, setext underlines and thematic breaks, and `<` (an HTML block, which
 * can swallow every heading after it).
 */
function escapeLineStarts(text: string): string {
  return text
    .split('\n')
    .map((line) =>
      line
        .replace(/^(#{1,6})(?=\s|$)/, '\\$1')
        .replace(/^(>|<(?=[A-Za-z/!?]))/, '\\$1')
        .replace(/^([-+*])(?=\s|$)/, '\\$1')
        .replace(/^(\d{1,9})([.)])(?=\s|$)/, '$1\\$2')
        .replace(/^(`{3,}|~{3,})/, '\\$1')
        .replace(/^([=_])(?=[\s=_]*$)/, '\\$1')
        .replace(/^(-)(?=[\s-]*$)/, '\\$1')
        .replace(/^(\*)(?=[\s*]*$)/, '\\$1'),
    )
    .join('\n');
}
