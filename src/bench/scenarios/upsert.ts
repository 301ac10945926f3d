import PQueue from 'p-queue';
import type { Config } from '../../config/schema.js';
import { defaultRetryPolicy, withRetry } from '../../pipeline/retry.js';
import type { Qdrant } from '../../qdrant/client.js';
import { GrpcUpsertTransport } from '../../qdrant/grpc-upsert-transport.js';
import { waitForCollectionIndex } from '../../qdrant/indexing-wait.js';
import type { EncodablePoint } from '../../qdrant/point-encoder.js';
import type { UpsertResult } from '../result.js';
import { LatencyRecorder, summarize, Timeline } from '../stats.js';
import { type VectorDistribution, vectorBatches } from '../vectors.js';
import { type BenchEvents, cpuMeter, round3, toSeconds } from './shared.js';

export interface UploadOptions {
  collection: string;
  count: number;
  dim: number;
  distribution: VectorDistribution;
  seed: number;
  /** Points per request. */
  batchSize: number;
  /** Requests in flight. */
  parallel: number;
  /** Ask Qdrant to apply each batch before answering (`wait=true`). */
  wait: boolean;
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
 * Uploads `count` seeded vectors through the fast upsert path (hand-encoded frames over HTTP/2),
 * `parallel` requests in flight with backpressure, so at most `2 × parallel` batches are held in
 * memory. Points get ids `0..count-1` and the payload `{bucket: id % 100}`. Vector generation runs
 * between requests on the same thread and counts as client time, as an embedding decode would.
 */
export async function uploadVectors(
  settings: Config['qdrant'],
  options: UploadOptions,
  events: BenchEvents,
  signal?: AbortSignal,
): Promise<UploadMeasurement> {
  const transport = new GrpcUpsertTransport({
    url: settings.url,
    apiKey: settings.apiKey,
    timeoutMs: settings.timeoutMs,
    userAgent: 'taboot bench',
  });
  const queue = new PQueue({ concurrency: options.parallel });
  const latencies = new LatencyRecorder(Math.max(1, Math.ceil(options.count / options.batchSize)));
  const policy = { ...defaultRetryPolicy, maxRetries: options.maxRetries };
  let failure: { error: unknown } | undefined;
  let done = 0;
  let nextId = 0;
  const cpu = cpuMeter();
  const started = performance.now();
  const timeline = new Timeline({ startMs: started });
  try {
    const batches = vectorBatches(options.count, options.dim, options.batchSize, {
      distribution: options.distribution,
      seed: options.seed,
    });
    for (const batch of batches) {
      if (failure || signal?.aborted) break;
      const first = nextId;
      nextId += batch.length;
      const points: EncodablePoint[] = batch.map((vector, index) => ({
        id: first + index,
        vector,
        payload: { bucket: (first + index) % 100 },
      }));
      await queue.onSizeLessThan(options.parallel);
      queue
        .add(async () => {
          const sent = performance.now();
          await withRetry(
            () =>
              transport.upsertPoints(
                { collectionName: options.collection, wait: options.wait, points },
                signal,
              ),
            policy,
            { signal },
          );
          const acknowledged = performance.now();
          latencies.record(acknowledged - sent);
          timeline.record(points.length, acknowledged);
          done += points.length;
          events.progress(done, options.count, 'vectors');
        })
        .catch((error: unknown) => {
          failure ??= { error };
        });
    }
    await queue.onIdle();
  } finally {
    await transport.close();
  }
  const wallMs = performance.now() - started;
  const cpuShare = cpu();
  if (failure) throw failure.error;
  signal?.throwIfAborted();
  return { wallMs, latencies, timeline, cpuShare };
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
  events.phase('upload', `${options.count} vectors of ${options.dim} dimensions into ${options.collection}`);
  const upload = await uploadVectors(config.qdrant, options, events, signal);
  const index = await waitForIndex(qdrant, config, options, events, signal);
  const latency = summarize(upload.latencies);
  const uploadSeconds = upload.wallMs / 1000;
  if (upload.cpuShare > CLIENT_CPU_WARNING) {
    events.warn(
      `taboot's own CPU time was ${Math.round(upload.cpuShare * 100)}% of one core during the upload: ` +
        'the upload rate measures taboot, not Qdrant (its JavaScript thread was the limit)',
    );
  }
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
    index_seconds: round3(index),
    total_seconds: round3(uploadSeconds + index),
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
