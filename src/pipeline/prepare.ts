import type { Config } from '../config/schema.js';
import { batchLimitsFrom } from '../embed/batch-limits.js';
import { TeiEmbedder } from '../embed/embedder.js';
import { createTeiDispatcher, type TeiEndpoint } from '../embed/tei-http.js';
import { fetchTeiInfo, probeEmbeddingSize, type TeiInfo } from '../embed/tei-info.js';
import { ServiceError, TabootError } from '../errors.js';
import { Qdrant } from '../qdrant/client.js';
import { specFromCollectionInfo } from '../qdrant/collection-spec.js';
import { getCollection } from '../qdrant/collections.js';
import { GrpcPointSink } from '../qdrant/grpc-point-sink.js';
import { QdrantSurplusDeleter } from '../qdrant/surplus-deleter.js';
import type { IngestServices } from './ingest.js';

export interface PreparedIngest extends IngestServices {
  tei: TeiInfo;
  /** TEI endpoints that did not answer: benched until they recover, the others carry the load. */
  unavailable: string[];
  teiRoute: string;
  close(): Promise<void>;
}

/**
 * Preflight, before any file is read: TEI answers `/info`, the collection exists, and TEI's
 * embeddings have the collection's size. Each failure is one line naming the service and URL.
 * Then the real embedder and the fast upsert sink.
 */
export async function prepareIngest(config: Config): Promise<PreparedIngest> {
  const dispatcher = createTeiDispatcher(config.tei.concurrency);
  const endpoints: TeiEndpoint[] = (config.tei.urls ?? [config.tei.url]).map((url) => ({
    url,
    apiKey: config.tei.apiKey,
    timeoutMs: config.tei.timeoutMs,
    dispatcher,
  }));
  const closeDispatcher = () => dispatcher.close().catch(() => {});
  try {
    // With several TEI endpoints, one that is down is benched, not fatal; all down is.
    const answers = await Promise.allSettled(endpoints.map((endpoint) => fetchTeiInfo(endpoint)));
    const upIndex = answers.findIndex((answer) => answer.status === 'fulfilled');
    if (upIndex < 0) throw (answers[0] as PromiseRejectedResult).reason;
    const first = endpoints[upIndex]!;
    const tei = (answers[upIndex] as PromiseFulfilledResult<TeiInfo>).value;
    const unavailable = answers.flatMap((answer) =>
      answer.status === 'rejected'
        ? [`${(answer.reason as Error).message}; using the other TEI endpoints`]
        : [],
    );
    // One Qdrant client for the preflight and the surplus-chunk deletes: one connection.
    const qdrant = new Qdrant(config.qdrant);
    const collectionSize = await collectionVectorSize(qdrant, config.collection.name);
    const embeddingSize = await probeEmbeddingSize(first, config.tei.dimensions);
    if (embeddingSize !== collectionSize) {
      throw new TabootError(
        `TEI at ${first.url} (${tei.modelId}) makes ${embeddingSize}-dimensional embeddings, but collection ` +
          `${config.collection.name} takes ${collectionSize}`,
        {
          hint: 'Point tei.url at the model the collection was made for, set tei.dimensions, or create a new collection.',
        },
      );
    }
    const embedder = new TeiEmbedder(endpoints, {
      dimensions: config.tei.dimensions,
      promptName: config.tei.promptName,
      normalize: config.tei.normalize,
    });
    const sink = new GrpcPointSink(config.qdrant, config.collection.name, config.ingest.wait);
    const surplus = new QdrantSurplusDeleter(qdrant, config.collection.name);
    return {
      embedder,
      sink,
      surplus,
      tei,
      unavailable,
      teiRoute: embedder.route,
      limits: batchLimitsFrom(tei!, config.tei),
      dimensions: collectionSize,
      maxInputTokens: tei.maxInputLength,
      close: async () => {
        await Promise.all([sink.close(), closeDispatcher()]);
      },
    };
  } catch (error) {
    await closeDispatcher();
    throw error;
  }
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
