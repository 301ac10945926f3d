import type { QueryPoints, ScoredPoint } from '@qdrant/js-client-grpc';
import type { Config } from '../config/schema.js';
import { createEmbedder } from '../embed/create-embedder.js';
import { errorMessage, TabootError, UsageError } from '../errors.js';
import { Qdrant } from '../qdrant/client.js';
import { schemaTypeToName } from '../qdrant/collection-spec.js';
import { getCollection } from '../qdrant/collections.js';
import { parseFilters } from '../qdrant/filters.js';
import { payloadToJson } from '../qdrant/payload-json.js';
import { nearestQuery } from '../qdrant/query.js';
import { queryText } from './query-text.js';
import { createReranker } from './rerank.js';

export interface SearchOptions {
  query: string;
  limit: number;
  filters: readonly string[];
  scoreThreshold: number | undefined;
  hnswEf: number;
  exact: boolean;
  rescore: boolean;
  oversampling: number;
  /** Payload fields to return; undefined for all. */
  withPayload: readonly string[] | undefined;
  rerank: boolean;
  /** Fail instead of falling back to vector order when the reranker fails. */
  rerankRequired: boolean;
}

export interface SearchHit {
  id: string;
  score: number;
  payload: Record<string, unknown>;
}

export interface SearchResult {
  collection: string;
  hits: SearchHit[];
  /** Points in the collection: 0 means there is nothing to search yet. */
  points: number;
  reranked: boolean;
  warnings: string[];
  timings: { embed_ms: number; search_ms: number; rerank_ms: number | undefined };
}

/**
 * `taboot search`: embed the query with Qwen3's query instruction (or a TEI prompt name), run
 * Qdrant's Query API with the filters and search parameters, and optionally rerank the top
 * `limit x 2` by their `content`. A reranker failure falls back to vector order with a warning
 * unless `rerankRequired`.
 */
export async function runSearch(config: Config, options: SearchOptions): Promise<SearchResult> {
  const name = config.collection.name;
  const reranker = options.rerank ? requireReranker(config) : undefined;
  // Syntax errors in --filter exit 2 before anything is sent.
  parseFilters(options.filters, { payloadIndexes: config.collection.payloadIndexes });

  const qdrant = new Qdrant(config.qdrant);
  const info = getCollection(qdrant, name);
  info.catch(() => {});
  const embedStarted = performance.now();
  const vector = await embedQuery(config, options.query);
  const embedMs = performance.now() - embedStarted;

  const collection = await info;
  const points = Number(collection.pointsCount ?? 0n);
  const indexed = Object.fromEntries(
    Object.entries(collection.payloadSchema).map(([field, schema]) => [
      field,
      { type: schemaTypeToName[schema.dataType] ?? 'unknown' },
    ]),
  );
  const { filter, warnings } = parseFilters(options.filters, { payloadIndexes: indexed });

  const candidates = reranker ? options.limit * 2 : options.limit;
  const searchStarted = performance.now();
  const response = await qdrant.call(`query ${name}`, (apis) =>
    apis.points.query(buildQuery(name, vector, filter, candidates, options)),
  );
  const searchMs = performance.now() - searchStarted;
  let hits = response.result.map(toHit);

  let rerankMs: number | undefined;
  let reranked = false;
  if (reranker && hits.length > 0) {
    const started = performance.now();
    try {
      const order = await reranker.rerank(
        options.query,
        hits.map((hit) => (typeof hit.payload.content === 'string' ? hit.payload.content : '')),
        options.limit,
      );
      hits = order.slice(0, options.limit).map(({ index, score }) => ({ ...hits[index]!, score }));
      reranked = true;
    } catch (error) {
      if (options.rerankRequired) throw error;
      warnings.push(`reranker failed, results are in vector order: ${errorMessage(error)}`);
      hits = hits.slice(0, options.limit);
    } finally {
      rerankMs = performance.now() - started;
      await reranker.close();
    }
  }
  return {
    collection: name,
    hits,
    points,
    reranked,
    warnings,
    timings: { embed_ms: round(embedMs), search_ms: round(searchMs), rerank_ms: rerankMs && round(rerankMs) },
  };
}

function requireReranker(config: Config) {
  const settings = config.search.reranker;
  if (!settings) {
    throw new UsageError('--rerank needs a reranker: set search.reranker.url (and kind) in the config');
  }
  return createReranker(settings);
}

async function embedQuery(config: Config, query: string): Promise<number[]> {
  const text = queryText(query, {
    instruction: config.search.instruction,
    promptName: config.search.promptName,
  });
  const embedder = createEmbedder({ ...config.tei, promptName: text.promptName }, { concurrency: 1 });
  try {
    const result = await embedder.embed([text.text]);
    const vector = result.vectors[0];
    if (!vector) throw new TabootError('the embedder returned no embedding for the query');
    return Array.from(vector);
  } finally {
    await embedder.close();
  }
}

function buildQuery(
  name: string,
  vector: number[],
  filter: ReturnType<typeof parseFilters>['filter'],
  limit: number,
  options: SearchOptions,
): QueryPoints {
  return nearestQuery({
    collectionName: name,
    vector,
    filter,
    limit,
    scoreThreshold: options.scoreThreshold,
    params: {
      hnswEf: BigInt(options.hnswEf),
      exact: options.exact,
      quantization: { rescore: options.rescore, oversampling: options.oversampling },
    },
    // Reranking reads `content`, so it is fetched even when not asked for.
    withPayload: options.withPayload
      ? [...new Set([...options.withPayload, ...(options.rerank ? ['content'] : [])])]
      : true,
  });
}

function toHit(point: ScoredPoint): SearchHit {
  const id = point.id?.pointIdOptions;
  return {
    id: id?.case === 'num' ? String(id.value) : String(id?.value ?? ''),
    score: point.score,
    payload: payloadToJson(point.payload),
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
