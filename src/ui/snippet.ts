/**
 * Search-result snippets: the part of a chunk that best shows why it matched, with the query's
 * words marked so that a renderer can colour them.
 */

/** `[start, end)` UTF-16 offsets into `Snippet.text`, sorted and non-overlapping. */
export type Highlight = [start: number, end: number];

export interface Snippet {
  text: string;
  highlights: Highlight[];
}

export interface SnippetOptions {
  /** Longest `text`, in UTF-16 code units, `…` marks included. Default 160. */
  width?: number;
}

const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const ellipsis = '…';
const minWordLength = 3;

/** Common English words that say nothing about why a chunk matched. */
const stopWords = new Set(
  (
    'the and for are but not you all any can had her was one our out has him his how its may new now ' +
    'see two who did get got let put say she too use via with that this from they will have what when ' +
    'where which while your into onto than then them there these those been being does doing each ' +
    'just more most much must only other over same should some such very about above after again ' +
    'also because before below between both could during further here itself myself once own why ' +
    'would yours were whom under until upon off'
  ).split(' '),
);

/**
 * The window of `content` (whitespace collapsed) that holds the most distinct query words, then
 * the most occurrences, centred on them and cut at word boundaries with `…` where text was cut.
 * Query words ignore case, stop words and words under 3 characters; a content word matches when
 * it equals one or shares its stem (`scraping` matches `scrape`). Without any match, the snippet
 * is the start of the content.
 */
export function snippet(content: string, query: string, options: SnippetOptions = {}): Snippet {
  const width = options.width ?? 160;
  if (!Number.isInteger(width) || width < 3)
    throw new TypeError(`Expected \`width\` to be an integer of at least 3, got \`${width}\``);
  const text = content.replace(/\s+/g, ' ').trim();
  const terms = queryTerms(query);
  const hits = findHits(text, terms);
  if (text.length <= width) return { text, highlights: hits.map((hit) => [hit.start, hit.end]) };

  // Room for a `…` at each end.
  const budget = width - 2;
  let start = 0;
  let spanStart = 0;
  const best = bestWindow(hits, budget);
  if (best) {
    spanStart = best.start;
    const slack = budget - (best.end - best.start);
    start = Math.max(0, Math.min(best.start - Math.floor(slack / 2), text.length - budget));
  }
  start = alignStart(text, start, spanStart);
  let end = Math.min(text.length, start + budget);
  if (end < text.length) {
    let cut = end;
    while (cut > start && insideWord(text, cut)) cut--;
    if (cut > start) end = cut;
    // One word longer than the window: a hard cut, but never between a surrogate pair's halves.
    else if (isHighSurrogate(text.charCodeAt(end - 1))) end--;
  }
  while (end > start && text[end - 1] === ' ') end--;

  const prefix = start > 0 ? ellipsis : '';
  const suffix = end < text.length ? ellipsis : '';
  const shift = prefix.length - start;
  return {
    text: prefix + text.slice(start, end) + suffix,
    highlights: hits
      .filter((hit) => hit.start >= start && hit.end <= end)
      .map((hit) => [hit.start + shift, hit.end + shift]),
  };
}

/** `text` with `paint` applied to each highlighted range (a colour, bold, or `[` `]` markers). */
export function highlight(value: Snippet, paint: (text: string) => string): string {
  let out = '';
  let at = 0;
  for (const [start, end] of value.highlights) {
    if (start < at || end <= start) continue;
    out += value.text.slice(at, start) + paint(value.text.slice(start, end));
    at = end;
  }
  return out + value.text.slice(at);
}

interface Hit {
  start: number;
  end: number;
  term: string;
}

/** Distinct query words as stems, stop words and short words left out. */
function queryTerms(query: string): Set<string> {
  const terms = new Set<string>();
  for (const word of query.toLowerCase().match(WORD) ?? []) {
    if (word.length < minWordLength || stopWords.has(word)) continue;
    terms.add(stem(word));
  }
  return terms;
}

function findHits(text: string, terms: Set<string>): Hit[] {
  const hits: Hit[] = [];
  if (terms.size === 0) return hits;
  for (const match of text.matchAll(WORD)) {
    const word = match[0];
    if (word.length < minWordLength) continue;
    const term = stem(word.toLowerCase());
    if (terms.has(term)) hits.push({ start: match.index, end: match.index + word.length, term });
  }
  return hits;
}

/** The span of hits within `budget` characters that covers the most distinct terms, then the most hits. */
function bestWindow(hits: Hit[], budget: number): { start: number; end: number } | undefined {
  let best: { start: number; end: number; distinct: number; count: number } | undefined;
  for (let i = 0; i < hits.length; i++) {
    const first = hits[i]!;
    const terms = new Set<string>();
    let last = first;
    let count = 0;
    for (let j = i; j < hits.length && hits[j]!.end - first.start <= budget; j++) {
      terms.add(hits[j]!.term);
      last = hits[j]!;
      count++;
    }
    if (!best || terms.size > best.distinct || (terms.size === best.distinct && count > best.count))
      best = { start: first.start, end: last.end, distinct: terms.size, count };
  }
  return best;
}

/** Moves a start inside a word past that word, unless that would cut off the first hit. */
function alignStart(text: string, start: number, spanStart: number): number {
  let forward = start;
  while (forward < spanStart && insideWord(text, forward)) forward++;
  if (insideWord(text, forward)) {
    let back = start;
    while (back > 0 && insideWord(text, back)) back--;
    return back;
  }
  while (forward < spanStart && text[forward] === ' ') forward++;
  return forward;
}

/** Whether offset `at` falls between two word characters (or inside a surrogate pair). */
function insideWord(text: string, at: number): boolean {
  if (at <= 0 || at >= text.length) return false;
  return isWordUnit(text.charCodeAt(at - 1)) && isWordUnit(text.charCodeAt(at));
}

const wordChar = /[\p{L}\p{M}\p{N}_]/u;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isWordUnit(code: number): boolean {
  if (code >= 0xd800 && code <= 0xdfff) return true;
  return wordChar.test(String.fromCharCode(code));
}

/** A crude English stem, enough to match `targets`/`target` and `scraping`/`scrape`/`scraped`. */
function stem(word: string): string {
  let base = word;
  if (base.length > 4 && base.endsWith('ing')) base = base.slice(0, -3);
  else if (base.length > 3 && base.endsWith('ed')) base = base.slice(0, -2);
  else if (base.length > 3 && base.endsWith('es')) base = base.slice(0, -2);
  else if (base.length > 3 && base.endsWith('s') && !base.endsWith('ss')) base = base.slice(0, -1);
  if (base.length > 3 && base.endsWith('e')) base = base.slice(0, -1);
  return base;
}
