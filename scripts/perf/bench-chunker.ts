/**
 * Chunker throughput on the bundled Prometheus docs: chunks/s and MB/s of Markdown in, on one
 * thread (the chunker is synchronous, so it uses one core; pin it with `taskset -c 0` to keep GC
 * helper threads off other cores too). Run alone, it prints one JSON line:
 *
 *   npx tsx scripts/perf/bench-chunker.ts [--min-ms 5000] [--corpus fixtures/prometheus-docs]
 *
 * Each document is read as the Markdown reader reads it (front matter split off) and chunked with
 * the default budget (512 tokens, 64 overlap), `.mdx` files as MDX.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chunkMarkdown } from '../../src/chunking/markdown-chunker.js';
import { normaliseText } from '../../src/sources/document.js';
import { splitFrontMatter } from '../../src/sources/markdown-reader.js';
import { measure } from './measure.js';

export interface ChunkerBenchResult {
  documents: number;
  /** UTF-8 bytes of the document bodies (front matter excluded). */
  bytes: number;
  /** Chunks of one pass over the corpus. */
  chunks: number;
  chunksPerSecond: number;
  megabytesPerSecond: number;
  /** Chunks per second of this process's CPU time: steadier than wall time on a shared machine. */
  chunksPerCpuSecond: number;
}

const defaultCorpus = fileURLToPath(new URL('../../fixtures/prometheus-docs', import.meta.url));

function readCorpus(root: string): Array<{ body: string; mdx: boolean }> {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.(md|markdown|mdx)$/.test(file))
    .sort()
    .map((file) => {
      const text = normaliseText(readFileSync(path.join(root, file), 'utf8'));
      return { body: splitFrontMatter(text)?.body ?? text, mdx: file.endsWith('.mdx') };
    });
}

export async function benchChunker(
  options: { corpus?: string; minMs?: number } = {},
): Promise<ChunkerBenchResult> {
  const documents = readCorpus(options.corpus ?? defaultCorpus);
  const bytes = documents.reduce((sum, document) => sum + Buffer.byteLength(document.body), 0);
  const pass = (): number => {
    let chunks = 0;
    for (const document of documents) {
      // The format widens to 'mdx' with the CommonMark chunker; a cast keeps this script runnable on both.
      const format = (document.mdx ? 'mdx' : 'markdown') as 'markdown';
      chunks += chunkMarkdown(document.body, { chunkTokens: 512, chunkOverlap: 64, format }).length;
    }
    return chunks;
  };
  const chunks = pass();
  const cpuBefore = process.cpuUsage();
  const rate = await measure(pass, 1, { minMs: options.minMs ?? 5000, warmupRuns: 3 });
  const cpu = process.cpuUsage(cpuBefore);
  const passesPerCpuSecond = (rate.runs + 3) / ((cpu.user + cpu.system) / 1e6);
  return {
    documents: documents.length,
    bytes,
    chunks,
    chunksPerSecond: rate.perSecond * chunks,
    megabytesPerSecond: (rate.perSecond * bytes) / 1e6,
    chunksPerCpuSecond: passesPerCpuSecond * chunks,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { 'min-ms': { type: 'string', default: '5000' }, corpus: { type: 'string' } },
  });
  const result = await benchChunker({ corpus: values.corpus, minMs: Number(values['min-ms']) });
  console.log(
    JSON.stringify({
      documents: result.documents,
      mb: Number((result.bytes / 1e6).toFixed(3)),
      chunks: result.chunks,
      chunks_per_s: Math.round(result.chunksPerSecond),
      mb_per_s: Number(result.megabytesPerSecond.toFixed(2)),
      chunks_per_cpu_s: Math.round(result.chunksPerCpuSecond),
    }),
  );
}
