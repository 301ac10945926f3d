import { resolveChunkOptions } from '../chunking/markdown-chunker.js';
import type { Config } from '../config/schema.js';
import { errorMessage, TabootError } from '../errors.js';
import { formatLocation } from '../location.js';
import type { IndexingSample } from '../qdrant/indexing-wait.js';
import { displayPath, formatProblem, type SourceDocument, type SourceProblem } from '../sources/document.js';
import type { LedgerEntry } from './document-ledger.js';
import type { FailedChunkWriter } from './failed-chunks.js';
import type { RetryEvent, RetryPolicy } from './retry.js';
import { defaultRetryPolicy } from './retry.js';
import type { IngestStats } from './stats.js';
import type { ItemFailure, ReportedFailure, WorkItem } from './work-item.js';

export interface IngestEvents {
  onProblem(problem: SourceProblem): void;
  onFailure(failure: ReportedFailure): void;
  onRetry(service: 'tei' | 'qdrant', event: RetryEvent): void;
  /** A line for the user that is neither bad input nor one chunk's failure. */
  onWarning?(line: string): void;
  /** Stored documents `--prune` deleted (or, in a dry run, would delete). */
  onPruned?(source: string, docIds: readonly string[], dryRun: boolean): void;
  /** `--bulk`: the collection's indexing progress after the load, each time it is polled. */
  onIndexing?(sample: IndexingSample): void;
}

/**
 * What the stages of one ingest run share: the config, the counters, the user's event handlers,
 * the stop signal, and the one place where bad input and failed chunks are counted, reported and
 * kept for `--failed-out`, so that no stage can lose one without a trace.
 */
export class IngestRun {
  /** The chunk settings, checked (a bad combination is a usage error before anything is read). */
  readonly chunking: { chunkTokens: number; chunkOverlap: number; minChunkTokens: number };

  /** How the user names each file read (see `displayFile`). */
  private readonly displayNames = new Map<string, string>();

  constructor(
    readonly config: Config,
    readonly stats: IngestStats,
    readonly events: IngestEvents,
    /** Aborted on Ctrl-C: stop reading and retrying, drain what is in flight. */
    readonly signal: AbortSignal,
    private readonly onError: 'skip' | 'fail',
    readonly failedOut: FailedChunkWriter | undefined,
  ) {
    const { chunkTokens, chunkOverlap, minChunkTokens } = resolveChunkOptions(config.ingest);
    this.chunking = { chunkTokens, chunkOverlap, minChunkTokens };
  }

  /**
   * Records how the user names each file to be read: relative to the working directory when under
   * it, else absolute (`displayPath`), as every reader's problems name them.
   */
  registerFiles(files: ReadonlyArray<{ relative: string; absolute: string }>): void {
    for (const file of files) this.displayNames.set(file.relative, displayPath(file.absolute));
  }

  /**
   * A document's file (relative to its ingest root) as the user names it. Unique: two roots
   * holding the same relative path are refused before reading.
   */
  displayFile(relative: string): string {
    return this.displayNames.get(relative) ?? relative;
  }

  /** Where a chunk came from, as the user names its file. */
  private locate(item: WorkItem): string {
    return formatLocation({ file: this.displayFile(item.file), line: item.line });
  }

  /** Bad input: counted, reported, and fatal with `--on-error fail`. */
  problem(problem: SourceProblem): void {
    if (problem.severity === 'warning') this.stats.warnings += 1;
    else this.stats.skipped += 1;
    this.events.onProblem(problem);
    if (problem.severity === 'error' && this.onError === 'fail') {
      throw new TabootError(formatProblem(problem), { hint: 'Stopped by --on-error fail.' });
    }
  }

  /**
   * A document id read a second time: reported and counted (the run ends partial), and written
   * over the earlier occurrence, so that the last one read is what Qdrant holds.
   */
  duplicate(document: SourceDocument, first: LedgerEntry): void {
    this.stats.duplicates += 1;
    this.events.onProblem({
      file: this.displayFile(document.file),
      line: document.line,
      field: 'id',
      reason: `duplicate document id "${document.docId}" (first at ${formatLocation({ file: this.displayFile(first.file), line: first.line })}); this later one replaces it`,
      severity: 'warning',
    });
  }

  /** A chunk that was read but could not be embedded or upserted. */
  fail(failure: ItemFailure): void {
    this.stats.failed += 1;
    const reported = { ...failure, location: this.locate(failure.item) };
    this.failedOut?.write(reported);
    this.events.onFailure(reported);
  }

  retried(service: 'tei' | 'qdrant', event: RetryEvent): void {
    this.stats.retries += 1;
    this.events.onRetry(service, event);
  }

  retryPolicy(maxRetries: number): RetryPolicy {
    return { ...defaultRetryPolicy, maxRetries };
  }

  /**
   * Chunks a fatal error kept from Qdrant: counted and written to `--failed-out` one by one, but
   * told in one line, since they share one cause.
   */
  reportUnsent(unsent: ReadonlyArray<{ item: WorkItem; stage: 'embed' | 'upsert' }>, fatal: unknown): void {
    const reason = `not ingested: the run stopped (${errorMessage(fatal)})`;
    for (const { item, stage } of unsent) {
      this.stats.failed += 1;
      this.failedOut?.write({ item, stage, reason, location: this.locate(item) });
    }
    if (unsent.length === 0) return;
    const where = this.failedOut ? `; they are in ${this.failedOut.path}` : '; --failed-out would keep them';
    this.events.onWarning?.(
      `${unsent.length} chunk(s) read but not ingested because the run stopped${where}`,
    );
  }
}
