import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  CountResponseSchema,
  CountResultSchema,
  DenseVectorSchema,
  GetResponseSchema,
  NamedVectorsOutputSchema,
  PointsOperationResponseSchema,
  type PointsUpdateOperation,
  QueryResponseSchema,
  RetrievedPointSchema,
  ScoredPointSchema,
  ScrollResponseSchema,
  UpdateBatchResponseSchema,
  type UpdateResult,
  UpdateResultSchema,
  UpdateStatus,
  VectorOutputSchema,
  type VectorsOutput,
  VectorsOutputSchema,
  type WithVectorsSelector,
} from '@qdrant/js-client-grpc';
import { type Counters, filterScanCost } from './accounting.js';
import type { StoredCollection, StoredPoint } from './collection.js';
import { elapsed } from './collections-service.js';
import type { PointsService } from './descriptors.js';
import { qdrantErrors } from './errors.js';
import { matchesFilter } from './filter.js';
import { scrollById, scrollByOrder, sortedPoints } from './point-reads.js';
import {
  type Apply,
  clearPayloadWrite,
  createIndexWrite,
  deleteIndexWrite,
  deletePayloadWrite,
  deleteWrite,
  payloadWrite,
  upsertWrite,
  type WriteScope,
} from './point-writes.js';
import { rankPoints } from './scoring.js';
import type { ServerState } from './state.js';
import { pointIdFromKey, pointKey, selectPayload } from './values.js';

function vectorsOutput(
  point: StoredPoint,
  selector: WithVectorsSelector | undefined,
): VectorsOutput | undefined {
  const options = selector?.selectorOptions;
  if (!options || options.case === undefined || (options.case === 'enable' && !options.value))
    return undefined;
  const names = options.case === 'include' ? options.value.names : [...point.vectors.keys()];
  const output = (vector: Float32Array) =>
    create(VectorOutputSchema, {
      vector: { case: 'dense', value: create(DenseVectorSchema, { data: Array.from(vector) }) },
    });
  const unnamed = point.vectors.get('');
  if (unnamed && point.vectors.size === 1 && options.case === 'enable') {
    return create(VectorsOutputSchema, { vectorsOptions: { case: 'vector', value: output(unnamed) } });
  }
  const vectors: Record<string, ReturnType<typeof output>> = {};
  for (const name of names) {
    const vector = point.vectors.get(name);
    if (vector) vectors[name] = output(vector);
  }
  return create(VectorsOutputSchema, {
    vectorsOptions: { case: 'vectors', value: create(NamedVectorsOutputSchema, { vectors }) },
  });
}

const methodOf = (context: HandlerContext) => `${context.service.name}/${context.method.name}`;

/**
 * The Points service over the applied state of each collection. Writes go through the
 * collection's update queue (see `UpdateQueue`): `wait=false` answers `Acknowledged`, `wait=true`
 * answers `Completed` once it and everything queued before it are applied.
 */
