import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../../src/chunking/tokens.js';

// Token counts from the Qwen3 tokenizer (the one Qwen3-Embedding uses), without special tokens.
const samples = [
  {
    kind: 'English prose',
    qwen: 98,
    text: "Prometheus is an open-source systems monitoring and alerting toolkit originally built at SoundCloud. Since its inception in 2012, many companies and organizations have adopted Prometheus, and the project has a very active developer and user community. It is now a standalone open source project and maintained independently of any company. To emphasize this, and to clarify the project's governance structure, Prometheus joined the Cloud Native Computing Foundation in 2016 as the second hosted project, after Kubernetes.",
  },
  {
    kind: 'TypeScript',
    qwen: 76,
    text: 'export async function discoverFiles(paths: readonly string[], options: DiscoverOptions = {}): Promise<DiscoveredFile[]> {\n  const include = options.include && options.include.length > 0 ? options.include : defaultInclude;\n  const isIncluded = picomatch([...include]);\n  for (const given of paths) {\n    const absolute = path.resolve(given);\n  }\n}',
  },
  {
    kind: 'Chinese',
    qwen: 55,
    text: 'Biome 是一个用于 Web 项目的高性能工具链，旨在为开发者提供维护这些项目的工具。Biome 是一个快速的格式化工具，适用于 JavaScript、TypeScript、JSX 和 JSON，与 Prettier 的兼容性达到了 97%。',
  },
  {
    kind: 'numbers',
    qwen: 45,
    text: 'scrape_interval: 15s, evaluation_interval: 30s, port 9090, 2024-01-02T03:04:05Z',
  },
];

describe('estimateTokens', () => {
  it.each(samples)('lands within 10% of the Qwen3 tokenizer on $kind', ({ qwen, text }) => {
    const estimate = estimateTokens(text);
    expect(Math.abs(estimate - qwen) / qwen).toBeLessThanOrEqual(0.1);
  });

  it('does much better than chars/4 on CJK, where a character is most of a token', () => {
    const chinese = samples[2]!;
    expect(Math.abs(estimateTokens(chinese.text) - chinese.qwen)).toBeLessThan(
      Math.abs(chinese.text.length / 4 - chinese.qwen) / 4,
    );
  });

  it('counts every digit, since Qwen splits numbers into single digits', () => {
    expect(estimateTokens('1234567890')).toBe(12);
    expect(estimateTokens('a')).toBe(1);
  });

  it('is 0 only for empty text; spaces between words cost nothing', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('        ')).toBe(1);
    expect(estimateTokens('one two')).toBe(estimateTokens('one        two'));
  });

  it('counts camelCase identifiers as several tokens', () => {
    expect(estimateTokens('maxClientBatchSize')).toBeGreaterThan(estimateTokens('maxclientbatchsize'));
  });

  it('never estimates two texts joined by whitespace above the sum of their estimates', () => {
    const parts = samples.map((sample) => sample.text);
    for (const a of parts) {
      for (const b of parts) {
        for (const sep of [' ', '\n', '\n\n']) {
          expect(estimateTokens(a + sep + b)).toBeLessThanOrEqual(estimateTokens(a) + estimateTokens(b) + 1);
        }
      }
    }
  });
});
