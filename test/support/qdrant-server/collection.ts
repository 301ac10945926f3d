import { create } from '@bufbuild/protobuf';
import {
  type CollectionInfo,
  CollectionInfoSchema,
  CollectionStatus,
  type CreateCollection,
  OptimizerStatusSchema,
  type PayloadIndexParams,
  PayloadSchemaInfoSchema,
  type PayloadSchemaType,
  type UpdateCollection,
  UpdateQueueInfoSchema,
} from '@qdrant/js-client-grpc';
import { CollectionSettings } from './collection-config.js';
import { SegmentModel } from './segments.js';
import { UpdateQueue } from './update-queue.js';
import type { VectorSpec } from './validation.js';
import type { Json, Payload } from './values.js';
import { valuesAt } from './values.js';

/** A stored point. Vectors are Float32Array (Cosine ones normalised on insert, as Qdrant does). */
export interface StoredPoint {
  key: string;
  vectors: Map<string, Float32Array>;
  /** The payload exactly as received, returned as is. */
  payload: Payload;
  /** The same payload as JSON, for filters. */
  json: { [key: string]: Json };
  version: bigint;
}

export interface PayloadIndex {
  type: PayloadSchemaType;
  params: PayloadIndexParams | undefined;
}

/** The server-wide knobs a collection reads at each use, so that tests can change them mid-run. */
export interface CollectionEnvironment {
  /** How long an optimization (indexing a segment) keeps the collection yellow, in ms. */
  indexingDelayMs(): number;
  /** How long a `wait=false` write stays invisible; undefined: applied before it is answered. */
  applyDelayMs(): number | undefined;
  /** A write that failed after it was acknowledged. */
  lateError(collection: string, error: unknown): void;
}

/**
 * One in-memory collection: its settings, its points and payload indexes as applied (what reads
 * see), its segments (what `indexed_vectors_count` and the status follow) and its update queue
 * (writes acknowledged and not applied yet).
 */
export class StoredCollection {
  readonly name: string;
  readonly settings: CollectionSettings;
  readonly points = new Map<string, StoredPoint>();
  readonly payloadIndexes = new Map<string, PayloadIndex>();
  readonly queue: UpdateQueue;
  private readonly segments: SegmentModel;
  private operationId = 0n;
  /** `Date.now()` when the optimizations due now became due; undefined when none is. */
  private optimizingSince: number | undefined;

  constructor(
    request: CreateCollection,
    private readonly env: CollectionEnvironment,
  ) {
    this.name = request.collectionName;
    this.settings = new CollectionSettings(request);
    this.segments = new SegmentModel(() => this.settings.segmentSettings());
    this.queue = new UpdateQueue(
      () => env.applyDelayMs(),
      (error) => env.lateError(this.name, error),
    );
  }

  get vectors(): Map<string, VectorSpec> {
    return this.settings.vectors;
  }

  /** The next operation id, in the order writes are acknowledged (Qdrant's WAL order). */
  nextOperationId(): bigint {
    this.operationId += 1n;
    return this.operationId;
  }

  update(request: UpdateCollection): void {
    this.settings.update(request);
    this.settle();
  }

  /** Store points (new or overwriting), as one applied write. */
  putPoints(points: readonly StoredPoint[]): void {
    for (const point of points) this.points.set(point.key, point);
    this.segments.write(points.map((p) => p.key));
    this.settle();
  }

  /** Record a payload change of stored points: in an indexed segment that moves them, as in Qdrant. */
  touchPoints(keys: readonly string[]): void {
    this.segments.write(keys);
    this.settle();
  }

  /** Delete points by key; returns how many existed. */
  deletePoints(keys: Iterable<string>): number {
    let deleted = 0;
    for (const key of keys) {
      if (!this.points.delete(key)) continue;
      this.segments.delete(key);
      deleted += 1;
    }
    this.settle();
    return deleted;
  }

  /** Vectors in built (HNSW) segments, as `indexed_vectors_count` reports them. */
  indexedCount(): number {
    this.settle();
    return this.segments.indexedVectors();
  }

  info(): CollectionInfo {
    this.settle();
    const payloadSchema: CollectionInfo['payloadSchema'] = {};
    for (const [key, index] of this.payloadIndexes) {
      let points = 0n;
      for (const point of this.points.values()) {
        if (valuesAt(point.json, key).some((v) => v !== null)) points += 1n;
      }
      payloadSchema[key] = create(PayloadSchemaInfoSchema, {
        dataType: index.type,
        params: index.params,
        points,
      });
    }
    return create(CollectionInfoSchema, {
      status: this.optimizingSince === undefined ? CollectionStatus.Green : CollectionStatus.Yellow,
      optimizerStatus: create(OptimizerStatusSchema, { ok: true, error: '' }),
      segmentsCount: BigInt(this.segments.count),
      pointsCount: BigInt(this.points.size),
      indexedVectorsCount: BigInt(this.segments.indexedVectors()),
      payloadSchema,
      config: this.settings.toProto(),
      updateQueue: create(UpdateQueueInfoSchema, { length: BigInt(this.queue.length) }),
    });
  }

  /**
   * Start or finish the optimizations the segments need: the collection is yellow from the moment
   * one is due until `indexingDelayMs` (as set now) later, when they all complete at once.
   */
  private settle(): void {
    if (!this.segments.needsOptimization()) {
      this.optimizingSince = undefined;
      return;
    }
    const now = Date.now();
    this.optimizingSince ??= now;
    if (now < this.optimizingSince + this.env.indexingDelayMs()) return;
    this.segments.optimize();
    this.optimizingSince = undefined;
  }
}
