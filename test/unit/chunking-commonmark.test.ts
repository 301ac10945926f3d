import { describe, expect, it } from 'vitest';
import { findFirstHeading, headingTitle, markdownBlocks } from '../../src/chunking/markdown-blocks.js';
import { chunkMarkdown } from '../../src/chunking/markdown-chunker.js';

// Block structure cases after the CommonMark 0.31 spec (example numbers in the names) and GFM
// tables: what becomes a section, and where chunks start and end. `minChunkTokens: 0` so that each
// section shows as its own chunk.

interface Case {
  name: string;
  markdown: string;
  /** [section, chunk text] per chunk, in order. */
  chunks: Array<[string, string]>;
}

const cases: Case[] = [
  // ATX headings
  {
    name: 'ATX levels; a closing sequence is not part of the title, a non-closing one is (ex. 62, 71, 73)',
    markdown: '# foo\n\nText a.\n\n## foo ##\n\nText b.\n\n### foo ### b\n\nText c.',
    chunks: [
      ['foo', '# foo\n\nText a.'],
      ['foo > foo', '## foo ##\n\nText b.'],
      ['foo > foo > foo ### b', '### foo ### b\n\nText c.'],
    ],
  },
  {
    name: 'no heading without a space after #, with seven #s, or escaped (ex. 63, 64, 65)',
    markdown: '#5 bolt\n\n#hashtag\n\n####### seven\n\n\\## escaped',
    chunks: [['', '#5 bolt\n\n#hashtag\n\n####### seven\n\n\\## escaped']],
  },
  {
    name: 'up to three spaces of indentation make a heading, four make code (ex. 68, 69)',
    markdown: '   # Three\n\nBody.\n\n    # Four is code',
    chunks: [['Three', '   # Three\n\nBody.\n\n    # Four is code']],
  },
  {
    name: 'an ATX heading interrupts a paragraph (ex. 77)',
    markdown: 'Para line\n# Heading\nMore text.',
    chunks: [
      ['', 'Para line'],
      ['Heading', '# Heading\n\nMore text.'],
    ],
  },
  {
    name: 'an empty heading adds nothing to the path (ex. 79)',
    markdown: '# Top\n\nIntro.\n\n##\n\nUnder an empty heading.',
    chunks: [
      ['Top', '# Top\n\nIntro.'],
      ['Top', '##\n\nUnder an empty heading.'],
    ],
  },
  // Setext headings
  {
    name: 'setext headings of both levels, inline markup rendered (ex. 80)',
    markdown: 'Foo *bar*\n=========\n\nBody.\n\nBaz\n---\n\nBody 2.',
    chunks: [
      ['Foo bar', 'Foo *bar*\n=========\n\nBody.'],
      ['Foo bar > Baz', 'Baz\n---\n\nBody 2.'],
    ],
  },
  {
    name: 'a setext heading may span lines (ex. 81)',
    markdown: 'Foo\nbar\n===\n\nBody.',
    chunks: [['Foo bar', 'Foo\nbar\n===\n\nBody.']],
  },
  {
    name: 'after a blank line --- is a thematic break, which carries no text (ex. 97)',
    markdown: 'Foo\n\n---\n\nBar',
    chunks: [['', 'Foo\n\nBar']],
  },
  {
    name: 'an underline after a quote or list item is a thematic break, not a setext heading (ex. 92, 93)',
    markdown: '> Foo\n---\n\n- Bar\n---\n\nEnd.',
    chunks: [['', '> Foo\n\n- Bar\n\nEnd.']],
  },
  // Fenced and indented code
  {
    name: '# lines in backtick and tilde fences are code (ex. 119, 120)',
    markdown: '# Real\n\n```sh\n# a comment\n```\n\n~~~\n## not a heading\n~~~',
    chunks: [['Real', '# Real\n\n```sh\n# a comment\n```\n\n~~~\n## not a heading\n~~~']],
  },
  {
    name: 'a fence closes only with a run at least as long as the opener (ex. 124)',
    markdown: '~~~~\n# a\n~~~\n# b\n~~~~\n\n# After\n\nText.',
    chunks: [
      ['', '~~~~\n# a\n~~~\n# b\n~~~~'],
      ['After', '# After\n\nText.'],
    ],
  },
  {
    name: 'an unclosed fence runs to the end of the document (ex. 126)',
    markdown: 'Intro.\n\n```\n# not a heading\n\nmore code',
    chunks: [['', 'Intro.\n\n```\n# not a heading\n\nmore code']],
  },
  {
    name: 'a fence inside a list item keeps its # lines as code',
    markdown: '# Doc\n\n- step one\n\n  ```sh\n  # install\n  make\n  ```\n- step two',
    chunks: [['Doc', '# Doc\n\n- step one\n\n  ```sh\n  # install\n  make\n  ```\n- step two']],
  },
  {
    name: 'backticks in the info string make inline code, not a fence (ex. 145)',
    markdown: '``` aa ```\n# Heading\n\nText.',
    chunks: [
      ['', '``` aa ```'],
      ['Heading', '# Heading\n\nText.'],
    ],
  },
  // HTML blocks
  {
    name: 'a # line inside a multi-line HTML comment is no heading; the comment is left out (ex. 179)',
    markdown: '# Guide\n\n<!--\n# Hidden\nnote\n-->\n\nBody.\n\n<!-- more -->\n\n## Next\n\nMore.',
    chunks: [
      ['Guide', '# Guide\n\nBody.'],
      ['Guide > Next', '## Next\n\nMore.'],
    ],
  },
  {
    name: 'a comment block ends on its --> line; the next line may be a heading (ex. 179)',
    markdown: '<!-- a\nb -->\n# Real\n\nText.',
    chunks: [['Real', '# Real\n\nText.']],
  },
  {
    name: 'a # line inside an HTML block that runs to a blank line is HTML (ex. 161)',
    markdown: '# Top\n\n<div>\n# not a heading\n</div>\n\nAfter.',
    chunks: [['Top', '# Top\n\n<div>\n# not a heading\n</div>\n\nAfter.']],
  },
  {
    name: 'a blank line ends an HTML block, so a heading after it counts; tag-only blocks carry no text (ex. 188)',
    markdown: '<details>\n\n# Inside details\n\nText.\n\n</details>',
    chunks: [['Inside details', '# Inside details\n\nText.']],
  },
  // Containers
  {
    name: 'headings inside list items and block quotes are content, not sections',
    markdown: '# Doc\n\n- # In a list\n\n> # In a quote\n\nText.',
    chunks: [['Doc', '# Doc\n\n- # In a list\n\n> # In a quote\n\nText.']],
  },
  // GFM tables
  {
    name: 'a table is one block: # in a cell and an escaped pipe in code are cell text',
    markdown:
      '## Flags\n\n| flag | note |\n| --- | --- |\n| # x | `a\\|b` |\n| -v | verbose |\n\nAfter the table.',
    chunks: [
      [
        'Flags',
        '## Flags\n\n| flag | note |\n| --- | --- |\n| # x | `a\\|b` |\n| -v | verbose |\n\nAfter the table.',
      ],
    ],
  },
  // Heading-only sections
  {
    name: 'a heading at the very end, with nothing to go with, joins the chunk before',
    markdown: 'Some text.\n\n# Trailing',
    chunks: [['', 'Some text.\n\n# Trailing']],
  },
  {
    name: 'a heading with no text of its own goes with the next section',
    markdown: '# A\n\n## B\n\n### C\n\nText under C.\n\n## D\n\nText under D.',
    chunks: [
      ['A > B > C', '# A\n\n## B\n\n### C\n\nText under C.'],
      ['A > D', '## D\n\nText under D.'],
    ],
  },
];

