import { hostname } from 'node:os';
import { ExitCode, TabootError } from '../errors.js';

/** Collection metadata key of the embedding model the collection's vectors are made with. */
export const modelKey = 'taboot.model';
/** Collection metadata key prefix of each source's sync marker (`taboot.sync.docs`). */
export const syncKeyPrefix = 'taboot.sync.';

export interface RecordedModel {
  id: string;
  dimensions: number;
}

/** Sets collection metadata keys (merged into what is stored). */
export type MetadataWriter = (entries: Record<string, unknown>) => Promise<void>;

/**
 * What the collection remembers between runs, in its metadata: the embedding model (so that a run
 * with another model is refused instead of mixing vectors of two models), and for each source
 * whether its last run finished cleanly. A source whose marker still says `running` when a run
 * starts was stopped midway (a crash, kill -9): its new documents may have stray chunks, which this
 * run deletes (see `Reconciler`). Markers are written before a source's first write and cleared
 * after the run's last write is applied.
 */
export class SyncState {
  private readonly dirty = new Set<string>();
  private readonly started = new Map<string, Promise<void>>();
  readonly recordedModel: RecordedModel | undefined;

  constructor(
    metadata: Record<string, unknown>,
    private readonly write: MetadataWriter,
    private readonly runId: string = `${hostname()}:${process.pid}:${Date.now().toString(36)}`,
  ) {
    for (const [key, value] of Object.entries(metadata)) {
      if (!key.startsWith(syncKeyPrefix)) continue;
      if ((value as { state?: unknown } | null)?.state === 'running')
        this.dirty.add(key.slice(syncKeyPrefix.length));
    }
    const model = metadata[modelKey] as Partial<RecordedModel> | undefined;
    this.recordedModel =
      typeof model?.id === 'string' && typeof model.dimensions === 'number'
        ? { id: model.id, dimensions: model.dimensions }
        : undefined;
  }

  /** The previous run of `source` stopped midway. */
  recovering(source: string): boolean {
    return this.dirty.has(source);
  }

  /** Marks `source` as being written, once per run; wait for it before the source's first write. */
  beginSource(source: string): Promise<void> {
    let marked = this.started.get(source);
    if (!marked) {
      marked = this.write({
        [syncKeyPrefix + source]: { state: 'running', run: this.runId, started_at: unixNow() },
      });
      this.started.set(source, marked);
    }
    return marked;
  }

  /** The sources this run wrote to. */
  get sources(): string[] {
    return [...this.started.keys()];
  }

  /**
   * After the run's last write is applied: the sources it wrote are whole again. `readAll` names
   * the sources whose every input document this run read (none after an interruption): a source
   * left over from a crash is whole only then, its new documents' strays deleted, whether or not
   * this run had anything to write to it.
   */
  async finishSources(readAll: Iterable<string>): Promise<void> {
    const complete = new Set(readAll);
    const whole = [
      ...[...this.started.keys()].filter((source) => !this.dirty.has(source) || complete.has(source)),
      ...[...complete].filter((source) => this.dirty.has(source) && !this.started.has(source)),
    ];
    const entries: Record<string, unknown> = {};
    for (const source of whole) {
      entries[syncKeyPrefix + source] = { state: 'clean', run: this.runId, finished_at: unixNow() };
    }
    if (Object.keys(entries).length > 0) await this.write(entries);
  }

  /**
   * Checks the embedder's model against the one the collection was made with, and records it when
   * none is recorded yet or `reembed` replaces it. Another model without `reembed` is refused:
   * vectors of two models in one collection make searches meaningless.
   */
  async checkModel(model: RecordedModel, collection: string, reembed: boolean): Promise<void> {
    const recorded = this.recordedModel;
    if (recorded && recorded.id === model.id && recorded.dimensions === model.dimensions) return;
    if (recorded && !reembed) {
      throw new TabootError(
        `collection ${collection} holds vectors of ${recorded.id} (${recorded.dimensions} dimensions), ` +
          `but the embedder serves ${model.id} (${model.dimensions})`,
        {
          exitCode: ExitCode.Usage,
          hint:
            'Pass --reembed to re-embed every document with the new model in place, or run ' +
            '`taboot reindex` to build a new collection and switch the alias when it is ready.',
        },
      );
    }
    await this.write({ [modelKey]: { id: model.id, dimensions: model.dimensions, recorded_at: unixNow() } });
  }
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
