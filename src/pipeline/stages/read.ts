import type { DiscoveredFile } from '../../sources/discovered-file.js';
import type { SourceDocument } from '../../sources/document.js';
import type { IngestRun } from '../ingest-run.js';
import { readSources } from '../precomputed/read-sources.js';
import type { IngestStats } from '../stats.js';

/**
 * Reads the files in order and yields their documents; problems with the input go to
 * `run.problem` (counted, reported, fatal with `--on-error fail`). Stops at Ctrl-C. Time spent
 * reading is counted as read time; time the consumer spends on a document is not.
 */
export async function* readStage(
  files: readonly DiscoveredFile[],
  run: IngestRun,
): AsyncGenerator<SourceDocument> {
  const { config, stats, signal } = run;
  run.registerFiles(files);
  const progress = new FileProgress(files, stats);
  const reader = readSources(files, {
    textField: config.ingest.textField,
    idField: config.ingest.idField,
    maxLineBytes: config.ingest.maxLineBytes,
    threads: config.ingest.readWorkers,
  });
  let started = performance.now();
  for await (const event of reader) {
    stats.readMs += performance.now() - started;
    if (signal.aborted) return;
    if (event.kind === 'problem') {
      run.problem(event.problem);
    } else {
      progress.enter(event.document.file);
      yield event.document;
    }
    started = performance.now();
  }
  progress.finish();
}

/** Files and bytes done, for the progress display: a file counts as done once the next one starts. */
class FileProgress {
  private readonly index: Map<string, number>;
  private readonly bytesBefore: number[] = [];
  private current: string | undefined;

  constructor(
    files: readonly DiscoveredFile[],
    private readonly stats: IngestStats,
  ) {
    const readable = files.filter((file) => file.skipReason === undefined);
    this.index = new Map(readable.map((file, position) => [file.relative, position]));
    let sum = 0;
    readable.forEach((file, position) => {
      this.bytesBefore[position] = sum;
      sum += file.size;
    });
  }

  enter(file: string): void {
    if (file === this.current) return;
    this.current = file;
    const position = this.index.get(file);
    if (position === undefined) return;
    this.stats.filesDone = position;
    this.stats.bytesDone = this.bytesBefore[position] ?? 0;
  }

  finish(): void {
    this.stats.filesDone = this.stats.filesTotal;
    this.stats.bytesDone = this.stats.bytesTotal;
  }
}
