import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunkMarkdown } from '../../src/chunking/markdown-chunker.js';
import { discoverFiles } from '../../src/sources/discover.js';
import type { DiscoveredFile } from '../../src/sources/discovered-file.js';
import type { ReadEvent, SourceDocument, SourceProblem } from '../../src/sources/document.js';
import { displayPath } from '../../src/sources/document.js';
import { readHtmlFile } from '../../src/sources/html-reader.js';
import { readDocuments } from '../../src/sources/read.js';

const fixtures = path.resolve(import.meta.dirname, '../../fixtures/html/docs');

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'taboot-html-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fixture(relative: string): DiscoveredFile {
  return { root: fixtures, absolute: path.join(fixtures, relative), relative, size: 0 };
}

async function page(html: string | Buffer, name = 'page.html'): Promise<DiscoveredFile> {
  await writeFile(path.join(dir, name), html);
  return { root: dir, absolute: path.join(dir, name), relative: name, size: 0 };
}

function split(events: readonly ReadEvent[]): { documents: SourceDocument[]; problems: SourceProblem[] } {
  return {
    documents: events.flatMap((event) => (event.kind === 'document' ? [event.document] : [])),
    problems: events.flatMap((event) => (event.kind === 'problem' ? [event.problem] : [])),
  };
}

async function readOne(file: DiscoveredFile): Promise<SourceDocument> {
  const { documents, problems } = split(await readHtmlFile(file));
  expect(problems).toEqual([]);
  expect(documents).toHaveLength(1);
  return documents[0]!;
}

async function textOf(html: string): Promise<string> {
  return (await readOne(await page(html))).text;
}

/** The ATX headings of Markdown text, outside code fences: what the chunker builds sections from. */
function headings(markdown: string): string[] {
  let fence: string | undefined;
  const found: string[] = [];
  for (const line of markdown.split('\n')) {
    const marker = /^(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === undefined || line.startsWith(fence))) fence = fence ? undefined : marker;
    else if (fence === undefined && /^#{1,6} /.test(line)) found.push(line);
  }
  return found;
}

describe('readHtmlFile on a docs page with navigation, sidebar, footer and scripts', () => {
  it('keeps the <main> content, headings as Markdown sections, and no page furniture', async () => {
    const document = await readOne(fixture('configuration.html'));
    expect(document).toMatchObject({
      docId: 'configuration.html',
      source: 'docs',
      file: 'configuration.html',
      format: 'markdown',
      title: 'Configuration | Example Monitoring Docs',
      metadata: { lang: 'en', description: 'How to configure scrape targets, intervals and relabelling.' },
    });
    expect(headings(document.text)).toEqual([
      '# Configuration',
      '## Scrape configs',
      '### Relabelling',
      '#### Regex syntax',
      '## Storage',
    ]);
    for (const furniture of [
      'Documentation', // top navigation
      'Download',
      'Sidebar navigation', // aside outside <main>
      'Querying',
      'Site footer text', // footer outside <main>
      'Search the docs', // form control in the header
      'Skip to content', // hidden link
      'dataLayer', // script
      'font-family', // style
      'schema.org', // JSON-LD
      'tracking pixel', // noscript
      'Docs', // breadcrumb <nav> inside <main>
      'Hidden promotional text', // display: none
      'Decorative text', // aria-hidden
      '¶', // permalink anchor
    ]) {
      expect(document.text, furniture).not.toContain(furniture);
    }
    expect(document.text).toContain('Last updated 2024-03-01'); // a footer inside <article> is content
  });

  it('writes paragraphs with collapsed white space, decoded entities and inline code', async () => {
    const { text } = await readOne(fixture('configuration.html'));
    expect(text).toContain(
      'The server is configured through a YAML file and command-line flags. Reload it with `SIGHUP`\u00a0or an HTTP\u00a0POST & watch the logs.',
    );
    expect(text).toContain('A scrape config names a set of targets and how to scrape them:');
    expect(text).toContain('Diagram of the storage layout'); // an image as its alt text
  });

  it('writes lists with nesting and ordered starts, a fenced code block with its language, and a GFM table', async () => {
    const { text } = await readOne(fixture('configuration.html'));
    expect(text).toContain(
      [
        '- the `job_name`, unique across the file;',
        '- the `scrape_interval`, which defaults to the global one;',
        '  - durations are written as `15s`, `1m` or `1h30m`.',
        '- static or discovered targets.',
      ].join('\n'),
    );
    expect(text).toContain(
      '3. Choose a retention time.\n4. Pick a disk with enough room:\n   about 2 bytes per sample.',
    );
    expect(text).toContain(
      [
        '```yaml',
        'scrape_configs:',
        '  - job_name: node',
        '    scrape_interval: 15s',
        '    static_configs:',
        "      - targets: ['localhost:9100']   # <host>:<port>",
        '```',
      ].join('\n'),
    );
    expect(text).toContain(
      [
        'Relabel actions',
        '',
        '| Action | Effect | Needs `regex` |',
        '| --- | --- | --- |',
        '| `replace` | Sets `target_label` to the replacement \\| default | yes |',
        '| `keep` | Drops targets whose label does not match | yes |',
        '| `labeldrop` | Removes matching labels | yes |',
      ].join('\n'),
    );
  });

  it('gives the chunker the same sections a Markdown file would', async () => {
    const { text } = await readOne(fixture('configuration.html'));
    const sections = new Set(
      chunkMarkdown(text, { chunkTokens: 64, chunkOverlap: 0 }).map((chunk) => chunk.section),
    );
    expect(sections).toEqual(
      new Set([
        'Configuration',
        'Configuration > Scrape configs',
        'Configuration > Scrape configs > Relabelling',
        'Configuration > Scrape configs > Relabelling > Regex syntax',
        'Configuration > Storage',
      ]),
    );
  });
});

