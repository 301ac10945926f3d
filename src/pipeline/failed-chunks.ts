import { renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { TabootError, UsageError } from '../errors.js';
import type { PayloadValue } from '../qdrant/point-encoder.js';
import type { SourceDocument } from '../sources/document.js';
import { JsonlOutput } from './jsonl-output.js';
import type { ReportedFailure } from './work-item.js';

/**
 * `--failed-out`: every chunk that could not be ingested, one JSONL line each, in a shape
 * `taboot ingest` takes back as input. The line keeps the chunk's identity (`id`, `chunk_index`,
 * `doc_hash`, `source`), so that re-ingesting it writes the very point it should have been, and
 * says why it failed under `failure`.
 */
export class FailedChunkWriter {
  private readonly output: JsonlOutput;
  private readonly partialPath: string;
  count = 0;

  /**
   * Opens `<path>.partial` at once, so a path that cannot be written fails before any work; it is
   * renamed to `path` by `close`, so an earlier file survives a crash. `inputs` are the files being
   * ingested: writing over one of them would destroy the input being read.
   */
  constructor(
    readonly path: string,
    private readonly fields: { idField: string; textField: string },
    inputs: readonly string[],
  ) {
    const target = resolve(path);
    if (inputs.some((input) => resolve(input) === target)) {
      throw new UsageError(`--failed-out ${path} is one of the files being ingested; write it elsewhere`);
    }
    this.partialPath = `${target}.partial`;
    this.output = new JsonlOutput('--failed-out', path, this.partialPath);
  }

  write(failure: ReportedFailure): void {
    const { item } = failure;
    const { content: _content, doc_id: _docId, ...rest } = item.payload;
    // Identity and text last, under the configured field names, so that no payload key can
    // replace them and `taboot ingest` with the same config reads the line back as this chunk.
    const line: Record<string, unknown> = {
      ...rest,
      [this.fields.idField]: item.docId,
      [this.fields.textField]: item.text,
      failure: { stage: failure.stage, reason: failure.reason, at: failure.location },
    };
    if (item.vector)
      line.vector = Buffer.from(item.vector.buffer, item.vector.byteOffset, item.vector.byteLength).toString(
        'base64',
      );
    this.count += 1;
    this.output.write(line);
  }

  async close(): Promise<void> {
    const error = await this.output.close();
    if (error) {
      throw new TabootError(`--failed-out ${this.path}: write failed (${error.message})`, {
        hint: `The chunks written so far are in ${this.partialPath}.`,
      });
    }
    renameSync(this.partialPath, resolve(this.path));
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
