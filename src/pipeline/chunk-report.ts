import { once } from 'node:events';
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { type ChunkDistribution, ChunkStats, chunkRecord } from '../chunking/chunk-stats.js';
import type { ChunkFormat } from '../chunking/markdown-chunker.js';
import { UsageError } from '../errors.js';
import { payloadKeys } from '../qdrant/payload-keys.js';
import type { WorkItem } from './work-item.js';

/**
 * What the run will embed, for a person to inspect: the size distribution of the chunks (the
 * dry-run summary shows it), and with `--chunks-out` every chunk as one JSONL line (point id,
 * document, section, token estimate, text).
 */
export class ChunkReport {
  private readonly stats: ChunkStats;
  private stream: WriteStream | undefined;
  private streamError: Error | undefined;

  constructor(
    chunking: { chunkTokens: number; minChunkTokens: number },
    private readonly path: string | undefined,
  ) {
    this.stats = new ChunkStats(chunking);
    if (path === undefined) return;
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (error) {
      throw new UsageError(
        `--chunks-out ${path}: cannot write (${(error as NodeJS.ErrnoException).code ?? error})`,
      );
    }
    this.stream = createWriteStream('', { fd });
    this.stream.on('error', (error) => {
      this.streamError ??= error;
    });
  }

  add(item: WorkItem, format: ChunkFormat): void {
    this.stats.add({ text: item.text, estimatedTokens: item.estimatedTokens }, format);
    if (!this.stream) return;
    const section = String(item.payload[payloadKeys.section] ?? '');
    const record = chunkRecord(item.pointId, item.docId, {
      chunkIndex: item.chunkIndex,
      section,
      estimatedTokens: item.estimatedTokens,
      text: item.text,
    });
    this.stream.write(`${JSON.stringify(record)}\n`);
  }

  distribution(): ChunkDistribution {
    return this.stats.report();
  }

  async close(): Promise<void> {
    if (!this.stream) return;
    this.stream.end();
    await once(this.stream, 'close').catch(() => {});
    if (this.streamError)
      throw new UsageError(`--chunks-out ${this.path}: write failed (${this.streamError.message})`);
  }
}
