import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  CountResponseSchema,
  CountResultSchema,
  DenseVectorSchema,
  FieldType,
  GetResponseSchema,
  NamedVectorsOutputSchema,
  PayloadSchemaType,
  type PointStruct,
  PointsOperationResponseSchema,
  QueryResponseSchema,
  RetrievedPointSchema,
  ScoredPointSchema,
  ScrollResponseSchema,
  UpdateResultSchema,
  UpdateStatus,
  VectorOutputSchema,
  type VectorsOutput,
  VectorsOutputSchema,
  type WithVectorsSelector,
} from '@qdrant/js-client-grpc';
import type { StoredCollection, StoredPoint } from './collection.js';
import { elapsed } from './collections-service.js';
import type { PointsService } from './descriptors.js';
import { qdrantErrors } from './errors.js';
import { matchesFilter } from './filter.js';
import { rankPoints } from './scoring.js';
import type { ServerState } from './state.js';
import { compareKeys, payloadToJson, pointIdFromKey, pointKey, selectPayload } from './values.js';
import { denseData, toStoredVector } from './vectors.js';

function toStoredPoint(collection: StoredCollection, point: PointStruct, version: bigint): StoredPoint {
  const key = pointKey(point.id);
  const vectors = new Map<string, Float32Array>();
  const options = point.vectors?.vectorsOptions;
  if (options?.case === 'vector')
    vectors.set('', toStoredVector(collection, '', denseData(options.value, '')));
  if (options?.case === 'vectors') {
    for (const [name, vector] of Object.entries(options.value.vectors)) {
      vectors.set(name, toStoredVector(collection, name, denseData(vector, name)));
    }
  }
  for (const name of collection.vectors.keys()) {
    if (!vectors.has(name) && name === '')
      throw qdrantErrors.badInput('Vector is missing for the default vector');
  }
  return { key, vectors, payload: point.payload, json: payloadToJson(point.payload), version };
}

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

function indexType(request: {
  fieldType?: FieldType;
  fieldIndexParams?: { indexParams: { case?: string } };
}) {
  const byParams: Record<string, PayloadSchemaType> = {
    keywordIndexParams: PayloadSchemaType.Keyword,
    integerIndexParams: PayloadSchemaType.Integer,
    floatIndexParams: PayloadSchemaType.Float,
    geoIndexParams: PayloadSchemaType.Geo,
    textIndexParams: PayloadSchemaType.Text,
    boolIndexParams: PayloadSchemaType.Bool,
    datetimeIndexParams: PayloadSchemaType.Datetime,
    uuidIndexParams: PayloadSchemaType.Uuid,
  };
  const fromParams = byParams[request.fieldIndexParams?.indexParams.case ?? ''];
  if (fromParams !== undefined) return fromParams;
  if (request.fieldType !== undefined && request.fieldType in FieldType) {
    return (request.fieldType + 1) as PayloadSchemaType;
  }
  throw qdrantErrors.badInput("Can't auto-detect field type, please specify `field_schema` in the request");
}

export function pointsImpl(state: ServerState): Partial<ServiceImpl<PointsService>> {
  const done = (collection: StoredCollection, wait: boolean | undefined, start: number) =>
    create(PointsOperationResponseSchema, {
      result: create(UpdateResultSchema, {
        operationId: collection.touch(state.indexingDelayMs),
        // wait=false: in the WAL and queued; wait=true: applied and searchable.
        status: wait ? UpdateStatus.Completed : UpdateStatus.Acknowledged,
      }),
      time: elapsed(start),
    });
  const sorted = (collection: StoredCollection) =>
    [...collection.points.values()].sort((a, b) => compareKeys(a.key, b.key));

  return {
    upsert(request) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      if (request.updateFilter) throw qdrantErrors.unsupported('Conditional upsert (update_filter)');
      // Validate every point before storing any: a bad batch leaves the collection unchanged.
      const points = request.points.map((p) => toStoredPoint(collection, p, 0n));
      const response = done(collection, request.wait, start);
      for (const point of points) {
        point.version = response.result?.operationId ?? 0n;
        collection.points.set(point.key, point);
      }
      return response;
    },
    delete(request) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      const selector = request.points?.pointsSelectorOneOf;
      if (selector?.case === 'points') {
        for (const id of selector.value.ids) collection.points.delete(pointKey(id));
      } else if (selector?.case === 'filter') {
        for (const point of [...collection.points.values()]) {
          if (matchesFilter(point, selector.value)) collection.points.delete(point.key);
        }
      } else {
        throw qdrantErrors.badInput('PointsSelector is empty');
      }
      return done(collection, request.wait, start);
    },
    get(request) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      const result = request.ids.flatMap((id) => {
        const point = collection.points.get(pointKey(id));
        if (!point) return [];
        return [
          create(RetrievedPointSchema, {
            id: pointIdFromKey(point.key),
            payload: selectPayload(point.payload, request.withPayload, true),
            vectors: vectorsOutput(point, request.withVectors),
          }),
        ];
      });
      return create(GetResponseSchema, { result, time: elapsed(start) });
    },
    scroll(request) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      if (request.orderBy) throw qdrantErrors.unsupported('Scroll with order_by');
      const limit = request.limit ?? 10;
      if (limit < 1) throw qdrantErrors.validation('limit', `value ${limit} invalid, must be 1 or larger`);
      const offset = request.offset ? pointKey(request.offset) : undefined;
      const matching = sorted(collection).filter(
        (p) => (offset === undefined || compareKeys(p.key, offset) >= 0) && matchesFilter(p, request.filter),
      );
      const page = matching.slice(0, limit);
      const next = matching[limit];
      return create(ScrollResponseSchema, {
        result: page.map((point) =>
          create(RetrievedPointSchema, {
            id: pointIdFromKey(point.key),
            payload: selectPayload(point.payload, request.withPayload, true),
            vectors: vectorsOutput(point, request.withVectors),
          }),
        ),
        nextPageOffset: next ? pointIdFromKey(next.key) : undefined,
        time: elapsed(start),
      });
    },
    count(request) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      let count = 0n;
      for (const point of collection.points.values()) if (matchesFilter(point, request.filter)) count += 1n;
      return create(CountResponseSchema, {
        result: create(CountResultSchema, { count }),
        time: elapsed(start),
      });
    },
    query(request) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      const ranked = rankPoints(collection, request, sorted(collection));
      return create(QueryResponseSchema, {
        result: ranked.map(({ point, score }) =>
          create(ScoredPointSchema, {
            id: pointIdFromKey(point.key),
            payload: selectPayload(point.payload, request.withPayload, false),
            score,
            version: point.version,
            vectors: vectorsOutput(point, request.withVectors),
          }),
        ),
        time: elapsed(start),
      });
    },
    createFieldIndex(request) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      collection.payloadIndexes.set(request.fieldName, {
        type: indexType(request),
        params: request.fieldIndexParams,
      });
      return done(collection, request.wait, start);
    },
    deleteFieldIndex(request) {
      const start = performance.now();
      const collection = state.get(request.collectionName);
      collection.payloadIndexes.delete(request.fieldName);
      return done(collection, request.wait, start);
    },
  };
}
