import { create } from '@bufbuild/protobuf';
import { UpdateCollectionSchema } from '@qdrant/js-client-grpc';
import type { Qdrant } from './client.js';
import { updateCollectionMetadata } from './collection-metadata.js';
import { specFromCollectionInfo } from './collection-spec.js';
import { getCollection } from './collections.js';

/** Collection metadata key of an unfinished bulk load: the indexing threshold to put back. */
export const bulkKey = 'taboot.bulk';

export interface BulkMarker {
  /** The collection's `optimizers_config.indexing_threshold` before the load, KB. */
  indexing_threshold_kb: number;
  /** Unix seconds. */
  started_at: number;
}

/**
 * Qdrant's bulk-upload recipe: with `indexing_threshold` 0 the optimizers build no HNSW index while
 * points arrive (each new segment would otherwise be indexed, then merged and indexed again); when
 * it is restored, one optimization builds the index over everything (on the GPU with
 * `QDRANT__GPU__INDEXING=1`). The value to restore is recorded in the collection's metadata first,
 * so that a run interrupted midway leaves a collection the next run restores.
 */
export async function deferIndexing(qdrant: Qdrant, name: string): Promise<BulkMarker> {
  const info = await getCollection(qdrant, name);
  const marker: BulkMarker = {
    indexing_threshold_kb: specFromCollectionInfo(info).optimizers.indexingThresholdKb,
    started_at: Math.floor(Date.now() / 1000),
  };
  await updateCollectionMetadata(qdrant, name, { [bulkKey]: marker });
  await setIndexingThreshold(qdrant, name, 0);
  return marker;
}

/** Puts the indexing threshold back and removes the marker (in that order: a crash between repeats it). */
export async function restoreIndexing(qdrant: Qdrant, name: string, marker: BulkMarker): Promise<void> {
  await setIndexingThreshold(qdrant, name, marker.indexing_threshold_kb);
  await updateCollectionMetadata(qdrant, name, { [bulkKey]: null });
}

/** The marker an interrupted bulk load left in the collection's metadata, if any. */
export function unfinishedBulkLoad(metadata: Record<string, unknown>): BulkMarker | undefined {
  const marker = metadata[bulkKey] as Partial<BulkMarker> | null | undefined;
  return typeof marker?.indexing_threshold_kb === 'number' ? (marker as BulkMarker) : undefined;
}

async function setIndexingThreshold(qdrant: Qdrant, name: string, kilobytes: number): Promise<void> {
  const request = create(UpdateCollectionSchema, {
    collectionName: name,
    optimizersConfig: { indexingThreshold: BigInt(kilobytes) },
  });
  await qdrant.call(`set the indexing threshold of collection ${name}`, (apis) =>
    apis.collections.update(request),
  );
}