describe('CommonMark structure', () => {
  it.each(cases)('$name', ({ markdown, chunks }) => {
    const result = chunkMarkdown(markdown, { minChunkTokens: 0 });
    expect(result.map((chunk) => [chunk.section, chunk.text])).toEqual(chunks);
  });
});

describe('chunk boundaries under a budget', () => {
  const item = (index: number) =>
    `- item ${index} describes one option of the scrape configuration in a sentence.`;

  it('cuts a list over the budget between items', () => {
    const list = Array.from({ length: 12 }, (_, index) => item(index)).join('\n');
    const chunks = chunkMarkdown(`## Options\n\n${list}`, {
      chunkTokens: 64,
      chunkOverlap: 0,
      minChunkTokens: 0,
    });
    expect(chunks.length).toBeGreaterThan(2);
    const items = chunks.flatMap((chunk) => chunk.text.split('\n').filter((line) => line.startsWith('- ')));
    expect(items).toEqual(Array.from({ length: 12 }, (_, index) => item(index)));
    for (const chunk of chunks) expect(chunk.estimatedTokens).toBeLessThanOrEqual(64);
  });

  it('starts a section in a new chunk and never repeats the last section in the overlap', () => {
    const paragraph = (from: number) =>
      Array.from({ length: 8 }, (_, index) => `Sentence ${from + index} is about targets.`).join(' ');
    const markdown = `# A\n\n${paragraph(0)}\n\n${paragraph(10)}\n\n# B\n\n${paragraph(20)}`;
    const chunks = chunkMarkdown(markdown, { chunkTokens: 80, chunkOverlap: 20, minChunkTokens: 0 });
    const first = chunks.findIndex((chunk) => chunk.section === 'B');
    expect(chunks[first]!.text.startsWith('# B\n\n')).toBe(true);
    expect(chunks[first]!.overlapChars).toBe(0);
    const overlapped = chunks.filter((chunk) => chunk.overlapChars > 0);
    expect(overlapped.length).toBeGreaterThan(0);
    for (const chunk of overlapped) expect(chunk.text.slice(0, chunk.overlapChars)).not.toMatch(/^#/m);
  });
});

describe('heading titles from inline tokens', () => {
  it.each([
    ['Using the `<Image />` component', 'Using the <Image /> component'],
    ['The `+` `-` operators', 'The + - operators'],
    ['`` a ` b ``', 'a ` b'],
    ['*em*, **strong** and ~~gone~~', 'em, strong and gone'],
    ['[Link](http://example.com) and ![alt *text*](i.png)', 'Link and alt text'],
    ['AT&amp;T &copy; 2024', 'AT&T © 2024'],
    ['1\\. escaped \\*stars\\*', '1. escaped *stars*'],
    ['Title <a id="anchor"></a>', 'Title'],
    ['snake_case_name', 'snake_case_name'],
  ])('%s -> %s', (inline, title) => {
    expect(headingTitle(inline)).toBe(title);
  });

  it('finds the first title with the same rules: not in a fence or comment, setext included', () => {
    expect(findFirstHeading('```\n# Code\n```\n\n<!--\n# Note\n-->\n\nTitle\n=====\n')).toBe('Title');
    expect(findFirstHeading('## Second level\n\n# First level', 1)).toBe('First level');
    expect(findFirstHeading('No heading here.')).toBeUndefined();
  });
});

describe('parsing in windows', () => {
  it('finds the same headings and blocks as one parse of the whole document', () => {
    // Blocks that span many lines (fences, comments, lists, tables, long paragraphs) land across
    // the parser's window boundaries at every offset.
    const pieces = [
      (n: number) => `## Section ${n}\n\nText of section ${n}.`,
      (n: number) =>
        `\`\`\`sh\n${Array.from({ length: 37 }, (_, i) => `# comment ${n}.${i}`).join('\n')}\n\`\`\``,
      (n: number) => `<!--\n${Array.from({ length: 23 }, (_, i) => `# hidden ${n}.${i}`).join('\n')}\n-->`,
      (n: number) => Array.from({ length: 41 }, (_, i) => `- item ${n}.${i}\n  continued`).join('\n'),
      (n: number) => `Setext ${n}\n${'-'.repeat(5)}`,
      (n: number) =>
        `| a | b |\n| - | - |\n${Array.from({ length: 29 }, (_, i) => `| ${n} | ${i} |`).join('\n')}`,
      (n: number) => Array.from({ length: 53 }, (_, i) => `line ${i} of paragraph ${n}`).join('\n'),
    ];
    const parts: string[] = [];
    for (let n = 0, lines = 0; lines < 30_000; n++) {
      const part = pieces[n % pieces.length]!(n);
      parts.push(part);
      lines += part.split('\n').length + 1;
    }
    const text = parts.join('\n\n');
    const headings = [...markdownBlocks(text)]
      .filter((block) => block.kind === 'heading')
      .map((block) => block.title);
    const expected = parts.flatMap((part) => {
      const atx = /^## (.*)\n/.exec(part);
      if (atx) return [atx[1]!];
      const setext = /^(Setext \d+)\n-----$/.exec(part);
      return setext ? [setext[1]!] : [];
    });
    expect(headings).toEqual(expected);
    const kinds = [...markdownBlocks(text)].map((block) => block.kind);
    expect(kinds.filter((kind) => kind === 'code')).toHaveLength(
      parts.filter((part) => part.startsWith('```')).length,
    );
    expect(kinds.filter((kind) => kind === 'table')).toHaveLength(
      parts.filter((part) => part.startsWith('|')).length,
    );
  });
});
