import PQueue from 'p-queue';
import type { DocumentStore } from '../../qdrant/document-store.js';
import type { IngestRun } from '../ingest-run.js';
import { withRetry } from '../retry.js';

/** The writes sync makes besides upserts. */
export type SyncStore = Pick<DocumentStore, 'markRewriting' | 'deletePoints' | 'deleteChunksFrom'>;

/** Ids per delete request. */
const idsPerRequest = 1000;
/** How long ids wait for company before they are sent anyway: held chunks wait on them. */
const lingerMs = 250;

/**
 * Sends sync's deletes and marks, one request at a time (they are few, and a delete takes a
 * shard's update lock, so several at once would only queue behind each other in Qdrant), each
 * retried like an upsert and counted as delete time. Ids to delete are gathered from many
 * documents into one request; each document learns through its callback when its ids are gone.
 * Nothing here is on the path that gates reading.
 */
export class DeleteBatcher {
  private readonly queue = new PQueue({ concurrency: 1 });
  private ids: string[] = [];
  private callbacks: Array<(ok: boolean) => void> = [];
  private timer: NodeJS.Timeout | undefined;
  fatal: unknown;

  constructor(
    private readonly run: IngestRun,
    private readonly store: SyncStore | undefined,
  ) {}

  get busy(): boolean {
    return this.ids.length > 0 || this.queue.size + this.queue.pending > 0;
  }

  /** Deletes `ids` soon, then calls `done` (with false when the delete failed for good). */
  add(ids: readonly string[], done: (ok: boolean) => void): void {
    if (!this.store) {
      done(true);
      return;
    }
    this.ids.push(...ids);
    this.callbacks.push(done);
    if (this.ids.length >= idsPerRequest) this.send();
    else this.timer ??= setTimeout(() => this.send(), lingerMs).unref();
  }

  /** One awaited request (a mark, a filtered delete), in turn with the deletes. */
  request(operation: () => Promise<void>): Promise<void> {
    return this.queue.add(() => this.attempt(operation));
  }

  /** Sends what is gathered and waits for every request. */
  async flush(): Promise<void> {
    this.send();
    await this.queue.onIdle();
  }

  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.ids.length === 0) return;
    const ids = this.ids;
    const callbacks = this.callbacks;
    this.ids = [];
    this.callbacks = [];
    const store = this.store!;
    this.queue
      .add(async () => {
        await this.attempt(() => store.deletePoints(ids));
        this.run.stats.chunksDeleted += ids.length;
      })
      .then(
        () => {
          for (const done of callbacks) done(true);
        },
        (error: unknown) => {
          this.fatal ??= error;
          for (const done of callbacks) done(false);
        },
      );
  }

  private async attempt(operation: () => Promise<void>): Promise<void> {
    const { run } = this;
    const started = performance.now();
    try {
      await withRetry(operation, run.retryPolicy(run.config.ingest.maxRetries), {
        signal: run.signal,
        onRetry: (event) => run.retried('qdrant', event),
      });
    } finally {
      run.stats.deleteRequests += 1;
      run.stats.deleteMs += performance.now() - started;
    }
  }
}
