import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findFirstHeading } from '../../src/chunking/markdown-blocks.js';
import { chunkMarkdown } from '../../src/chunking/markdown-chunker.js';
import { looksLikeMdx, mdxToMarkdown } from '../../src/chunking/mdx.js';
import { splitFrontMatter } from '../../src/sources/markdown-reader.js';

const fixtures = path.resolve(import.meta.dirname, '../../fixtures/markdown/mdx');

function fixture(name: string): string {
  const text = readFileSync(path.join(fixtures, name), 'utf8');
  return splitFrontMatter(text)?.body ?? text;
}

describe('mdxToMarkdown', () => {
  it.each([
    [
      'drops import and export statements, keeping the line count',
      "import A from './a';\nimport {\n  B,\n} from 'b';\n\nText.",
      '\n\n\n\n\nText.',
    ],
    ['drops a multi-line export', 'export const meta = {\n  title: "x",\n};\n\nText.', '\n\n\n\nText.'],
    [
      'keeps prose that only starts with the word import',
      'import the data from the file\nand go on.',
      'import the data from the file\nand go on.',
    ],
    ['drops inline tags and keeps their text', 'Press <Kbd>Ctrl</Kbd>+<Kbd>C</Kbd>.', 'Press Ctrl+C.'],
    [
      'drops a tag whose attributes hold > and braces',
      '<Img src="a>b" alt={\'x > y\'} {...rest} />text',
      'text',
    ],
    ['drops fragments', 'A <>fragment</> here', 'A fragment here'],
    [
      'drops expressions, keeps plain strings',
      'Sum {1 + 2}, {\'kept\'}, {"a \\"b\\""}, {`tpl`}, {`a ${b}`}.',
      'Sum , kept, a "b", tpl, .',
    ],
    ['drops comment expressions and nested braces', "{/* note */}A {{a: {b: 1}}} B {'}'}", 'A  B }'],
    [
      'leaves code spans and fences alone',
      '`<Tabs>` and `{x}`\n\n```jsx\n<Foo bar={1} />\n```',
      '`<Tabs>` and `{x}`\n\n```jsx\n<Foo bar={1} />\n```',
    ],
    [
      'leaves escaped braces and angle brackets alone',
      '\\{not an expression\\} and \\<not a tag>',
      '\\{not an expression\\} and \\<not a tag>',
    ],
    [
      'leaves a bare < in prose and autolinks as text',
      'a < b, x<5, <3 and <https://example.com>',
      'a < b, x<5, <3 and <https://example.com>',
    ],
    ['drops HTML comments', 'A <!-- hidden --> B', 'A  B'],
    [
      'keeps an unclosed brace or tag as text',
      'Open { brace and <Tag attr="x',
      'Open { brace and <Tag attr="x',
    ],
    [
      'dedents the content of a component so indented headings and fences count',
      '<Tabs>\n  <TabItem value="a">\n\n    ## Heading\n\n    ```sh\n    # code\n    ```\n\n  </TabItem>\n</Tabs>',
      '\n\n\n## Heading\n\n```sh\n# code\n```\n\n\n',
    ],
  ])('%s', (_name, mdx, markdown) => {
    expect(mdxToMarkdown(mdx)).toBe(markdown);
  });
});

describe('looksLikeMdx', () => {
  it.each([
    [
      'import Tabs from \'@theme/Tabs\';\n\n# Title\n\n<Tabs>\n  <TabItem value="a">\n\nText\n\n  </TabItem>\n</Tabs>\n',
      true,
    ],
    ['import {\n  Note,\n} from "./note";\n\n<Note />\n', true],
    ['# Title\n\nexport const x = 1;\n\n<Chart data={x} />\n', true],
    ["import Tabs from '@theme/Tabs';\n\n# Imports but no component", false],
    ['# Title\n\n<Tabs>\n  <TabItem value="a">\n\nText\n\n  </TabItem>\n</Tabs>\n', false],
    ['# Go templates\n\nUse {{ .Labels.instance }} in <b>annotations</b>.\n', false],
    ['```js\nimport x from "y";\n<Foo />\n```\n', false],
    ['<div align="center">\n<img src="logo.png">\n</div>\n', false],
  ])('%j -> %s', (text, expected) => {
    expect(looksLikeMdx(text)).toBe(expected);
  });
});

describe('chunking MDX documents', () => {
  it('chunks a broken MDX page without failing, reading what can be read', () => {
    const chunks = chunkMarkdown(fixture('broken.mdx'), { format: 'mdx', minChunkTokens: 0 });
    expect(chunks.map((chunk) => chunk.section)).toEqual([
      'Broken but readable',
      'Broken but readable > Still a section',
    ]);
    const text = chunks.map((chunk) => chunk.text).join('\n');
    expect(text).toContain('a < b and b > c');
    expect(text).toContain('Prose after { an unclosed brace');
    expect(text).not.toContain('import Foo');
  });

  it('reads a Markdown file that uses MDX as MDX, for sections and for the title', () => {
    const text = fixture('md-with-mdx.md');
    expect(chunkMarkdown(text, { minChunkTokens: 0 }).map((chunk) => chunk.section)).toEqual([
      'Markdown file that uses MDX > First tab',
    ]);
    expect(findFirstHeading(text)).toBe('Markdown file that uses MDX');
  });

  it('takes the title of an MDX page from its first heading, after the imports', () => {
    expect(findFirstHeading(fixture('tabs.mdx'), 1, 'mdx')).toBe('Installation');
  });

  it.each(readdirSync(fixtures).sort())('labels every chunk of %s with a path of its headings', (name) => {
    const text = fixture(name);
    const titles = new Set<string>();
    for (const line of mdxToMarkdown(text).split('\n')) {
      const match = /^#{1,6}\s+(.*)$/.exec(line);
      if (match) titles.add(match[1]!.replace(/`/g, '').trim());
    }
    for (const chunk of chunkMarkdown(text, { format: 'mdx' })) {
      for (const title of chunk.section === '' ? [] : chunk.section.split(' > '))
        expect(titles).toContain(title);
    }
  });
});

describe('mdxToMarkdown line structure', () => {
  it('keeps a backslash before a line break as a hard break and keeps the lines apart', () => {
    expect(mdxToMarkdown('first\\\n## Heading\n\ntext')).toBe('first\\\n## Heading\n\ntext');
  });

  it('returns as many lines as it was given', () => {
    const mdx =
      "import A from 'a';\n\n<A\n  x={1}\n/>\n\n```\n<B/>\n```\n{`multi\nline`}\n<!--\nnote\n-->\nend";
    expect(mdxToMarkdown(mdx).split('\n')).toHaveLength(mdx.split('\n').length);
  });
});
