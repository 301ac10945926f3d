import { availableParallelism } from 'node:os';
import { hostIsLittleEndian } from '../../qdrant/protobuf-writer.js';
import type { DiscoveredFile } from '../../sources/discovered-file.js';
import type { ReadEvent } from '../../sources/document.js';
import { READ_CHUNK_BYTES } from '../../sources/jsonl-reader.js';
import { type ReadOptions, readDocuments } from '../../sources/read.js';
import { sourceTypeFor } from '../../sources/registry.js';
import { ReaderThreads } from './reader-threads.js';

export interface ThreadedReadOptions extends ReadOptions {
  /** Reader threads for JSONL files; undefined: one per core but one (the main thread's). */
  threads?: number | undefined;
  /** Bytes per segment handed to a thread (default 1 MiB); a JSONL file no larger is read on the main thread. */
  segmentBytes?: number;
}

/** Reader threads `configured` asks for: by default one per core the main thread does not use. */
function readerThreadCount(configured: number | undefined): number {
  return configured ?? Math.max(0, availableParallelism() - 1);
}

/**
 * `readDocuments`, with JSONL files larger than one segment parsed on reader threads (see
 * `ReaderThreads`), which also encode the points of precomputed vectors. The events are the same,
 * in the same order; other files, small JSONL files and `threads: 0` are read on this thread. The
 * threads start with the first file that needs them and stop when reading ends.
 */
export async function* readSources(
  files: readonly DiscoveredFile[],
  options: ThreadedReadOptions,
): AsyncGenerator<ReadEvent> {
  const { threads: configured, segmentBytes = READ_CHUNK_BYTES, ...readOptions } = options;
  const threads = readerThreadCount(configured);
  // The encoded vectors are read back as Float32Arrays, which are little-endian only where the host is.
  if (threads === 0 || !hostIsLittleEndian) {
    yield* readDocuments(files, readOptions);
    return;
  }
  // Options are checked before the first file, as `readDocuments` checks them.
  for await (const _ of readDocuments([], readOptions));
  let pool: ReaderThreads | undefined;
  try {
    for (const file of files) {
      const threaded =
        file.skipReason === undefined &&
        file.size > segmentBytes &&
        sourceTypeFor(file.relative).name === 'JSONL';
      if (threaded) {
        pool ??= new ReaderThreads({ ...readOptions, threads, segmentBytes });
        yield* pool.read(file);
      } else {
        yield* readDocuments([file], readOptions);
      }
    }
  } finally {
    await pool?.close();
  }
}
