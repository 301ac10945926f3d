import type { Filter, QueryPoints, ScoredPoint } from '@qdrant/js-client-grpc';
import { TabootError } from '../../errors.js';
import type { Qdrant } from '../../qdrant/client.js';
import { schemaTypeToName, specFromCollectionInfo } from '../../qdrant/collection-spec.js';
import { getCollection } from '../../qdrant/collections.js';
import { parseFilters } from '../../qdrant/filters.js';
import { nearestQuery } from '../../qdrant/query.js';
import { type PointIdLike, recallAtK } from '../recall.js';
import type { SearchLevel, SearchResult } from '../result.js';
import { LatencyRecorder, summarize } from '../stats.js';
import { mulberry32, type VectorDistribution, VectorSource } from '../vectors.js';
import { type BenchEvents, round3, runWorkers } from './shared.js';

export interface SearchScenarioOptions {
  collection: string;
  /** One query vector per query (as plain numbers: the request wants them so). */
  queries: readonly number[][];
  /** Queries in flight, one level each. */
  concurrency: readonly number[];
  hnswEf: readonly number[];
  /** Results per query (`limit`), and the k of recall@k. */
  k: number;
  /** `--filter` expressions, applied to the approximate and the exact queries alike. */
  filters: readonly string[];
  /** Quantized candidates rescored with the original vectors, and the oversampling (from `search.*`). */
  rescore: boolean;
  oversampling: number;
}

/**
 * `bench search`: the exact top k of every query first (`exact: true`, quantization ignored, so
 * the ground truth is the original vectors' true neighbours), then every `(hnsw_ef, concurrency)`
 * level runs all queries once, timing each and taking recall@k against that ground truth. A few
 * untimed queries warm the connection and Qdrant's caches before the first level.
 */
export async function runSearchScenario(
  qdrant: Qdrant,
  options: SearchScenarioOptions,
  events: BenchEvents,
  signal?: AbortSignal,
): Promise<SearchResult> {
  const name = options.collection;
  const info = await getCollection(qdrant, name);
  const indexes = Object.fromEntries(
    Object.entries(info.payloadSchema).map(([field, schema]) => [
      field,
      { type: schemaTypeToName[schema.dataType] ?? 'unknown' },
    ]),
  );
  const { filter, warnings } = parseFilters(options.filters, { payloadIndexes: indexes });
  for (const warning of warnings) events.warn(warning);
  const count = options.queries.length;
  if (count === 0) throw new TabootError(`no query vectors for collection ${name}`);
  const query = (index: number, params: QueryParams) =>
    qdrant
      .call(`query ${name}`, (apis) =>
        apis.points.query(buildQuery(name, options.queries[index]!, filter, options.k, params)),
      )
      .then((response) => response.result.map(pointIdOf));

  events.phase('exact search', `ground truth for ${count} queries`);
  const exact: PointIdLike[][] = new Array(count);
  let exactDone = 0;
  await runWorkers(
    count,
    4,
    async (index) => {
      exact[index] = await query(index, { exact: true });
      exactDone += 1;
      events.progress(exactDone, count, 'queries');
    },
    signal,
  );

  const firstEf = options.hnswEf[0] ?? 128;
  const warmup = Math.min(count, 10);
  const warm: QueryParams = {
    exact: false,
    hnswEf: firstEf,
    rescore: options.rescore,
    oversampling: options.oversampling,
  };
  await runWorkers(warmup, 1, (index) => query(index, warm).then(() => {}), signal);

  const levels: SearchLevel[] = [];
  for (const hnswEf of options.hnswEf) {
    for (const concurrency of options.concurrency) {
      events.phase(`search`, `concurrency ${concurrency}, hnsw_ef ${hnswEf}`);
      const approx: PointIdLike[][] = new Array(count);
      const latencies = new LatencyRecorder(count);
      let done = 0;
      const started = performance.now();
      await runWorkers(
        count,
        concurrency,
        async (index) => {
          const sent = performance.now();
          approx[index] = await query(index, {
            exact: false,
            hnswEf,
            rescore: options.rescore,
            oversampling: options.oversampling,
          });
          latencies.recordSince(sent);
          done += 1;
          events.progress(done, count, 'queries');
        },
        signal,
      );
      const seconds = (performance.now() - started) / 1000;
      const latency = summarize(latencies);
      levels.push({
        concurrency,
        hnsw_ef: hnswEf,
        qps: round3(count / seconds),
        mean_ms: round3(latency.mean_ms),
        p50_ms: round3(latency.p50_ms),
        p95_ms: round3(latency.p95_ms),
        p99_ms: round3(latency.p99_ms),
        recall: round3(recallAtK(approx, exact, options.k)),
        k: options.k,
      });
    }
  }
  return { collection: name, queries: count, levels };
}

