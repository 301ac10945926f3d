import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { PayloadValue } from '../qdrant/point-encoder.js';
import type { SourceDocument } from '../sources/document.js';
import { type ItemFailure, itemLocation } from './work-item.js';

/**
 * `--failed-out`: every chunk that could not be ingested, one JSONL line each, in a shape
 * `taboot ingest` takes back as input. The line keeps the chunk's identity (`id`, `chunk_index`,
 * `doc_hash`, `source`), so that re-ingesting it writes the very point it should have been, and
 * says why it failed under `failure`.
 */
export class FailedChunkWriter {
  private readonly stream: WriteStream;
  count = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'w' });
  }

  write(failure: ItemFailure): void {
    const { item } = failure;
    const { content: _content, doc_id: _docId, ...rest } = item.payload;
    const line = {
      id: item.docId,
      text: item.text,
      ...rest,
      failure: { stage: failure.stage, reason: failure.reason, at: itemLocation(item) },
    };
    this.count += 1;
    this.stream.write(`${JSON.stringify(line)}\n`);
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

/** A document read back from a `--failed-out` file: one chunk, to be written under its old identity. */
export interface RetriedChunk {
  chunkIndex: number;
  chunkCount: number;
  section: string;
  source: string;
  docHash: string;
  metadata: Record<string, unknown>;
}

export function asRetriedChunk(document: SourceDocument): RetriedChunk | undefined {
  const { failure, chunk_index, chunk_count, section, source, doc_hash, ...metadata } = document.metadata;
  if (typeof failure !== 'object' || failure === null || !Number.isInteger(chunk_index)) return undefined;
  return {
    chunkIndex: chunk_index as number,
    chunkCount: Number.isInteger(chunk_count) ? (chunk_count as number) : (chunk_index as number) + 1,
    section: typeof section === 'string' ? section : '',
    source: typeof source === 'string' ? source : document.source,
    docHash: typeof doc_hash === 'string' ? doc_hash : document.docHash,
    metadata: metadata as Record<string, PayloadValue>,
  };
}
