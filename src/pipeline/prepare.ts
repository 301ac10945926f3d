import type { Config } from '../config/schema.js';
import { createEmbedder } from '../embed/create-embedder.js';
import { ServiceError, TabootError } from '../errors.js';
import { Qdrant } from '../qdrant/client.js';
import { updateCollectionMetadata } from '../qdrant/collection-metadata.js';
import { specFromCollectionInfo } from '../qdrant/collection-spec.js';
import { getCollection } from '../qdrant/collections.js';
import { type DocumentStore, QdrantDocumentStore } from '../qdrant/document-store.js';
import { GrpcPointSink } from '../qdrant/grpc-point-sink.js';
import { IngestLock } from '../qdrant/ingest-lock.js';
import { payloadToJson } from '../qdrant/payload-json.js';
import { missingSyncIndexes } from '../qdrant/payload-keys.js';
import { BulkLoad, restoreUnfinishedBulk } from './bulk.js';
import type { IngestServices } from './ingest.js';
import { defaultRetryPolicy, withRetry } from './retry.js';
import { SyncState } from './sync-state.js';

export interface PreparedIngest extends IngestServices {
  /** Lines for the user about the collection (payload indexes sync needs, a restored bulk load). */
  warnings: string[];
  /** `--bulk`: indexing is off until `finish`. */
  bulk: BulkLoad | undefined;
  close(): Promise<void>;
}

/**
 * Preflight, before any file is read: the collection exists (its vector size is what embeddings
 * and precomputed vectors must have). The embedder is connected lazily, when the first chunk needs
 * embedding, so that a run of precomputed vectors works with TEI down. Then the fast upsert sink.
 */
export async function prepareIngest(
  config: Config,
  options: { bulk?: boolean } = {},
): Promise<PreparedIngest> {
  // One Qdrant client for the preflight and sync's reads and deletes: one connection.
  const qdrant = new Qdrant(config.qdrant);
  const warnings: string[] = [];
  const retried = preflightRetry(config);
  // Taken before the collection is read: two runs never interleave their writes to one collection,
  // and what this run learns of it (its points, its sync markers) no other run changes meanwhile.
  const lock = await retried(() =>
    IngestLock.acquire(qdrant, config.collection.name, (line) => warnings.push(line)),
  );
  let collection: Awaited<ReturnType<typeof describeTarget>>;
  let bulk: BulkLoad | undefined;
  try {
    collection = await retried(() => describeTarget(qdrant, config.collection.name));
    const restored = await retried(() =>
      restoreUnfinishedBulk(qdrant, config.collection.name, collection.metadata),
    );
    if (restored) warnings.push(restored);
    if (options.bulk) bulk = await retried(() => BulkLoad.begin(qdrant, config));
  } catch (error) {
    await lock.release().catch(() => {});
    throw error;
  }
  const unindexed = missingSyncIndexes(config.collection.name, collection.indexed);
  if (unindexed) warnings.push(unindexed);
  const embedder = createEmbedder(config.tei);
  const sink = new GrpcPointSink(config.qdrant, config.collection.name, config.ingest.wait);
  return {
    embedder,
    sink,
    store: new QdrantDocumentStore(qdrant, config.collection.name),
    dimensions: collection.vectorSize,
    startedEmpty: collection.points === 0,
    warnings,
    bulk,
    syncState: new SyncState(collection.metadata, (entries) =>
      withRetry(() => updateCollectionMetadata(qdrant, config.collection.name, entries), retryPolicy(config)),
    ),
    close: async () => {
      await Promise.all([sink.close(), embedder.close(), lock.release()]);
    },
  };
}

/**
 * Preflight calls are retried like any other on overload or a restart, but a server that is not
 * there at all (connection refused, unknown host) is reported at once: the user must start it.
 */
function preflightRetry(config: Config) {
  const policy = retryPolicy(config);
  return <T>(operation: () => Promise<T>) =>
    withRetry(operation, policy, { retryIf: (error) => !error.unreachable });
}

function retryPolicy(config: Config) {
  return { ...defaultRetryPolicy, maxRetries: config.ingest.maxRetries };
}

/** Qdrant for `--dry-run --prune`: lists stored documents, and can do nothing else. */
export async function connectListing(config: Config): Promise<Pick<DocumentStore, 'documentPage'>> {
  const qdrant = new Qdrant(config.qdrant);
  await describeTarget(qdrant, config.collection.name);
  const store = new QdrantDocumentStore(qdrant, config.collection.name);
  return { documentPage: (source, cursor, options) => store.documentPage(source, cursor, options) };
}

/** One `Collections/Get`: a missing collection is its NOT_FOUND, not a separate existence check. */
async function describeTarget(qdrant: Qdrant, name: string) {
  try {
    const info = await getCollection(qdrant, name);
    return {
      vectorSize: specFromCollectionInfo(info).vectorSize,
      points: Number(info.pointsCount ?? 0n),
      metadata: payloadToJson(info.config?.metadata ?? {}),
      indexed: Object.keys(info.payloadSchema),
    };
  } catch (error) {
    if (!(error instanceof ServiceError) || error.code !== 'NOT_FOUND') throw error;
    throw new TabootError(`collection ${name} does not exist in Qdrant at ${qdrant.url}`, {
      hint: `Create it first: taboot collection create ${name}`,
    });
  }
}
