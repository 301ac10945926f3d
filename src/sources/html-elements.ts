import type { DefaultTreeAdapterTypes } from 'parse5';

type Node = DefaultTreeAdapterTypes.Node;
type Element = DefaultTreeAdapterTypes.Element;

/** Never content: scripts, styles, navigation, form controls, embedded media and their fallbacks. */
export const droppedTags: ReadonlySet<string> = new Set(
  (
    'head script style noscript template nav iframe object embed canvas svg button input select ' +
    'textarea datalist audio video map link meta'
  ).split(' '),
);

/** Page furniture unless it sits inside `<main>` or `<article>`, where it belongs to the content. */
const furnitureTags = new Set(['header', 'footer', 'aside']);
const furnitureRoles = new Set(['banner', 'contentinfo', 'complementary', 'search']);

/** Elements that start a new block: the inline text before them ends as a paragraph. */
export const blockTags: ReadonlySet<string> = new Set(
  (
    'address article aside blockquote body caption center dd details dialog dir div dl dt fieldset ' +
    'figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main menu ol p ' +
    'pre search section summary table tbody td tfoot th thead tr ul'
  ).split(' '),
);

/** How far down an inline element is searched for blocks that make it a container. */
const blockSearchDepth = 32;

export function attribute(element: Element, name: string): string | undefined {
  return element.attrs.find((attr) => attr.name === name)?.value;
}

export function isElement(node: Node): node is Element {
  return 'tagName' in node;
}

/** `hidden`, `aria-hidden="true"`, an inline `display: none` / `visibility: hidden`, or a hidden input. */
export function isHidden(element: Element): boolean {
  if (attribute(element, 'hidden') !== undefined) return true;
  if (attribute(element, 'aria-hidden')?.trim().toLowerCase() === 'true') return true;
  const style = attribute(element, 'style')?.toLowerCase().replace(/\s+/g, '');
  return style !== undefined && /(?:^|;)(?:display:none|visibility:hidden)/.test(style);
}

/** Whether `element` is left out of the text: never content, hidden, or furniture outside the content. */
export function isDropped(element: Element, inContent: boolean): boolean {
  const tag = element.tagName;
  if (droppedTags.has(tag) || isHidden(element)) return true;
  const role = attribute(element, 'role')?.trim().toLowerCase();
  if (role === 'navigation') return true;
  return !inContent && (furnitureTags.has(tag) || (role !== undefined && furnitureRoles.has(role)));
}

/** Whether an inline element wraps blocks (a custom element or a `<span>` around headings): then it is a container. */
export function containsBlock(element: Element, depth = blockSearchDepth): boolean {
  if (depth === 0) return false;
  return element.childNodes.some(
    (child) => isElement(child) && (blockTags.has(child.tagName) || containsBlock(child, depth - 1)),
  );
}

/** Every text node under `node`, as is (for `<pre>` and code): `<br>` and block edges as newlines. */
export function textContent(node: Node): string {
  return flatTextOf([node], true);
}

/** Where a block element starts or ends in {@link flatTextOf}'s walk. */
const blockEdge = { nodeName: '#edge' } as unknown as Node;

/**
 * The text under `nodes` in document order, skipping what is never content. A `<br>` is a newline;
 * a block's edges are a newline in preformatted text (a highlighter's `<div>` per line), else a
 * space. Walks with its own stack, so that no nesting is too deep for it.
 */
export function flatTextOf(nodes: readonly Node[], preformatted = false): string {
  let text = '';
  const stack: Node[] = [...nodes].reverse();
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node === blockEdge) {
      if (!preformatted) text += ' ';
      else if (text !== '' && !text.endsWith('\n')) text += '\n';
    } else if (!isElement(node)) {
      if (node.nodeName === '#text') text += (node as DefaultTreeAdapterTypes.TextNode).value;
    } else if (node.tagName === 'br') text += '\n';
    else if (!droppedTags.has(node.tagName) && !isHidden(node)) {
      const block = blockTags.has(node.tagName);
      if (block) stack.push(blockEdge);
      for (let index = node.childNodes.length - 1; index >= 0; index--) stack.push(node.childNodes[index]!);
      if (block) stack.push(blockEdge);
    }
  }
  return text;
}
