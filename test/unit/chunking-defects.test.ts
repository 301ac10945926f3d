import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findFirstHeading } from '../../src/chunking/markdown-blocks.js';
import { type ChunkFormat, chunkMarkdown } from '../../src/chunking/markdown-chunker.js';
import { splitFrontMatter } from '../../src/sources/markdown-reader.js';

// Section paths and embedded text that the hand-written chunker got wrong on real documentation
// sites, one committed fixture each (fixtures/markdown).

const fixtures = path.resolve(import.meta.dirname, '../../fixtures/markdown');

function fixture(name: string): string {
  const text = readFileSync(path.join(fixtures, name), 'utf8');
  return splitFrontMatter(text)?.body ?? text;
}

function chunksOf(name: string, options: { minChunkTokens?: number } = {}) {
  const format: ChunkFormat = name.endsWith('.mdx') ? 'mdx' : 'markdown';
  return chunkMarkdown(fixture(name), { format, ...options });
}

const headingLine = /^ {0,3}#{1,6}(?:\s|$)/;

describe('section paths', () => {
  it('keeps the text of code spans in headings, angle brackets and adjacent spans included', () => {
    const chunks = chunksOf('code-span-heading.md', { minChunkTokens: 0 });
    expect(chunks.map((chunk) => chunk.section)).toEqual([
      'Image guide > Using the <Image /> component',
      'Image guide > The + - operators',
    ]);
  });

  it('takes no heading from a # line inside an HTML comment, and leaves the comment out', () => {
    const chunks = chunksOf('comment-heading.md', { minChunkTokens: 0 });
    expect(chunks.map((chunk) => chunk.section)).toEqual([
      'Alerting rules',
      'Alerting rules > Defining alerting rules',
      'Alerting rules > Inspecting alerts during runtime',
    ]);
    for (const chunk of chunks) expect(chunk.text).not.toMatch(/Editor's note|TODO|<!--/);
  });

  it('reads setext headings as sections and as the title', () => {
    const chunks = chunksOf('setext.md', { minChunkTokens: 0 });
    expect(chunks.map((chunk) => chunk.section)).toEqual([
      'Release notes',
      'Release notes > Breaking changes',
      'Release notes > New features',
    ]);
    expect(findFirstHeading(fixture('setext.md'))).toBe('Release notes');
  });

  it('reads headings indented inside MDX components as sections', () => {
    const sections = chunksOf('mdx/tabs.mdx', { minChunkTokens: 0 }).map((chunk) => chunk.section);
    expect(sections).toContain('Installation > Linux');
    expect(sections).toContain('Installation > macOS');
    expect(sections).toContain('Installation > Verifying the installation');
  });
});

describe('MDX text', () => {
  it.each(['mdx/tabs.mdx', 'mdx/components.mdx', 'mdx/md-with-mdx.md'])(
    'embeds no import/export statement, component tag or expression of %s',
    (name) => {
      const chunks = chunksOf(name);
      expect(chunks.length).toBeGreaterThan(0);
      for (const chunk of chunks) {
        expect(chunk.text).not.toMatch(/^(?:import|export)\s/m);
        expect(chunk.text).not.toMatch(/<\/?[A-Za-z]/);
        expect(chunk.text).not.toMatch(/[{}]/);
      }
    },
  );

  it('keeps the text children of components, code in fences and string expressions', () => {
    const text = chunksOf('mdx/tabs.mdx')
      .map((chunk) => chunk.text)
      .join('\n');
    expect(text).toContain('Install the package from the official repository');
    expect(text).toContain('```bash\n# add the repository key first\nsudo apt-get install prometheus');
    expect(text).toContain('stable version');
    const components = chunksOf('mdx/components.mdx')
      .map((chunk) => chunk.text)
      .join('\n');
    expect(components).toContain('The server reads its configuration file at start-up');
  });

  it('makes no chunk of closing tags alone and ends no chunk on an open component tag', () => {
    for (const name of ['mdx/tabs.mdx', 'mdx/components.mdx', 'mdx/md-with-mdx.md']) {
      for (const chunk of chunksOf(name, { minChunkTokens: 0 })) {
        expect(chunk.text.replace(/<\/?[^>]*>/g, '').trim()).not.toBe('');
        expect(chunk.text.trimEnd()).not.toMatch(/<[A-Z][^>]*>$/);
      }
    }
  });
});

describe('chunk boundaries', () => {
  it('makes no chunk of headings alone: the headings go with the list under them', () => {
    const chunks = chunksOf('heading-only.md');
    for (const chunk of chunks) {
      expect(chunk.text.split('\n').every((line) => line.trim() === '' || headingLine.test(line))).toBe(
        false,
      );
      expect(chunk.text.trimEnd().split('\n').pop()).not.toMatch(headingLine);
    }
    const withHeading = chunks.find((chunk) => chunk.text.includes('#### New'))!;
    expect(withHeading.text).toContain('#### New\n\n- `option_0`');
    expect(withHeading.section).toBe('Changelog > 2.1.0 > Other changes > New');
  });

  it('keeps a lead-in sentence with the list it introduces, and no chunk under the minimum', () => {
    const chunks = chunksOf('lead-in.md');
    const leadIn = chunks.find((chunk) => chunk.text.includes('The following options'))!;
    expect(leadIn.text).toContain('relabelling:\n\n- `honor_labels_0`');
    for (const chunk of chunks) expect(chunk.estimatedTokens).toBeGreaterThanOrEqual(64);
  });
});
