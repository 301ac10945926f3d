import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/bench/vectors.js';
import { isHeadingOnly } from '../../src/chunking/chunk-stats.js';
import { type ChunkFormat, type ChunkOptions, chunkMarkdown } from '../../src/chunking/markdown-chunker.js';
import { estimateTokens } from '../../src/chunking/tokens.js';

const vocabulary = [
  'scrape',
  'targets',
  'Prometheus',
  'alert',
  'rule',
  'label',
  'series',
  'query',
  'exporter',
  'metric',
  'histogram',
  'bucket',
  'remote_write',
  'camelCaseName',
  '2024',
  'über',
  '监控',
  'naïve',
  '🙂',
  'x'.repeat(700),
];

interface Generated {
  markdown: string;
  /** The document without what carries no text (comments). */
  content: string;
  titles: Set<string>;
}

/** A random document of headings, paragraphs, lists, fences, tables, quotes and comments. */
function generate(next: () => number): Generated {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const count = (max: number) => 1 + Math.floor(next() * max);
  const word = () => (next() < 0.01 ? pick(vocabulary) : pick(vocabulary.slice(0, -1)));
  const sentence = () => {
    const words = Array.from({ length: count(14) }, word).join(' ');
    return `${words[0]!.toUpperCase()}${words.slice(1)}.`;
  };
  const blocks: Array<{ text: string; content: boolean }> = [];
  const titles = new Set<string>();
  const total = count(30);
  for (let index = 0; index < total; index++) {
    const kind = next();
    if (kind < 0.2) {
      const title = `${pick(vocabulary.slice(0, 10))} ${index}`;
      titles.add(title);
      const setext = next() < 0.2;
      blocks.push({
        text: setext
          ? `${title}\n${(next() < 0.5 ? '=' : '-').repeat(count(8))}`
          : `${'#'.repeat(count(4))} ${title}`,
        content: true,
      });
    } else if (kind < 0.5) {
      const lines = Array.from({ length: count(8) }, () =>
        Array.from({ length: count(4) }, sentence).join(' '),
      );
      blocks.push({ text: lines.join('\n'), content: true });
    } else if (kind < 0.65) {
      blocks.push({
        text: Array.from({ length: count(25) }, () => `- ${sentence()} ${sentence()}`).join('\n'),
        content: true,
      });
    } else if (kind < 0.75) {
      const lines = Array.from({ length: count(70) }, (_, line) =>
        line % 5 === 0 ? `# comment ${line}` : `run --flag=${line} ${word()}`,
      );
      blocks.push({ text: ['```sh', ...lines, '```'].join('\n'), content: true });
    } else if (kind < 0.85) {
      const rows = Array.from({ length: count(50) }, (_, row) => `| k_${row} | ${sentence()} |`);
      blocks.push({ text: ['| key | value |', '| --- | --- |', ...rows].join('\n'), content: true });
    } else if (kind < 0.92) {
      blocks.push({ text: `> ${sentence()} ${sentence()}`, content: true });
    } else {
      blocks.push({ text: `<!--\n# ${sentence()}\n-->`, content: false });
    }
  }
  blocks.push({ text: sentence(), content: true });
  return {
    markdown: blocks.map((block) => block.text).join('\n\n'),
    content: blocks
      .filter((block) => block.content)
      .map((block) => block.text)
      .join('\n\n'),
    titles,
  };
}

const structuralLine = /^\s*(?:```|~~~)|^\| key \| value \|$|^\| --- \| --- \|$/;

/** Text with the lines a cut repeats (fences, table header rows) and all whitespace removed. */
function normalise(text: string): string {
  return text
    .split('\n')
    .filter((line) => !structuralLine.test(line))
    .join('\n')
    .replace(/\s+/g, '');
}

const headingLine = /^ {0,3}#{1,6}(?:\s|$)/;

describe('chunkMarkdown on generated documents', () => {
  it('gives back all the text: the chunks minus their overlap, joined, are the document', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const next = mulberry32(seed);
      const document = generate(next);
      const chunkTokens = 32 + Math.floor(next() * 600);
      const options: ChunkOptions = {
        chunkTokens,
        chunkOverlap: Math.floor(next() * (chunkTokens / 4)),
        minChunkTokens: Math.floor(next() * Math.min(65, chunkTokens / 2)),
      };
      const chunks = chunkMarkdown(document.markdown, options);
      const rebuilt = chunks.map((chunk) => chunk.text.slice(chunk.overlapChars)).join('\n');
      expect(normalise(rebuilt), `seed ${seed}`).toBe(normalise(document.content));
      for (const chunk of chunks) {
        const where = `seed ${seed} #${chunk.chunkIndex}`;
        expect(chunk.estimatedTokens, where).toBeLessThanOrEqual(chunkTokens);
        expect(isHeadingOnly(chunk.text), where).toBe(false);
        expect(chunk.text.trimEnd().split('\n').pop(), where).not.toMatch(headingLine);
        expect(chunk.text.split('\n').filter((line) => /^\s*```/.test(line)).length % 2, where).toBe(0);
        for (const title of chunk.section === '' ? [] : chunk.section.split(' > ')) {
          expect(document.titles.has(title), `${where}: ${title}`).toBe(true);
        }
        if (chunk.overlapChars > 0) {
          const overlap = chunk.text.slice(0, chunk.overlapChars).trimEnd();
          expect(chunks[chunk.chunkIndex - 1]!.text.endsWith(overlap), where).toBe(true);
          expect(overlap, where).not.toMatch(/^#{1,6}\s/m);
        }
      }
    }
  });
});

describe('chunkMarkdown on random input', () => {
  const alphabet = '#`~<>{}[]()|-=*_!\\/:;"\' \t\n\n\n\r\0aZ09é监🙂\ud800';
  const formats: ChunkFormat[] = ['markdown', 'mdx', 'plain'];

  it('never throws, and every chunk is well formed', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const next = mulberry32(seed);
      let text: string;
      if (seed % 3 === 0) {
        text = Buffer.from(
          Array.from({ length: Math.floor(next() * 3000) }, () => Math.floor(next() * 256)),
        ).toString('utf8');
      } else {
        text = Array.from(
          { length: Math.floor(next() * 3000) },
          () => alphabet[Math.floor(next() * alphabet.length)],
        ).join('');
      }
      const chunkTokens = 16 + Math.floor(next() * 200);
      const options: ChunkOptions = {
        chunkTokens,
        chunkOverlap: Math.floor(next() * (chunkTokens / 2)),
        minChunkTokens: Math.floor(next() * (chunkTokens / 2)),
        format: formats[seed % 3]!,
      };
      const chunks = chunkMarkdown(text, options);
      chunks.forEach((chunk, index) => {
        expect(chunk.chunkIndex, `seed ${seed}`).toBe(index);
        expect(chunk.text.trim(), `seed ${seed}`).not.toBe('');
        expect(chunk.estimatedTokens, `seed ${seed}`).toBe(estimateTokens(chunk.text));
        expect(chunk.contentHash).toBe(createHash('sha256').update(chunk.text).digest('hex'));
      });
      if (options.format === 'plain') {
        const rebuilt = chunks.map((chunk) => chunk.text.slice(chunk.overlapChars)).join('');
        expect(rebuilt.replace(/\s+/g, ''), `seed ${seed}`).toBe(text.replace(/\r/g, '').replace(/\s+/g, ''));
      }
    }
  });
});
