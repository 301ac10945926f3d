/**
 * Peak RSS of chunking one huge Markdown document: a generated 20 MB single paragraph (no
 * headings, no blank lines) and a 5 MB fenced code block. Each file is written to a temporary
 * folder and chunked by a fresh child process, which reads it, chunks it (counting the chunks
 * without keeping them, as the ingest pipeline does) and reports its own peak RSS. Prints one line
 * per file, then one JSON line; exits 1 when a peak passes `--max-rss-mb` (default 400).
 *
 *   npx tsx scripts/chunker-memory.ts [--max-rss-mb 400] [--paragraph-mb 20] [--fence-mb 5]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seededRandom } from './perf/measure.js';

const { values } = parseArgs({
  options: {
    'max-rss-mb': { type: 'string', default: '400' },
    'paragraph-mb': { type: 'string', default: '20' },
    'fence-mb': { type: 'string', default: '5' },
    child: { type: 'string' },
  },
});

const words = [
  'Prometheus',
  'scrapes',
  'metrics',
  'from',
  'instrumented',
  'jobs',
  'over',
  'HTTP',
  'and',
  'stores',
  'samples',
  'as',
  'time',
  'series',
  'with',
  'labels',
  'like',
  '`job`',
  'or',
  '*instance*',
];

/** One paragraph of sentences, lines wrapped at about 100 characters, no blank line anywhere. */
function paragraph(bytes: number): string {
  const random = seededRandom(3);
  const lines: string[] = [];
  let size = 0;
  let line = '';
  while (size < bytes) {
    const word = words[Math.floor(random() * words.length)]!;
    line += line === '' ? word : ` ${word}`;
    if (random() < 0.08) line += '.';
    if (line.length >= 100) {
      lines.push(line);
      size += line.length + 1;
      line = '';
    }
  }
  return `${lines.join('\n')}\n`;
}

/** One fenced code block of short lines. */
function fence(bytes: number): string {
  const lines = ['```python'];
  let size = 0;
  for (let index = 0; size < bytes; index++) {
    const line = `    value_${index} = compute(series[${index % 97}], window=${index % 13})  # step ${index}`;
    lines.push(line);
    size += line.length + 1;
  }
  lines.push('```');
  return `${lines.join('\n')}\n`;
}

async function child(file: string): Promise<void> {
  const { iterateChunks } = await import('../src/chunking/markdown-chunker.js');
  const text = readFileSync(file, 'utf8');
  let chunks = 0;
  let maxTokens = 0;
  for (const chunk of iterateChunks(text, { chunkTokens: 512, chunkOverlap: 64 })) {
    chunks++;
    maxTokens = Math.max(maxTokens, chunk.estimatedTokens);
  }
  // maxRSS is in KiB.
  const peakMb = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ chunks, maxTokens, peakMb }));
}

if (values.child !== undefined) {
  await child(values.child);
} else {
  const maxRssMb = Number(values['max-rss-mb']);
  const dir = mkdtempSync(join(tmpdir(), 'taboot-chunker-memory-'));
  const self = fileURLToPath(import.meta.url);
  const results: Record<string, { mb: number; chunks: number; peak_rss_mb: number }> = {};
  try {
    const inputs = [
      { name: 'paragraph', text: paragraph(Number(values['paragraph-mb']) * 1e6) },
      { name: 'fence', text: fence(Number(values['fence-mb']) * 1e6) },
    ];
    for (const { name, text } of inputs) {
      const file = join(dir, `${name}.md`);
      writeFileSync(file, text);
      const started = performance.now();
      const output = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', file], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      const seconds = (performance.now() - started) / 1000;
      const report = JSON.parse(output.trim().split('\n').pop()!) as {
        chunks: number;
        maxTokens: number;
        peakMb: number;
      };
      const mb = Buffer.byteLength(text) / 1e6;
      console.log(
        `${name}: ${mb.toFixed(1)} MB -> ${report.chunks.toLocaleString('en-US')} chunks (largest ` +
          `${report.maxTokens} tokens) in ${seconds.toFixed(1)} s, peak RSS ${report.peakMb.toFixed(0)} MiB ` +
          `(limit ${maxRssMb})`,
      );
      results[name] = {
        mb: Number(mb.toFixed(1)),
        chunks: report.chunks,
        peak_rss_mb: Math.round(report.peakMb),
      };
      if (report.peakMb > maxRssMb) process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(results));
}
