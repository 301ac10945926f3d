import { chunkMarkdown } from '../../chunking/markdown-chunker.js';
import type { Config } from '../../config/schema.js';
import { UsageError } from '../../errors.js';
import { discoverFiles } from '../../sources/discover.js';
import { readDocuments } from '../../sources/read.js';
import { mulberry32 } from '../vectors.js';

/** Words of the generated texts: technical prose, so that a tokenizer splits them as it would docs. */
const WORDS = (
  'the a of to and in is for on with that by as from at or be this are it an which can each when ' +
  'metrics scrape target label query alert rule series sample histogram counter gauge exporter ' +
  'configuration service discovery endpoint interval timeout retention storage compaction block ' +
  'index shard replica cluster node pod container deployment namespace latency throughput request ' +
  'response error rate budget objective dashboard panel recording expression function aggregation ' +
  'vector matrix range instant selector matcher regex duration bucket quantile summary federation ' +
  'remote write read receiver agent tenant cardinality memory disk network cpu kernel process ' +
  'embedding model token batch queue worker pipeline stage upsert collection payload filter'
).split(' ');

/**
 * `count` deterministic texts of 40 to 240 words (about 60 to 350 tokens), sentences of 6 to 18
 * words: embedding input of realistic, varied length without a corpus.
 */
export function generatedTexts(count: number, seed: number): string[] {
  const random = mulberry32(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const texts: string[] = [];
  for (let text = 0; text < count; text += 1) {
    const target = 40 + pick(201);
    const sentences: string[] = [];
    let words = 0;
    while (words < target) {
      const length = Math.min(6 + pick(13), target - words);
      const sentence = Array.from({ length }, () => WORDS[pick(WORDS.length)]!);
      sentences.push(`${sentence[0]!.charAt(0).toUpperCase()}${sentence.join(' ').slice(1)}.`);
      words += length;
    }
    texts.push(sentences.join(' '));
  }
  return texts;
}

/**
 * Up to `limit` chunk texts from a folder, read and chunked as `ingest` would (same include and
 * exclude globs, chunk size and overlap), in file order. Unreadable input is skipped. Fails when
 * the folder yields no text at all.
 */
export async function corpusTexts(folder: string, limit: number, config: Config): Promise<string[]> {
  const files = await discoverFiles([folder], {
    include: config.ingest.include,
    exclude: config.ingest.exclude,
  });
  const texts: string[] = [];
  const reader = readDocuments(files, {
    textField: config.ingest.textField,
    idField: config.ingest.idField,
    maxLineBytes: config.ingest.maxLineBytes,
  });
  for await (const event of reader) {
    if (event.kind !== 'document') continue;
    const chunks = chunkMarkdown(event.document.text, {
      chunkTokens: config.ingest.chunkTokens,
      chunkOverlap: config.ingest.chunkOverlap,
      format: event.document.format,
    });
    for (const chunk of chunks) {
      if (chunk.text.trim() === '') continue;
      texts.push(chunk.text);
      if (texts.length >= limit) return texts;
    }
  }
  if (texts.length === 0) throw new UsageError(`no text to embed in ${folder}`);
  return texts;
}