interface QueryParams {
  exact: boolean;
  hnswEf?: number;
  rescore?: boolean;
  oversampling?: number;
}

function buildQuery(
  name: string,
  vector: number[],
  filter: Filter | undefined,
  k: number,
  params: QueryParams,
): QueryPoints {
  return nearestQuery({
    collectionName: name,
    vector,
    filter,
    limit: k,
    params: params.exact
      ? { exact: true, quantization: { ignore: true } }
      : {
          hnswEf: BigInt(params.hnswEf ?? 128),
          exact: false,
          quantization: { rescore: params.rescore ?? true, oversampling: params.oversampling ?? 2 },
        },
    withPayload: false,
  });
}

function pointIdOf(point: ScoredPoint): PointIdLike {
  const id = point.id?.pointIdOptions;
  if (id?.case === 'num') return id.value;
  return id?.value ?? '';
}

/**
 * Queries for a generated collection: vectors from the data's distribution that are not in it
 * (same centroids for `clustered`, a seed of their own).
 */
export function heldOutQueries(
  count: number,
  dim: number,
  distribution: VectorDistribution,
  seed: number,
): number[][] {
  const source = new VectorSource(dim, { distribution, seed: seed + 1, centroidSeed: seed });
  return Array.from({ length: count }, () => Array.from(source.next()));
}

/**
 * Queries for an existing collection: stored vectors, `count` of them picked by a seeded shuffle
 * from the first `4 × count` points in id order (one scroll, no full pass over a large
 * collection). Each query then finds at least itself. Returns the vectors and the collection's
 * vector size; fails when the collection is empty or stores named vectors only.
 */
export async function sampleStoredVectors(
  qdrant: Qdrant,
  name: string,
  count: number,
  seed: number,
): Promise<{ queries: number[][]; dim: number }> {
  const info = await getCollection(qdrant, name);
  const dim = specFromCollectionInfo(info).vectorSize;
  const pool: number[][] = [];
  let offset: Parameters<Qdrant['apis']['points']['scroll']>[0]['offset'];
  while (pool.length < count * 4) {
    const page = await qdrant.call(`scroll ${name}`, (apis) =>
      apis.points.scroll({
        collectionName: name,
        limit: Math.min(1000, count * 4 - pool.length),
        offset,
        withPayload: { selectorOptions: { case: 'enable', value: false } },
        withVectors: { selectorOptions: { case: 'enable', value: true } },
      }),
    );
    for (const point of page.result) {
      const vector = point.vectors?.vectorsOptions;
      if (vector?.case === 'vector' && vector.value.vector.case === 'dense') {
        pool.push(vector.value.vector.value.data);
      } else if (vector?.case === 'vector' && vector.value.data.length > 0) {
        pool.push(vector.value.data);
      }
    }
    offset = page.nextPageOffset;
    if (!offset) break;
  }
  if (pool.length === 0) {
    throw new TabootError(`collection ${name} has no unnamed dense vectors to query with`, {
      hint: 'bench search --collection needs a collection with points; leave --collection out to generate one.',
    });
  }
  const random = mulberry32(seed);
  for (let index = pool.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [pool[index], pool[other]] = [pool[other]!, pool[index]!];
  }
  return { queries: pool.slice(0, count), dim };
}
