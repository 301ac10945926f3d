import { type ChunkDistribution, ChunkStats, chunkRecord } from '../chunking/chunk-stats.js';
import type { ChunkFormat } from '../chunking/markdown-chunker.js';
import { UsageError } from '../errors.js';
import { payloadKeys } from '../qdrant/payload-keys.js';
import { JsonlOutput } from './jsonl-output.js';
import type { WorkItem } from './work-item.js';

/**
 * What the run will embed, for a person to inspect: the size distribution of the chunks (the
 * dry-run summary shows it), and with `--chunks-out` every chunk as one JSONL line (point id,
 * document, section, token estimate, text).
 */
export class ChunkReport {
  private readonly stats: ChunkStats;
  private readonly output: JsonlOutput | undefined;

  constructor(
    chunking: { chunkTokens: number; minChunkTokens: number },
    private readonly path: string | undefined,
  ) {
    this.stats = new ChunkStats(chunking);
    if (path !== undefined) this.output = new JsonlOutput('--chunks-out', path);
  }

  add(item: WorkItem, format: ChunkFormat): void {
    this.stats.add({ text: item.text, estimatedTokens: item.estimatedTokens }, format);
    if (!this.output) return;
    const section = String(item.payload[payloadKeys.section] ?? '');
    const record = chunkRecord(item.pointId, item.docId, {
      chunkIndex: item.chunkIndex,
      section,
      estimatedTokens: item.estimatedTokens,
      text: item.text,
    });
    this.output.write(record);
  }

  distribution(): ChunkDistribution {
    return this.stats.report();
  }

  async close(): Promise<void> {
    const error = await this.output?.close();
    if (error) throw new UsageError(`--chunks-out ${this.path}: write failed (${error.message})`);
  }
}
