import { ServiceError } from '../errors.js';
import type { Qdrant } from '../qdrant/client.js';
import { type CollectionSummary, describeCollection } from '../qdrant/collections.js';
import { withDeadline } from './deadline.js';
import type { CollectionStatus, QdrantSection } from './report.js';

/**
 * The gRPC half of the Qdrant section: the health check (title, version) and the collection,
 * asked at once, each within `timeoutMs`. Never throws (except when `parent` aborts).
 */
export async function readQdrantStatus(
  qdrant: Qdrant,
  collectionName: string,
  timeoutMs: number,
  parent?: AbortSignal,
): Promise<Omit<QdrantSection, 'restUrl' | 'gpuIndexing'>> {
  const [health, collection] = await Promise.allSettled([
    withDeadline(
      `Qdrant at ${qdrant.url}`,
      timeoutMs,
      () => qdrant.call('health check', (apis) => apis.service.healthCheck({})),
      parent,
    ),
    withDeadline(
      `Qdrant at ${qdrant.url}`,
      timeoutMs,
      () => describeCollection(qdrant, collectionName),
      parent,
    ),
  ]);
  if (parent?.aborted) throw parent.reason;
  const up = health.status === 'fulfilled';
  return {
    url: qdrant.url,
    status: up ? 'up' : 'down',
    error: up ? null : reasonOf(health.reason),
    version: up ? health.value.version || null : null,
    commit: up ? health.value.commit || null : null,
    collection:
      collection.status === 'fulfilled'
        ? collectionStatus(collection.value)
        : unreadCollection(collectionName, collection.reason, up),
  };
}

function unreadCollection(name: string, error: unknown, qdrantUp: boolean): CollectionStatus {
  const missing = error instanceof ServiceError && error.code === 'NOT_FOUND';
  return {
    name,
    exists: missing ? false : null,
    error: missing ? `collection ${name} does not exist` : qdrantUp ? reasonOf(error) : 'Qdrant is down',
    status: null,
    optimizerOk: null,
    optimizerError: null,
    points: null,
    indexedVectors: null,
    indexedPercent: null,
    segments: null,
    vectorSize: null,
    quantization: null,
    hnswM: null,
    indexingThresholdKb: null,
    indexing: null,
  };
}

/** Turn `collection info`'s summary into the status screen's view, including how far indexing got. */
export function collectionStatus(summary: CollectionSummary): CollectionStatus {
  const { points, indexedVectors } = summary;
  return {
    name: summary.name,
    exists: true,
    error: null,
    status: summary.status,
    optimizerOk: summary.optimizerOk,
    optimizerError: summary.optimizerError ?? null,
    points,
    indexedVectors,
    indexedPercent: points > 0 ? Math.round((1000 * indexedVectors) / points) / 10 : null,
    segments: summary.segments,
    vectorSize: summary.config.vectorSize,
    quantization: summary.config.quantization.type,
    hnswM: summary.config.hnsw.m,
    indexingThresholdKb: summary.config.optimizers.indexingThresholdKb,
    indexing: indexingState(summary),
  };
}

/**
 * Qdrant builds an HNSW index for a segment only once its vectors pass `indexing_threshold` (KB,
 * 20,000 by default), so a small collection is green with `indexed_vectors_count` 0: that is
 * `below-threshold`, not a fault. Float32 storage size decides, as in Qdrant's optimizer.
 */
export function indexingState(summary: CollectionSummary): CollectionStatus['indexing'] {
  const { points, indexedVectors, status } = summary;
  if (points === 0) return 'empty';
  if (summary.config.hnsw.m === 0 || summary.config.optimizers.indexingThresholdKb === 0) return 'disabled';
  if (indexedVectors >= points) return 'complete';
  if (status === 'yellow') return 'in-progress';
  if (status === 'grey') return 'pending';
  const vectorKb = (points * summary.config.vectorSize * 4) / 1024;
  if (vectorKb < summary.config.optimizers.indexingThresholdKb) return 'below-threshold';
  return 'partial';
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
