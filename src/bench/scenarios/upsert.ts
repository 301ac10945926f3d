import type { Config } from '../../config/schema.js';
import { TabootError } from '../../errors.js';
import { defaultRetryPolicy } from '../../pipeline/retry.js';
import { UpsertStage } from '../../pipeline/stages/upsert.js';
import type { ItemFailure, WorkItem } from '../../pipeline/work-item.js';
import type { Qdrant } from '../../qdrant/client.js';
import { GrpcPointSink } from '../../qdrant/grpc-point-sink.js';
import { waitForCollectionIndex } from '../../qdrant/indexing-wait.js';
import type { PointSink } from '../../qdrant/point-sink.js';
import type { UpsertResult } from '../result.js';
import { LatencyRecorder, summarize, Timeline } from '../stats.js';
import { type VectorDistribution, VectorSource } from '../vectors.js';
import { type BenchEvents, cpuMeter, round3, toSeconds } from './shared.js';

/** The generated data and how it is uploaded: what `bench upsert` and a generated `bench search` share. */
export interface GeneratedData {
  count: number;
  dim: number;
  distribution: VectorDistribution;
  seed: number;
  /** Points per request, and encoded bytes per request (`ingest.batchBytes`), whichever is reached first. */
  batchSize: number;
  batchBytes: number;
  /** Requests in flight. */
  parallel: number;
  /** Ask Qdrant to apply each batch before answering (`wait=true`). */
  wait: boolean;
}

export interface UploadOptions extends GeneratedData {
  collection: string;
  /** Retries per request on overload or outage. */
  maxRetries: number;
}

export interface UploadMeasurement {
  /** First request sent to last acknowledged, ms. */
  wallMs: number;
  /** Per request, from sending until acknowledged (retries included), ms. */
  latencies: LatencyRecorder;
  timeline: Timeline;
  /** This process's CPU time over the upload's wall time (see `UpsertResult.client_cpu_share`). */
  cpuShare: number;
}

/** Above this share of one core, the client rather than Qdrant probably set the pace. */
const CLIENT_CPU_WARNING = 0.8;

/**
 * Uploads `count` seeded vectors through the stage and the sink `ingest` uses (`UpsertStage` over
 * `GrpcPointSink`: batches by count and bytes, `parallel` requests in flight through p-queue with
 * backpressure, retries, rejected points isolated), so the figure it reports is the figure of the
 * path ingest takes. Point `i` gets the UUID whose value is `i` (`...-00000000007b` for 123; ingest
 * writes UUIDs too) and the payload `{bucket: i % 100}`. Vectors come from `VectorSource.take`
 * (a view into its pool for `uniform`) on the same thread, between requests, and count as client
 * time, as an embedding decode does in ingest.
 *
 * After a signal no more points are added and no request is retried; requests in flight finish.
 * `sink` replaces the gRPC sink (tests measure what reaches it).
 */
export async function uploadVectors(
  settings: Config['qdrant'],
  options: UploadOptions,
  events: BenchEvents,
  signal?: AbortSignal,
  sink: PointSink = new GrpcPointSink(settings, options.collection, options.wait),
): Promise<UploadMeasurement> {
  events.phase('upload', `${options.count} vectors of ${options.dim} dimensions into ${options.collection}`);
  const latencies = new LatencyRecorder(Math.max(1, Math.ceil(options.count / options.batchSize)));
  const rejected: ItemFailure[] = [];
  // Uniform vectors are views into the source's pool; clustered ones are computed, into vectors
  // Qdrant has acknowledged: a fresh 4 KB array per point made garbage collection a quarter of the
  // client's time, which ingest (decoding into reused memory) does not pay.
  const recycle = options.distribution === 'clustered';
  const spare: Float32Array[] = [];
  let done = 0;
  const cpu = cpuMeter();
  const started = performance.now();
  const timeline = new Timeline({ startMs: started });
  const stage = new UpsertStage(sink, {
    batchSize: options.batchSize,
    batchBytes: options.batchBytes,
    parallel: options.parallel,
    retry: { ...defaultRetryPolicy, maxRetries: options.maxRetries },
    stopRetries: signal,
    onUpserted: (items, _bytes, ms) => {
      if (recycle) for (const item of items) if (item.vector) spare.push(item.vector);
      latencies.record(ms);
      timeline.record(items.length);
      done += items.length;
      events.progress(done, options.count, 'vectors');
    },
    onFailed: (failures) => {
      rejected.push(...failures);
    },
    onRetry: (event) => events.warn(`Qdrant retry ${event.attempt}: ${event.error.message}`),
  });
  let failure: { error: unknown } | undefined;
  try {
    const source = new VectorSource(options.dim, { distribution: options.distribution, seed: options.seed });
    for (let id = 0; id < options.count && !signal?.aborted; id += 1) {
      await stage.add(generatedPoint(id, source.take(spare.pop())));
    }
  } catch (error) {
    failure = { error };
  }
  try {
    await stage.finish();
  } catch (error) {
    failure ??= { error };
  } finally {
    await sink.close();
  }
  const wallMs = performance.now() - started;
  const cpuShare = cpu();
  if (failure) throw failure.error;
  signal?.throwIfAborted();
  if (rejected.length > 0) {
    throw new TabootError(
      `Qdrant rejected ${rejected.length} generated point${rejected.length === 1 ? '' : 's'}: ${rejected[0]!.reason}`,
    );
  }
  return { wallMs, latencies, timeline, cpuShare };
}

