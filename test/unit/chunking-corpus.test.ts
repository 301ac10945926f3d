import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChunkStats } from '../../src/chunking/chunk-stats.js';
import { chunkMarkdown } from '../../src/chunking/markdown-chunker.js';
import { estimateTokens } from '../../src/chunking/tokens.js';
import { splitFrontMatter } from '../../src/sources/markdown-reader.js';

// The bundled Prometheus documentation, chunked as ingest does (512 tokens, 64 overlap, minimum 64).

const root = path.resolve(import.meta.dirname, '../../fixtures/prometheus-docs');

const documents = readdirSync(root, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.md'))
  .sort()
  .map((file) => {
    const text = readFileSync(path.join(root, file), 'utf8');
    return { file, body: splitFrontMatter(text)?.body ?? text };
  });

/** Letters and digits only, lower case: compares a raw `#` line with a rendered title. */
const key = (title: string) => title.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

/**
 * Titles of `#` lines inside code fences or HTML comments and not also outside them, found by a
 * line scanner independent of the parser.
 */
function hiddenTitles(body: string): Set<string> {
  const hidden = new Set<string>();
  const visible = new Set<string>();
  let fence: string | undefined;
  let comment = false;
  for (const line of body.split('\n')) {
    const fenceMatch = /^\s*(`{3,}|~{3,})/.exec(line);
    const heading = /^\s*#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    const inside = fence !== undefined || comment;
    if (heading) (inside ? hidden : visible).add(key(heading[1]!));
    if (fence !== undefined) {
      if (fenceMatch && fenceMatch[1]!.startsWith(fence) && line.trim() === fenceMatch[1]) fence = undefined;
    } else if (comment) {
      if (line.includes('-->')) comment = false;
    } else if (fenceMatch) {
      fence = fenceMatch[1]!;
    } else if (line.includes('<!--') && !line.slice(line.indexOf('<!--')).includes('-->')) {
      comment = true;
    }
  }
  for (const title of visible) hidden.delete(title);
  hidden.delete('');
  return hidden;
}

describe('the Prometheus corpus', () => {
  const options = { chunkTokens: 512, chunkOverlap: 64, minChunkTokens: 64 };
  const results = documents.map(({ file, body }) => ({ file, body, chunks: chunkMarkdown(body, options) }));

  it('takes no section from a # line inside a code fence or an HTML comment', () => {
    let hiddenLines = 0;
    for (const { file, body, chunks } of results) {
      const hidden = hiddenTitles(body);
      hiddenLines += hidden.size;
      for (const chunk of chunks) {
        for (const title of chunk.section === '' ? [] : chunk.section.split(' > ')) {
          expect(hidden.has(key(title)), `${file}: ${chunk.section}`).toBe(false);
        }
      }
    }
    // The corpus has many `# comment` lines in fences: the check above is not vacuous.
    expect(hiddenLines).toBeGreaterThan(100);
  });

  it('makes no heading-only or over-budget chunk, and small chunks only where nothing could join them', () => {
    const stats = new ChunkStats(options);
    let wholeSmallDocuments = 0;
    for (const { body, chunks } of results) {
      for (const chunk of chunks) stats.add(chunk);
      if (chunks.length === 1 && estimateTokens(body) < options.minChunkTokens) wholeSmallDocuments++;
    }
    const report = stats.report();
    expect(report.count).toBeGreaterThan(1000);
    expect(report.headingOnly).toBe(0);
    expect(report.overBudget).toBe(0);
    expect(report.tiny - wholeSmallDocuments).toBeLessThanOrEqual(Math.ceil(report.count / 200));
  });
});