describe('readHtmlFile on pages without <main>', () => {
  it('reads <body> without its header, nav, aside and footer', async () => {
    const document = await readOne(fixture('faq.html'));
    expect(document.title).toBe('Frequently asked questions');
    expect(document.metadata).toEqual({ lang: 'en-GB' });
    expect(headings(document.text)).toEqual([
      '# FAQ',
      '## General',
      '## Operations',
      '### How do I back up the data?',
      '### Why is # of series growing?',
    ]);
    for (const furniture of [
      'Site banner text',
      'Home',
      'Related pages',
      'Sidebar text',
      'Footer text',
      'analytics',
    ]) {
      expect(document.text, furniture).not.toContain(furniture);
    }
    expect(document.text).toContain(
      '```sh\ncurl -XPOST http://localhost:9090/api/v1/admin/tsdb/snapshot\n\nls data/snapshots/\n```',
    );
    expect(document.text).toContain('> Snapshots are hard links: they cost no disk until the blocks change.');
    // Text that starts with `#` stays a paragraph rather than becoming a heading.
    expect(document.text).toContain('\\# of series grows with label values. Watch these:');
  });

  it('reads broken markup the way a browser does', async () => {
    const document = await readOne(fixture('broken.html'));
    expect(document.title).toBe('Broken markup page');
    expect(document.metadata).toEqual({ description: 'A page whose markup is broken.' });
    expect(headings(document.text)).toEqual(['# Release notes', '## Changes', '## Known issues']);
    expect(document.text).toContain(
      'Version 2.0 brings <faster> queries & smaller blocks\u00a0— and a few fixes',
    );
    expect(document.text).toContain('Unclosed paragraph followed by bold nested italic text.');
    expect(document.text).toContain('- First change\n- Second change, unquoted link');
    expect(document.text).toContain('Stray text in a table');
    expect(document.text).toContain('| Key | Value |\n| --- | --- |\n| retention | 15d |');
    expect(document.text).toContain('Query timeouts & more © without semicolons.');
    expect(document.text).not.toContain('Injected heading');
  });

  it('prefers a lone <article>, and reads every article of a page that has several', async () => {
    const one = await textOf(
      '<body><div class="menu">Menu text</div><article><h1>Post</h1><p>Body.</p></article></body>',
    );
    expect(one).toBe('# Post\n\nBody.');
    const two = await textOf(
      '<body><p>Intro.</p><article><h2>A</h2></article><article><h2>B</h2></article></body>',
    );
    expect(two).toBe('Intro.\n\n## A\n\n## B');
  });

  it('takes the title from the first <h1> when there is no <title>', async () => {
    const document = await readOne(await page('<main><h2>Lead</h2><h1>Real <em>title</em></h1></main>'));
    expect(document.title).toBe('Real title');
  });
});