/** A generated vector as the pipeline carries a chunk: no file, no text, only an id and a bucket. */
function generatedPoint(id: number, vector: Float32Array): WorkItem & { vector: Float32Array } {
  const pointId = generatedPointId(id);
  return {
    file: 'generated',
    line: undefined,
    docId: pointId,
    chunkIndex: 0,
    text: '',
    payload: { bucket: id % 100 },
    pointId,
    estimatedTokens: 0,
    vector,
  };
}

/** The UUID whose 128-bit value is `id`: `00000000-0000-0000-0000-00000000007b` for 123. */
export function generatedPointId(id: number): string {
  // Below 2^48 (always, in practice) only the last group varies: one short string per point.
  if (id < 2 ** 48) return `00000000-0000-0000-0000-${id.toString(16).padStart(12, '0')}`;
  const hex = id.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface UpsertScenarioOptions extends UploadOptions {
  indexTimeoutMs: number;
}

/**
 * `bench upsert`: upload into an empty collection (created by the caller), then wait until
 * Qdrant has indexed it (see `indexingVerdict`). Warns when the client's own CPU was the limit.
 */
export async function runUpsertScenario(
  qdrant: Qdrant,
  config: Config,
  options: UpsertScenarioOptions,
  events: BenchEvents,
  signal?: AbortSignal,
): Promise<UpsertResult> {
  const upload = await uploadVectors(config.qdrant, options, events, signal);
  const index = await waitForIndex(qdrant, config, options, events, signal);
  if (upload.cpuShare > CLIENT_CPU_WARNING) {
    events.warn(
      `taboot's own CPU time was ${Math.round(upload.cpuShare * 100)}% of one core during the upload: ` +
        'the upload rate measures taboot, not Qdrant (its JavaScript thread was the limit)',
    );
  }
  return upsertFigures(options, upload, index);
}

/** The upload's figures in the result's units, with the index wait that followed it (seconds). */
export function upsertFigures(
  options: Pick<GeneratedData, 'count' | 'dim' | 'batchSize' | 'parallel'>,
  upload: UploadMeasurement,
  indexSeconds: number,
): UpsertResult {
  const latency = summarize(upload.latencies);
  const uploadSeconds = upload.wallMs / 1000;
  return {
    count: options.count,
    dim: options.dim,
    batch_size: options.batchSize,
    parallel: options.parallel,
    upload_seconds: round3(uploadSeconds),
    upload_vps: Math.round(options.count / uploadSeconds),
    mean_ms: round3(latency.mean_ms),
    p50_ms: round3(latency.p50_ms),
    p95_ms: round3(latency.p95_ms),
    p99_ms: round3(latency.p99_ms),
    index_seconds: round3(indexSeconds),
    total_seconds: round3(uploadSeconds + indexSeconds),
    client_cpu_share: round3(upload.cpuShare),
    timeline: upload.timeline.points().map(([seconds, vps]) => [round3(seconds), Math.round(vps)]),
  };
}

/** Waits for the collection's index after an upload of `options.count` vectors; returns seconds. */
export async function waitForIndex(
  qdrant: Qdrant,
  config: Config,
  options: Pick<UpsertScenarioOptions, 'collection' | 'count' | 'dim' | 'indexTimeoutMs'>,
  events: BenchEvents,
  signal?: AbortSignal,
): Promise<number> {
  events.phase('index', `waiting for ${options.collection} to turn green and indexed`);
  const outcome = await waitForCollectionIndex(
    qdrant,
    options.collection,
    {
      expectedPoints: options.count,
      vectorBytes: options.dim * 4,
      indexingThresholdKb: config.collection.optimizers.indexingThresholdKb,
      hnswEnabled: config.collection.hnsw.m > 0,
    },
    {
      timeoutMs: options.indexTimeoutMs,
      signal,
      onSample: (sample) => events.progress(sample.indexedVectors, sample.points, 'indexed'),
    },
  );
  return toSeconds(outcome.seconds * 1000);
}
