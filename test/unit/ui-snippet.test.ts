import { describe, expect, it } from 'vitest';
import { highlight, type Snippet, snippet } from '../../src/ui/snippet.js';

const marked = (value: Snippet) => highlight(value, (word) => `[${word}]`);

/** Filler words that never match a query, so tests control where the matches are. */
const filler = (count: number) => Array.from({ length: count }, (_, i) => `lorem${i}`).join(' ');

describe('snippet', () => {
  it('returns short content whole, whitespace collapsed, with every query word marked', () => {
    const result = snippet('  Configure\n\nthe   scrape\tinterval  ', 'scrape interval');
    expect(result.text).toBe('Configure the scrape interval');
    expect(result.highlights).toEqual([
      [14, 20],
      [21, 29],
    ]);
    expect(marked(result)).toBe('Configure the [scrape] [interval]');
  });

  it('matches case-insensitively and ignores stop words and words under 3 characters', () => {
    const result = snippet('The Alertmanager is on by default and it is the one', 'THE alertmanager is on');
    expect(marked(result)).toBe('The [Alertmanager] is on by default and it is the one');
  });

  it('matches inflections of a query word', () => {
    const result = snippet('Prometheus scrapes targets; a scraped target is up.', 'scraping target');
    expect(marked(result)).toBe('Prometheus [scrapes] [targets]; a [scraped] [target] is up.');
  });

  it('picks the window with the most distinct query words, not just the first match', () => {
    const content = `${filler(20)} recording ${filler(40)} recording rules evaluate ${filler(40)}`;
    const result = snippet(content, 'recording rules evaluate', { width: 80 });
    expect(marked(result)).toContain('[recording] [rules] [evaluate]');
    expect(result.text.length).toBeLessThanOrEqual(80);
  });

  it('prefers more occurrences when windows cover as many distinct words', () => {
    const content = `${filler(10)} alert ${filler(30)} alert x alert y alert ${filler(30)}`;
    const result = snippet(content, 'alert', { width: 60 });
    expect(result.highlights).toHaveLength(3);
  });

  it('cuts at word boundaries with an ellipsis at each cut end and stays within the width', () => {
    const content = `${filler(30)} the target scrape interval ${filler(30)}`;
    const result = snippet(content, 'scrape interval', { width: 60 });
    expect(result.text.startsWith('…')).toBe(true);
    expect(result.text.endsWith('…')).toBe(true);
    expect(result.text.length).toBeLessThanOrEqual(60);
    const inner = result.text.slice(1, -1);
    const words = content.split(' ');
    for (const word of inner.split(' ')) expect(words).toContain(word);
    expect(marked(result)).toContain('[scrape] [interval]');
  });

  it('has no leading ellipsis when the window starts the content', () => {
    const result = snippet(`scrape interval ${filler(50)}`, 'scrape', { width: 50 });
    expect(result.text.startsWith('scrape interval')).toBe(true);
    expect(result.text.endsWith('…')).toBe(true);
    expect(result.highlights).toEqual([[0, 6]]);
  });

  it('has no trailing ellipsis when the window ends the content', () => {
    const result = snippet(`${filler(50)} ends with the scrape interval`, 'interval', { width: 50 });
    expect(result.text.startsWith('…')).toBe(true);
    expect(result.text.endsWith('scrape interval')).toBe(true);
    expect(marked(result).endsWith('[interval]')).toBe(true);
  });

  it('shows the start of the content when nothing matches', () => {
    const content = filler(100);
    const result = snippet(content, 'absent words', { width: 40 });
    expect(result.text.startsWith('lorem0 lorem1')).toBe(true);
    expect(result.text.endsWith('…')).toBe(true);
    expect(result.highlights).toEqual([]);
  });

  it('shows the start of the content for a query of only stop words', () => {
    expect(snippet(`the ${filler(100)}`, 'the and of', { width: 30 }).highlights).toEqual([]);
  });

  it('cuts a long path at a word boundary inside it rather than dropping it', () => {
    const content = `scrape ${'segment/'.repeat(40)}end`;
    const result = snippet(content, 'scrape', { width: 40 });
    expect(result.text).toMatch(/^scrape (segment\/)*segment…$/);
    expect(result.text.length).toBeLessThanOrEqual(40);
  });

  it('never splits a surrogate pair', () => {
    const content = `${'𝔘'.repeat(200)} scrape`;
    const result = snippet(content, 'nothing', { width: 21 });
    // A lone surrogate does not survive a UTF-8 round trip.
    expect(Buffer.from(result.text, 'utf8').toString('utf8')).toBe(result.text);
    expect(result.text.endsWith('…')).toBe(true);
  });

  it('uses a width of 160 by default', () => {
    const result = snippet(filler(200), 'lorem50');
    expect(result.text.length).toBeLessThanOrEqual(160);
    expect(result.text.length).toBeGreaterThan(140);
    expect(marked(result)).toContain('[lorem50]');
  });

  it('rejects a width too small to hold a word between ellipses', () => {
    expect(() => snippet('text', 'text', { width: 2 })).toThrow(
      'Expected `width` to be an integer of at least 3, got `2`',
    );
  });

  it('keeps highlights inside the returned text for a Markdown document', () => {
    const content = `## Components

The Prometheus ecosystem consists of multiple components, many of which are optional:

* the main [Prometheus server](https://github.com/prometheus/prometheus) which scrapes and stores time series data
* [client libraries](/docs/instrumenting/clientlibs/) for instrumenting application code
* a [push gateway](https://github.com/prometheus/pushgateway) for supporting short-lived jobs
* special-purpose [exporters](/docs/instrumenting/exporters/) for services like HAProxy, StatsD, Graphite, etc.
* an [alertmanager](https://github.com/prometheus/alertmanager) to handle alerts
* various support tools
`;
    const result = snippet(content, 'what is the pushgateway for short-lived jobs');
    expect(result.text.length).toBeLessThanOrEqual(160);
    expect(result.highlights.map(([start, end]) => result.text.slice(start, end).toLowerCase())).toEqual([
      'pushgateway',
      'short',
      'lived',
      'jobs',
    ]);
  });
});

describe('highlight', () => {
  it('paints each range and leaves the rest alone', () => {
    expect(
      highlight(
        {
          text: 'abc def ghi',
          highlights: [
            [0, 3],
            [8, 11],
          ],
        },
        (s) => s.toUpperCase(),
      ),
    ).toBe('ABC def GHI');
  });

  it('returns the text unchanged without highlights', () => {
    expect(highlight({ text: 'abc', highlights: [] }, () => 'x')).toBe('abc');
  });

  it('skips overlapping or empty ranges instead of duplicating text', () => {
    expect(
      highlight(
        {
          text: 'abcdef',
          highlights: [
            [0, 3],
            [2, 4],
            [4, 4],
            [4, 6],
          ],
        },
        (s) => `<${s}>`,
      ),
    ).toBe('<abc>d<ef>');
  });
});