describe('readHtmlFile writes Markdown that only headings can structure', () => {
  it('escapes text that would read as a heading, list, quote, fence, break or HTML block', async () => {
    const text = await textOf(
      '<p># not a heading</p><p>1. not a list</p><p>- nor this</p><p>&gt; nor a quote</p>' +
        '<p>```</p><p>---</p><p>&lt;!-- not a comment</p><p>line<br>===</p>',
    );
    expect(text).toBe(
      '\\# not a heading\n\n1\\. not a list\n\n\\- nor this\n\n\\> nor a quote\n\n\\```\n\n\\---\n\n\\<!-- not a comment\n\nline\n\\===',
    );
    expect(headings(text)).toEqual([]);
  });

  it('keeps code with backticks inside fences and spans that are long enough', async () => {
    const text = await textOf(
      '<p>Use <code>a`b</code> and <code>`x`</code>.</p><pre><code class="lang-md">```\ncode\n```</code></pre>',
    );
    expect(text).toBe('Use ``a`b`` and `` `x` ``.\n\n````md\n```\ncode\n```\n````');
  });

  it('reads a highlighter’s one <div> per line as lines, and a <br> in <pre> as a newline', async () => {
    const text = await textOf(
      '<pre><code><div>fn a() {</div><div>  b();</div><div>}</div></code></pre><pre>x<br>y</pre>',
    );
    expect(text).toBe('```\nfn a() {\n  b();\n}\n```\n\n```\nx\ny\n```');
  });

  it('puts a list nested without its <li>, and stray text in a list, where a browser shows them', async () => {
    expect(
      await textOf('<ul>Intro<li>a</li><ul><li>b</li></ul><li>c</li></ul><ol><li></li><li>two</li></ol>'),
    ).toBe('Intro\n\n- a\n  - b\n- c\n\n2. two');
  });

  it('spreads colspans over cells and pads short rows', async () => {
    const text = await textOf(
      '<table><tr><th colspan="2">Both</th><th>C</th></tr><tr><td>1</td></tr><tr><td>a</td><td>b<br>c</td><td>d</td></tr></table>',
    );
    expect(text).toBe('| Both |  | C |\n| --- | --- | --- |\n| 1 |  |  |\n| a | b c | d |');
  });

  it('escapes a closing run of # in a heading, and keeps a heading whose markup swallowed paragraphs short', async () => {
    expect(await textOf('<h2>Issue #</h2>')).toBe('## Issue \\#');
    expect(await textOf('<h1>Title<p>First paragraph.</p><p>Second.</p>')).toBe(
      '# Title\n\nFirst paragraph.\n\nSecond.',
    );
  });

  it('treats an inline wrapper around blocks as a container, its blocks on lines of their own', async () => {
    expect(
      await textOf(
        '<span class="card"><h2>Card</h2><p>Body.</p></span><a href="/x"><div>Block</div> link</a>',
      ),
    ).toBe('## Card\n\nBody.\n\nBlock\n\nlink');
  });

  it('keeps the text of markup nested far deeper than it can structure, without overflowing the stack', async () => {
    const text = await textOf(`<p>before</p>${'<div>'.repeat(50_000)}<h2>deep</h2> text`);
    expect(text).toBe('before\n\ndeep text');
  });
});

describe('readHtmlFile decoding and empty pages', () => {
  it('decodes a page in its declared charset when it is not UTF-8', async () => {
    const latin1 = Buffer.from(
      '<meta charset="windows-1252"><title>Caf\xe9</title><p>Cr\xe8me \x80 br\xfbl\xe9e</p>',
      'latin1',
    );
    const document = await readOne(await page(latin1));
    expect(document.title).toBe('Café');
    expect(document.text).toBe('Crème € brûlée');
  });

  it('decodes bytes that are not UTF-8, with no charset, with replacement characters and a warning', async () => {
    const file = await page(Buffer.concat([Buffer.from('<p>caf'), Buffer.from([0xe9]), Buffer.from('</p>')]));
    const { documents, problems } = split(await readHtmlFile(file));
    expect(documents[0]!.text).toBe('caf\uFFFD');
    expect(problems).toEqual([
      {
        file: displayPath(file.absolute),
        reason: 'invalid UTF-8; decoded with replacement characters',
        severity: 'warning',
      },
    ]);
  });

  it('reads a page with no text as an empty document that keeps its title and metadata', async () => {
    const document = await readOne(
      await page(
        '<html lang="fr"><title>Vide</title><body><nav>Menu</nav><script>x()</script></body></html>',
      ),
    );
    expect(document).toMatchObject({ text: '', title: 'Vide', metadata: { lang: 'fr' } });
  });

  it('skips a binary file named .html as an error', async () => {
    const file = await page(Buffer.from([0x3c, 0x70, 0x00, 0x3e]));
    expect(split(await readHtmlFile(file)).problems).toMatchObject([
      { reason: 'binary file (NUL bytes); skipped', severity: 'error' },
    ]);
  });
});

describe('HTML through discovery and readDocuments', () => {
  it('finds .html and .htm files by default and reads them as Markdown documents', async () => {
    await writeFile(path.join(dir, 'a.htm'), '<h1>A</h1>');
    const files = await discoverFiles([dir, fixtures]);
    const documents = [];
    for await (const event of readDocuments(files))
      if (event.kind === 'document') documents.push(event.document);
    expect(documents.map((document) => [document.file, document.format, document.title])).toEqual([
      ['a.htm', 'markdown', 'A'],
      ['broken.html', 'markdown', 'Broken markup page'],
      ['configuration.html', 'markdown', 'Configuration | Example Monitoring Docs'],
      ['faq.html', 'markdown', 'Frequently asked questions'],
    ]);
  });
});
