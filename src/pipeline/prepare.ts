import type { Config } from '../config/schema.js';
import { batchLimitsFrom } from '../embed/batch-limits.js';
import { TeiEmbedder } from '../embed/embedder.js';
import { createTeiDispatcher, type TeiEndpoint } from '../embed/tei-http.js';
import { fetchTeiInfo, probeEmbeddingSize, type TeiInfo } from '../embed/tei-info.js';
import { TabootError } from '../errors.js';
import { Qdrant } from '../qdrant/client.js';
import { specFromCollectionInfo } from '../qdrant/collection-spec.js';
import { collectionExists, getCollection } from '../qdrant/collections.js';
import { GrpcPointSink } from '../qdrant/grpc-point-sink.js';
import type { IngestServices } from './ingest.js';

export interface PreparedIngest extends IngestServices {
  tei: TeiInfo;
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
    const first = endpoints[0]!;
    const [tei] = await Promise.all(endpoints.map((endpoint) => fetchTeiInfo(endpoint)));
    const collectionSize = await collectionVectorSize(config);
    const embeddingSize = await probeEmbeddingSize(first, config.tei.dimensions);
    if (embeddingSize !== collectionSize) {
      throw new TabootError(
        `TEI at ${first.url} (${tei!.modelId}) makes ${embeddingSize}-dimensional embeddings, but collection ` +
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
    return {
      embedder,
      sink,
      tei: tei!,
      teiRoute: embedder.route,
      limits: batchLimitsFrom(tei!, config.tei),
      dimensions: collectionSize,
      maxInputTokens: tei!.maxInputLength,
      close: async () => {
        await Promise.all([sink.close(), closeDispatcher()]);
      },
    };
  } catch (error) {
    await closeDispatcher();
    throw error;
  }
}

async function collectionVectorSize(config: Config): Promise<number> {
  const qdrant = new Qdrant(config.qdrant);
  const name = config.collection.name;
  if (!(await collectionExists(qdrant, name))) {
    throw new TabootError(`collection ${name} does not exist in Qdrant at ${qdrant.url}`, {
      hint: `Create it first: taboot collection create ${name}`,
    });
  }
  return specFromCollectionInfo(await getCollection(qdrant, name)).vectorSize;
}
