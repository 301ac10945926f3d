import { isUtf8 } from 'node:buffer';
import { type DefaultTreeAdapterTypes, parse } from 'parse5';
import type { DiscoveredFile } from './discovered-file.js';
import { sourceNameFor } from './discovered-file.js';
import { computeDocHash, displayPath, emptyIfBlank, type ReadEvent } from './document.js';
import { attribute, isDropped } from './html-elements.js';
import { renderMarkdown } from './html-markdown.js';
import { decodeUtf8, readWholeBytes } from './text-reader.js';

type Element = DefaultTreeAdapterTypes.Element;
type ParentNode = DefaultTreeAdapterTypes.ParentNode;

/**
 * An HTML page as one Markdown document: its main content (`<main>`, else its one `<article>`,
 * else `<body>` without navigation, headers, footers and asides) turned into Markdown, so that
 * headings become sections as in a Markdown file. The title is `<title>`, else the first `<h1>`;
 * `<meta name="description">` and `<html lang>` go to the metadata. Parsed as a browser parses
 * (parse5 follows the HTML standard), so broken markup reads as it displays. Bytes that are not
 * UTF-8 are decoded with the page's declared charset when it names one.
 */
export async function readHtmlFile(
  file: DiscoveredFile,
  options: { maxFileBytes?: number } = {},
): Promise<ReadEvent[]> {
  const display = displayPath(file.absolute);
  const { bytes, problem } = await readWholeBytes(file, options.maxFileBytes);
  if (problem) return [{ kind: 'problem', problem }];
  const decoded = decodeHtml(bytes, display);
  const events: ReadEvent[] = decoded.problems.map((entry) => ({ kind: 'problem', problem: entry }));

  const page = parse(decoded.text ?? '');
  const html = childElement(page, 'html');
  const head = html && childElement(html, 'head');
  const body = html && childElement(html, 'body');
  const metadata: Record<string, unknown> = {};
  const lang = html && attribute(html, 'lang')?.trim();
  if (lang) metadata.lang = lang;
  const description = head && metaContent(head, 'description');
  if (description) metadata.description = description;

  let markdown = '';
  let firstH1: string | undefined;
  if (body) {
    const main = mainContent(body);
    ({ markdown, firstH1 } = renderMarkdown(main ?? body, main !== undefined));
  }
  const text = emptyIfBlank(markdown);
  const document: Extract<ReadEvent, { kind: 'document' }>['document'] = {
    docId: file.relative,
    source: sourceNameFor(file.root),
    file: file.relative,
    text,
    format: 'markdown',
    metadata,
    docHash: computeDocHash(text, metadata),
  };
  const title = (head && titleText(head)) || firstH1;
  if (title) document.title = title;
  events.push({ kind: 'document', document });
  return events;
}

/**
 * UTF-8 when the bytes are valid UTF-8 (whatever the page declares: a stale `charset` is common,
 * valid UTF-8 by chance is not); else the charset the page declares in its first 1024 bytes,
 * when the runtime knows it; else UTF-8 with replacement characters and a warning.
 */
function decodeHtml(bytes: Buffer, display: string): ReturnType<typeof decodeUtf8> {
  if (!isUtf8(bytes)) {
    const declared = /<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)/i.exec(
      bytes.subarray(0, 1024).toString('latin1'),
    )?.[1];
    if (declared && !/^utf-?8$/i.test(declared)) {
      try {
        const decoder = new TextDecoder(declared);
        const text = decoder.encoding === 'windows-1252' ? decodeWindows1252(bytes) : decoder.decode(bytes);
        return { text: text.replace(/\r\n?/g, '\n'), problems: [] };
      } catch {
        // An unknown label: fall through to UTF-8.
      }
    }
  }
  return decodeUtf8(bytes, display);
}

/** Windows-1252 at 0x80-0x9F, where it differs from Latin-1 (`undefined`: unassigned, kept as is). */
const windows1252High = [
  '€',
  undefined,
  '‚',
  'ƒ',
  '„',
  '…',
  '†',
  '‡',
  'ˆ',
  '‰',
  'Š',
  '‹',
  'Œ',
  undefined,
  'Ž',
  undefined,
  undefined,
  '‘',
  '’',
  '“',
  '”',
  '•',
  '–',
  '—',
  '˜',
  '™',
  'š',
  '›',
  'œ',
  undefined,
  'ž',
  'Ÿ',
];

/**
 * Node 20's `TextDecoder` reads windows-1252 (and the labels that mean it: `iso-8859-1`, `latin1`,
 * `ascii`) as Latin-1, turning `€`, curly quotes and dashes into C1 control characters.
 */
function decodeWindows1252(bytes: Buffer): string {
  return bytes
    .toString('latin1')
    .replace(/[\u0080-\u009f]/g, (char) => windows1252High[char.charCodeAt(0) - 0x80] ?? char);
}

function childElement(parent: ParentNode, tag: string): Element | undefined {
  return parent.childNodes.find((child): child is Element => 'tagName' in child && child.tagName === tag);
}

/** Elements under `root` in document order, not entering dropped ones. */
function* elements(root: Element): Generator<Element> {
  const stack: Element[] = [root];
  while (stack.length > 0) {
    const element = stack.pop()!;
    yield element;
    for (let index = element.childNodes.length - 1; index >= 0; index--) {
      const child = element.childNodes[index]!;
      if ('tagName' in child && !isDropped(child, true)) stack.push(child);
    }
  }
}

/** `<main>` (or `role="main"`), else the page's only top-level `<article>`; `undefined` for neither. */
function mainContent(body: Element): Element | undefined {
  const articles: Element[] = [];
  for (const element of elements(body)) {
    if (element.tagName === 'main' || attribute(element, 'role')?.trim().toLowerCase() === 'main')
      return element;
    if (element.tagName === 'article' && !articles.some((outer) => contains(outer, element))) {
      articles.push(element);
    }
  }
  return articles.length === 1 ? articles[0] : undefined;
}

function contains(outer: Element, inner: Element): boolean {
  for (
    let node: ParentNode | null = inner.parentNode;
    node;
    node = 'parentNode' in node ? node.parentNode : null
  ) {
    if (node === outer) return true;
  }
  return false;
}

function titleText(head: Element): string | undefined {
  const title = childElement(head, 'title');
  const text = title?.childNodes
    .map((child) => (child.nodeName === '#text' ? (child as DefaultTreeAdapterTypes.TextNode).value : ''))
    .join('')
    .replace(/[ \t\n\r\f]+/g, ' ')
    .trim();
  return text || undefined;
}

function metaContent(head: Element, name: string): string | undefined {
  for (const child of head.childNodes) {
    if (!('tagName' in child) || child.tagName !== 'meta') continue;
    if (attribute(child, 'name')?.trim().toLowerCase() !== name) continue;
    const content = attribute(child, 'content')
      ?.replace(/[ \t\n\r\f]+/g, ' ')
      .trim();
    if (content) return content;
  }
  return undefined;
}
