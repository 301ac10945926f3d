import type { Config } from '../config/schema.js';
import { createEmbedder } from '../embed/create-embedder.js';
import { ServiceError, TabootError } from '../errors.js';
import { Qdrant } from '../qdrant/client.js';
import { specFromCollectionInfo } from '../qdrant/collection-spec.js';
import { getCollection } from '../qdrant/collections.js';
import { GrpcPointSink } from '../qdrant/grpc-point-sink.js';
import { QdrantSurplusDeleter } from '../qdrant/surplus-deleter.js';
import type { IngestServices } from './ingest.js';

export interface PreparedIngest extends IngestServices {
  close(): Promise<void>;
}

/**
 * Preflight, before any file is read: the collection exists (its vector size is what embeddings
 * and precomputed vectors must have). The embedder is connected lazily, when the first chunk needs
 * embedding, so that a run of precomputed vectors works with TEI down. Then the fast upsert sink.
 */
export async function prepareIngest(config: Config): Promise<PreparedIngest> {
  // One Qdrant client for the preflight and the surplus-chunk deletes: one connection.
  const qdrant = new Qdrant(config.qdrant);
  const dimensions = await collectionVectorSize(qdrant, config.collection.name);
  const embedder = createEmbedder(config.tei);
  const sink = new GrpcPointSink(config.qdrant, config.collection.name, config.ingest.wait);
  return {
    embedder,
    sink,
    surplus: new QdrantSurplusDeleter(qdrant, config.collection.name),
    dimensions,
    close: async () => {
      await Promise.all([sink.close(), embedder.close()]);
    },
  };
}

/** One `Collections/Get`: a missing collection is its NOT_FOUND, not a separate existence check. */
async function collectionVectorSize(qdrant: Qdrant, name: string): Promise<number> {
  try {
    return specFromCollectionInfo(await getCollection(qdrant, name)).vectorSize;
  } catch (error) {
    if (!(error instanceof ServiceError) || error.code !== 'NOT_FOUND') throw error;
    throw new TabootError(`collection ${name} does not exist in Qdrant at ${qdrant.url}`, {
      hint: `Create it first: taboot collection create ${name}`,
    });
  }
}
