import type { Config } from '../../config/schema.js';
import { UsageError } from '../../errors.js';
import { discoverFiles } from '../../sources/discover.js';
import type { DiscoveredFile } from '../../sources/discovered-file.js';
import type { IngestStats } from '../stats.js';

/**
 * The files to ingest, in a stable order, with their count and size recorded for progress. Two
 * roots holding the same relative path are refused before anything is read (see below).
 */
export async function discoverStage(
  paths: readonly string[],
  config: Config,
  stats: IngestStats,
): Promise<DiscoveredFile[]> {
  const files = await discoverFiles([...paths], {
    include: config.ingest.include,
    exclude: config.ingest.exclude,
  });
  refuseCollidingPaths(files);
  // What discovery will not read (an unlistable folder, a FIFO) is reported as skipped by the
  // reader, not counted among the files to read.
  const readable = files.filter((file) => file.skipReason === undefined);
  stats.filesTotal = readable.length;
  stats.bytesTotal = readable.reduce((sum, file) => sum + file.size, 0);
  return files;
}

/**
 * A document without an id of its own is named by its path relative to its ingest root, and its
 * point ids derive from that name: two roots holding the same relative path would overwrite each
 * other's points. Refuse before reading rather than lose one of them.
 */
function refuseCollidingPaths(files: readonly DiscoveredFile[]): void {
  const seen = new Map<string, DiscoveredFile>();
  for (const file of files) {
    if (file.skipReason !== undefined) continue;
    const earlier = seen.get(file.relative);
    if (earlier && earlier.absolute !== file.absolute) {
      throw new UsageError(
        `${earlier.absolute} and ${file.absolute} are both \`${file.relative}\` under their ingest roots, ` +
          'so they would get the same document id and overwrite each other',
        {
          hint: 'Ingest their common parent folder instead, or give the documents ids (front matter doc_id, JSONL id).',
        },
      );
    }
    seen.set(file.relative, file);
  }
}
