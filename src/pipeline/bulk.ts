import type { Config } from '../config/schema.js';
import { type BulkMarker, deferIndexing, restoreIndexing, unfinishedBulkLoad } from '../qdrant/bulk-load.js';
import type { Qdrant } from '../qdrant/client.js';
import { type IndexingSample, waitForCollectionIndex } from '../qdrant/indexing-wait.js';

/** How long `--bulk` waits for the index after the load before giving up (the data is safe either way). */
const indexTimeoutMs = 6 * 60 * 60 * 1000;

/**
 * Puts back the indexing an interrupted `--bulk` run switched off (the collection would otherwise
 * stay unindexed, and searches slow, for good). Returns the line to tell the user, if it did.
 */
export async function restoreUnfinishedBulk(
  qdrant: Qdrant,
  name: string,
  metadata: Record<string, unknown>,
): Promise<string | undefined> {
  const marker = unfinishedBulkLoad(metadata);
  if (!marker) return undefined;
  await restoreIndexing(qdrant, name, marker);
  return `an interrupted --bulk run had switched indexing off for collection ${name}; restored it (indexing_threshold ${marker.indexing_threshold_kb} KB)`;
}

/**
 * `--bulk`: indexing deferred for the load, restored after it however the run ended, then (when the
 * load succeeded) a wait until Qdrant has built the index, with each sample for progress. Returns
 * the wait in seconds.
 */
export class BulkLoad {
  private constructor(
    private readonly qdrant: Qdrant,
    private readonly config: Config,
    private readonly marker: BulkMarker,
  ) {}

  static async begin(qdrant: Qdrant, config: Config): Promise<BulkLoad> {
    return new BulkLoad(qdrant, config, await deferIndexing(qdrant, config.collection.name));
  }

  async finish(
    loaded: { ok: boolean; points: number },
    onSample: (sample: IndexingSample) => void,
    signal: AbortSignal,
  ): Promise<number | undefined> {
    const { collection } = this.config;
    await restoreIndexing(this.qdrant, collection.name, this.marker);
    if (!loaded.ok) return undefined;
    const outcome = await waitForCollectionIndex(
      this.qdrant,
      collection.name,
      {
        expectedPoints: loaded.points,
        vectorBytes: collection.vectorSize * 4,
        indexingThresholdKb: this.marker.indexing_threshold_kb,
        hnswEnabled: collection.hnsw.m > 0,
      },
      {
        timeoutMs: indexTimeoutMs,
        signal,
        onSample,
        timeoutHint:
          'The points are stored and the index keeps building; taboot collection info shows its progress.',
      },
    );
    return outcome.seconds;
  }
}