export function pointsImpl(state: ServerState, counters: Counters): Partial<ServiceImpl<PointsService>> {
  /** Validate a write (throws), give it the next operation id, queue or apply it. */
  const submit = (
    collection: StoredCollection,
    wait: boolean | undefined,
    method: string,
    build: (scope: WriteScope) => Apply,
  ): UpdateResult => {
    const scope: WriteScope = { collection, operationId: 0n, scan: (n) => counters.scan(method, n) };
    const apply = build(scope);
    scope.operationId = collection.nextOperationId();
    collection.queue.submit(apply, wait === true);
    return create(UpdateResultSchema, {
      operationId: scope.operationId,
      status: wait ? UpdateStatus.Completed : UpdateStatus.Acknowledged,
    });
  };
  const write =
    <R extends { collectionName: string; wait?: boolean }>(
      build: (request: R) => (scope: WriteScope) => Apply,
    ) =>
    (request: R, context: HandlerContext) => {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      const result = submit(collection, request.wait, methodOf(context), build(request));
      return create(PointsOperationResponseSchema, { result, time: elapsed(start) });
    };
  const batchOperation = (op: PointsUpdateOperation['operation']): ((scope: WriteScope) => Apply) => {
    switch (op.case) {
      case 'upsert':
        return (scope) => upsertWrite(scope, op.value.points);
      case 'deletePoints':
        return (scope) => deleteWrite(scope, op.value.points);
      case 'deleteDeprecated':
        return (scope) => deleteWrite(scope, op.value);
      case 'setPayload':
        return (scope) => payloadWrite(scope, op.value, 'set');
      case 'overwritePayload':
        return (scope) => payloadWrite(scope, op.value, 'overwrite');
      case 'deletePayload':
        return (scope) => deletePayloadWrite(scope, op.value.keys, op.value.pointsSelector);
      case 'clearPayload':
        return (scope) => clearPayloadWrite(scope, op.value.points);
      case 'clearPayloadDeprecated':
        return (scope) => clearPayloadWrite(scope, op.value);
      default:
        throw qdrantErrors.unsupported(`UpdateBatch operation \`${op.case ?? 'empty'}\``);
    }
  };

  return {
    upsert: write((request) => (scope) => {
      if (request.updateFilter) throw qdrantErrors.unsupported('Conditional upsert (update_filter)');
      return upsertWrite(scope, request.points);
    }),
    delete: write((request) => (scope) => deleteWrite(scope, request.points)),
    setPayload: write((request) => (scope) => payloadWrite(scope, request, 'set')),
    overwritePayload: write((request) => (scope) => payloadWrite(scope, request, 'overwrite')),
    deletePayload: write(
      (request) => (scope) => deletePayloadWrite(scope, request.keys, request.pointsSelector),
    ),
    clearPayload: write((request) => (scope) => clearPayloadWrite(scope, request.points)),
    createFieldIndex: write((request) => (scope) => createIndexWrite(scope, request)),
    deleteFieldIndex: write((request) => (scope) => deleteIndexWrite(scope, request.fieldName)),
    updateBatch(request, context) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      if (request.operations.length === 0) {
        throw qdrantErrors.validation('operations', 'value [] invalid, must be at least 1 characters');
      }
      // One after the other, as Qdrant runs them: a failing operation stops the batch, and the
      // ones before it stay written.
      const result = request.operations.map((op) =>
        submit(collection, request.wait, methodOf(context), batchOperation(op.operation)),
      );
      return create(UpdateBatchResponseSchema, { result, time: elapsed(start) });
    },
    get(request, context) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      counters.scan(methodOf(context), request.ids.length);
      const result = request.ids.flatMap((id) => {
        const point = collection.points.get(pointKey(id));
        if (!point) return [];
        return [
          create(RetrievedPointSchema, {
            id: pointIdFromKey(point.key),
            payload: selectPayload(point.payload, request.withPayload, false),
            vectors: vectorsOutput(point, request.withVectors),
          }),
        ];
      });
      return create(GetResponseSchema, { result, time: elapsed(start) });
    },
    scroll(request, context) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      const limit = request.limit ?? 10;
      if (limit < 1) throw qdrantErrors.validation('limit', `value ${limit} invalid, must be 1 or larger`);
      const { page, next, scanned } = request.orderBy
        ? scrollByOrder(collection, request, limit)
        : scrollById(collection, request, limit);
      counters.scan(methodOf(context), scanned);
      return create(ScrollResponseSchema, {
        result: page.map(({ point, orderValue }) =>
          create(RetrievedPointSchema, {
            id: pointIdFromKey(point.key),
            payload: selectPayload(point.payload, request.withPayload, true),
            vectors: vectorsOutput(point, request.withVectors),
            orderValue,
          }),
        ),
        nextPageOffset: next ? pointIdFromKey(next.key) : undefined,
        time: elapsed(start),
      });
    },
    count(request, context) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      // Without a filter Qdrant answers from its point counts; with one it selects the points.
      if (request.filter) counters.scan(methodOf(context), filterScanCost(collection, request.filter));
      let count = 0n;
      for (const point of collection.points.values()) if (matchesFilter(point, request.filter)) count += 1n;
      return create(CountResponseSchema, {
        result: create(CountResultSchema, { count }),
        time: elapsed(start),
      });
    },
    query(request, context) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      if (request.filter) counters.scan(methodOf(context), filterScanCost(collection, request.filter));
      const ranked = rankPoints(collection, request, sortedPoints(collection));
      return create(QueryResponseSchema, {
        result: ranked.map(({ point, score, version }) =>
          create(ScoredPointSchema, {
            id: pointIdFromKey(point.key),
            payload: selectPayload(point.payload, request.withPayload, false),
            score,
            version,
            vectors: vectorsOutput(point, request.withVectors),
          }),
        ),
        time: elapsed(start),
      });
    },
  };
}
