import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { headingTitle, markdownBlocks } from '../../src/chunking/markdown-blocks.js';
import { chunkMarkdown, chunkText } from '../../src/chunking/markdown-chunker.js';
import { estimateTokens } from '../../src/chunking/tokens.js';
import { UsageError } from '../../src/errors.js';
import { splitFrontMatter } from '../../src/sources/markdown-reader.js';

const corpusRoot = path.resolve(import.meta.dirname, '../../fixtures/prometheus-docs');

function corpus(): Array<{ file: string; body: string }> {
  return readdirSync(corpusRoot, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => {
      const text = readFileSync(path.join(corpusRoot, file), 'utf8');
      return { file, body: splitFrontMatter(text)?.body ?? text };
    });
}

/** Sentences of roughly ten tokens each, numbered so that every one is distinct. */
function prose(sentences: number, from = 0): string {
  return Array.from(
    { length: sentences },
    (_, index) => `Sentence ${from + index} talks about scraping targets.`,
  ).join(' ');
}

/** Every fence line in a chunk, outside and inside: they must pair up. */
function fenceLines(text: string): string[] {
  return text.split('\n').filter((line) => /^\s*(```|~~~)/.test(line));
}

describe('chunkMarkdown', () => {
  it('labels chunks with their heading path and starts each section in a new chunk', () => {
    const text = [
      'Preamble text.',
      '# Guide',
      prose(8),
      '## Install',
      prose(8, 100),
      '### Linux',
      prose(8, 200),
      '## Configure',
      prose(8, 300),
    ].join('\n\n');
    const chunks = chunkMarkdown(text, { chunkTokens: 200, chunkOverlap: 0, minChunkTokens: 0 });
    expect(chunks.map((chunk) => chunk.section)).toEqual([
      '',
      'Guide',
      'Guide > Install',
      'Guide > Install > Linux',
      'Guide > Configure',
    ]);
    expect(chunks[2]!.text.startsWith('## Install\n\nSentence 100')).toBe(true);
    expect(chunks.map((chunk) => chunk.chunkIndex)).toEqual([0, 1, 2, 3, 4]);
  });

  it('ignores # lines inside code fences', () => {
    const text = ['# Real', 'Text.', '```sh', '# a shell comment', 'echo hi', '```', 'More text.'].join(
      '\n\n',
    );
    const chunks = chunkMarkdown(text, { minChunkTokens: 0 });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.section).toBe('Real');
    expect([...markdownBlocks(text)].filter((block) => block.kind === 'heading')).toHaveLength(1);
  });

  it('keeps every chunk within the token budget and splits long sections at paragraphs, then sentences', () => {
    const paragraphs = Array.from({ length: 12 }, (_, index) => prose(6, index * 10));
    const huge = prose(120, 1000);
    const text = ['# Long', ...paragraphs, huge].join('\n\n');
    const chunks = chunkMarkdown(text, { chunkTokens: 128, chunkOverlap: 16 });
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) {
      expect(chunk.estimatedTokens).toBe(estimateTokens(chunk.text));
      expect(chunk.estimatedTokens).toBeLessThanOrEqual(128);
      // A cut falls between sentences: every chunk ends at a sentence end.
      expect(chunk.text.trimEnd().endsWith('.')).toBe(true);
    }
  });

  it('hard-splits a sentence or a word larger than the budget', () => {
    const word = 'x'.repeat(5000);
    const sentence = Array.from({ length: 400 }, (_, index) => `w${index}`).join(' ');
    const chunks = chunkMarkdown(`${word}\n\n${sentence}`, { chunkTokens: 64, chunkOverlap: 8 });
    for (const chunk of chunks) expect(chunk.estimatedTokens).toBeLessThanOrEqual(64);
    const all = chunks.map((chunk) => chunk.text).join('');
    expect(all.split('x').length - 1).toBeGreaterThanOrEqual(5000);
    expect(all).toContain('w399');
  });

  it('never cuts a code block or a table that fits in a chunk', () => {
    const code = [
      '```yaml',
      ...Array.from({ length: 20 }, (_, index) => `key${index}: value${index}`),
      '```',
    ].join('\n');
    const table = [
      '| a | b |',
      '| - | - |',
      ...Array.from({ length: 15 }, (_, index) => `| ${index} | x${index} |`),
    ].join('\n');
    const text = ['# Doc', prose(20), code, prose(20, 50), table, prose(20, 80)].join('\n\n');
    const chunks = chunkMarkdown(text, { chunkTokens: 300, chunkOverlap: 32 });
    expect(chunks.filter((chunk) => chunk.text.includes(code))).toHaveLength(1);
    expect(chunks.filter((chunk) => chunk.text.includes(table))).toHaveLength(1);
  });

  it('splits an oversized code block by lines, each piece a closed fence with the opener repeated', () => {
    const lines = Array.from({ length: 300 }, (_, index) => `  line_${index} = compute(${index})`);
    const text = `# Code\n\n~~~~python title="x"\n${lines.join('\n')}\n~~~~\n`;
    const chunks = chunkMarkdown(text, { chunkTokens: 100, chunkOverlap: 10 });
    expect(chunks.length).toBeGreaterThan(5);
    const seen: string[] = [];
    for (const chunk of chunks) {
      expect(chunk.estimatedTokens).toBeLessThanOrEqual(100);
      const fences = fenceLines(chunk.text);
      expect(fences.length % 2).toBe(0);
      for (let index = 0; index < fences.length; index += 2) {
        expect(fences[index]).toBe('~~~~python title="x"');
        expect(fences[index + 1]).toBe('~~~~');
      }
      seen.push(...chunk.text.split('\n').filter((line) => line.startsWith('  line_')));
    }
    expect(seen).toEqual(lines);
  });

  it('splits an oversized table by rows, repeating the header rows', () => {
    const rows = Array.from({ length: 80 }, (_, index) => `| metric_${index} | counter | ${index} |`);
    const text = ['| name | type | n |', '|------|------|---|', ...rows].join('\n');
    const chunks = chunkMarkdown(text, { chunkTokens: 120, chunkOverlap: 0 });
    expect(chunks.length).toBeGreaterThan(3);
    const seen: string[] = [];
    for (const chunk of chunks) {
      expect(chunk.text.startsWith('| name | type | n |\n|------|------|---|\n')).toBe(true);
      seen.push(...chunk.text.split('\n').slice(2));
    }
    expect(seen).toEqual(rows);
  });

  it('starts a chunk with the tail of the previous one in the same section, at a sentence boundary', () => {
    const text = `# Overlap\n\n${prose(60)}`;
    const chunks = chunkMarkdown(text, { chunkTokens: 120, chunkOverlap: 30 });
    expect(chunks.length).toBeGreaterThan(2);
    for (let index = 1; index < chunks.length; index++) {
      const previous = chunks[index - 1]!.text;
      const current = chunks[index]!.text;
      const first = Number(/^Sentence (\d+) /.exec(current)?.[1]);
      const last = Number(/Sentence (\d+) talks about scraping targets\.$/.exec(previous)?.[1]);
      expect(first).toBeLessThanOrEqual(last);
      const overlap = prose(last - first + 1, first);
      expect(previous.endsWith(` ${overlap}`)).toBe(true);
      expect(current.startsWith(`${overlap} Sentence ${last + 1} `)).toBe(true);
      expect(estimateTokens(overlap)).toBeLessThanOrEqual(30);
      expect(estimateTokens(overlap)).toBeGreaterThan(15);
    }
  });

  it('adds no overlap across sections, or when chunkOverlap is 0', () => {
    const text = `# A\n\n${prose(30)}\n\n# B\n\n${prose(30, 100)}`;
    const withOverlap = chunkMarkdown(text, { chunkTokens: 200, chunkOverlap: 40 });
    const firstOfB = withOverlap.find((chunk) => chunk.section === 'B')!;
    expect(firstOfB.text.startsWith('# B')).toBe(true);
    const without = chunkMarkdown(text, { chunkTokens: 200, chunkOverlap: 0 });
    const sentences = without.flatMap((chunk) => chunk.text.match(/Sentence \d+/g) ?? []);
    expect(new Set(sentences).size).toBe(sentences.length);
  });

  it('merges small sections with their neighbour and labels the chunk by the section that holds most of it', () => {
    const text = ['# Title', '## Tiny', 'Short.', '## Big', prose(10)].join('\n\n');
    const chunks = chunkMarkdown(text, { chunkTokens: 512, chunkOverlap: 0 });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.text.startsWith('# Title\n\n## Tiny\n\nShort.\n\n## Big')).toBe(true);
    expect(chunks[0]!.section).toBe('Title > Big');
    // Without a minimum, only the heading with no text of its own moves on with the next section.
    const separate = chunkMarkdown(text, { chunkTokens: 512, chunkOverlap: 0, minChunkTokens: 0 });
    expect(separate.map((chunk) => chunk.section)).toEqual(['Title > Tiny', 'Title > Big']);
    expect(separate[0]!.text).toBe('# Title\n\n## Tiny\n\nShort.');
  });

  it('merges a tiny last section into the one before', () => {
    const text = ['# Main', prose(10), '## Footer', 'See also.'].join('\n\n');
    const chunks = chunkMarkdown(text, { chunkTokens: 512, chunkOverlap: 0 });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.section).toBe('Main');
    expect(chunks[0]!.text.endsWith('## Footer\n\nSee also.')).toBe(true);
  });

  it('keeps a heading with the text it introduces instead of ending a chunk with it', () => {
    const text = ['# Doc', prose(5), '## Next', prose(14, 100)].join('\n\n');
    const chunks = chunkMarkdown(text, { chunkTokens: 150, chunkOverlap: 0, minChunkTokens: 60 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.text.trimEnd().endsWith('## Next')).toBe(false);
    const withHeading = chunks.find((chunk) => chunk.text.includes('## Next'))!;
    expect(withHeading.text).toContain('## Next\n\nSentence 100 ');
  });

  it('hashes chunk text with sha256 and is deterministic', () => {
    const text = readFileSync(path.join(corpusRoot, 'docs/specs/native_histograms.md'), 'utf8');
    const first = chunkMarkdown(text);
    const second = chunkMarkdown(text);
    expect(second).toEqual(first);
    for (const chunk of first) {
      expect(chunk.contentHash).toBe(createHash('sha256').update(chunk.text).digest('hex'));
    }
  });

  it('reads CRLF like LF', () => {
    const text = '# A\n\nOne.\n\n```\ncode\n```\n';
    expect(chunkMarkdown(text.replace(/\n/g, '\r\n'))).toEqual(chunkMarkdown(text));
  });

  it('returns no chunk for empty or blank text', () => {
    expect(chunkMarkdown('')).toEqual([]);
    expect(chunkMarkdown('\n  \n')).toEqual([]);
  });

  it('rejects an overlap as large as the chunk, with the option named', () => {
    expect(() => chunkMarkdown('x', { chunkTokens: 64, chunkOverlap: 64 })).toThrow(UsageError);
    expect(() => chunkMarkdown('x', { chunkTokens: 64, chunkOverlap: 64 })).toThrow('`chunkOverlap`');
    expect(() => chunkMarkdown('x', { chunkTokens: 8 })).toThrow(
      'Expected `chunkTokens` to be an integer of at least 16, got `8`',
    );
  });

  it('chunks the Prometheus corpus within budget, with balanced fences and intact small tables', () => {
    let total = 0;
    for (const { file, body } of corpus()) {
      const chunks = chunkMarkdown(body, { chunkTokens: 512, chunkOverlap: 64 });
      total += chunks.length;
      for (const chunk of chunks) {
        expect(chunk.estimatedTokens, file).toBeLessThanOrEqual(512);
        expect(fenceLines(chunk.text).length % 2, `${file} #${chunk.chunkIndex}`).toBe(0);
        expect(chunk.text.trim(), file).not.toBe('');
      }
      for (const block of markdownBlocks(body)) {
        if ((block.kind === 'table' || block.kind === 'code') && estimateTokens(block.text) <= 512) {
          expect(
            chunks.some((chunk) => chunk.text.includes(block.text)),
            `${file}: ${block.text.slice(0, 40)}`,
          ).toBe(true);
        }
      }
    }
    expect(total).toBeGreaterThan(500);
  });
});

describe('chunkText', () => {
  it('treats # lines and fences as text: paragraphs only, section always empty', () => {
    const text = `# not a heading\n${prose(30)}\n\n\`\`\`\n${prose(30, 100)}`;
    const chunks = chunkText(text, { chunkTokens: 100, chunkOverlap: 10 });
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((chunk) => chunk.section === '')).toBe(true);
    for (const chunk of chunks) expect(chunk.estimatedTokens).toBeLessThanOrEqual(100);
  });
});

describe('headingTitle', () => {
  it('reduces links, emphasis, code and tags to their text', () => {
    expect(headingTitle('[Prometheus Salon](https://example.com/x) (11:10am)')).toBe(
      'Prometheus Salon (11:10am)',
    );
    expect(headingTitle('The `scrape_config` **block** <a id="x"></a>')).toBe('The scrape_config block');
    expect(headingTitle('snake_case_name and _emphasis_')).toBe('snake_case_name and emphasis');
  });
});
