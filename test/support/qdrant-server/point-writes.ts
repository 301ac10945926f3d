import {
  FieldType,
  type PayloadIndexParams,
  PayloadSchemaType,
  type PointStruct,
  type PointsSelector,
} from '@qdrant/js-client-grpc';
import { filterScanCost } from './accounting.js';
import type { StoredCollection, StoredPoint } from './collection.js';
import { qdrantErrors } from './errors.js';
import { matchesFilter } from './filter.js';
import { deletePayloadKeys, mergePayload, mergePayloadAt, replacePayloadAt } from './payload-edit.js';
import { type Payload, payloadToJson, pointKey } from './values.js';
import { denseData, toStoredVector } from './vectors.js';

/**
 * The writes of the Points service, each split the way Qdrant splits it: what is checked before
 * the write is acknowledged (these functions throw), and what happens when the update worker
 * applies it (the returned function; its errors reach the client only with `wait=true`).
 */
export type Apply = () => void;

export interface WriteScope {
  collection: StoredCollection;
  /** The write's operation id, which becomes the version of every point it touches; set once it is acknowledged. */
  operationId: bigint;
  /** Charge points visited to the method that sent the write. */
  scan(points: number): void;
}

type Vectors = NonNullable<PointStruct['vectors']>['vectorsOptions'];

/** Upsert: dimensions are checked up front; an unknown vector name only fails when applied. */
export function upsertWrite(scope: WriteScope, points: readonly PointStruct[]): Apply {
  const { collection } = scope;
  if (points.length === 0) throw qdrantErrors.invalid('Bad request: Empty update request');
  let unknownName: string | undefined;
  const prepared: StoredPoint[] = points.map((point) => {
    const key = pointKey(point.id);
    const vectors = new Map<string, Float32Array>();
    for (const [name, data] of vectorEntries(point.vectors?.vectorsOptions)) {
      if (!collection.vectors.has(name)) unknownName ??= name;
      else vectors.set(name, toStoredVector(collection, name, data));
    }
    return { key, vectors, payload: point.payload, json: payloadToJson(point.payload), version: 0n };
  });
  return () => {
    if (unknownName !== undefined) {
      throw qdrantErrors.badInput(`Not existing vector name error: ${unknownName}`);
    }
    for (const point of prepared) point.version = scope.operationId;
    collection.putPoints(prepared);
  };
}

function vectorEntries(options: Vectors | undefined): Array<[string, number[]]> {
  if (options?.case === 'vector') return [['', denseData(options.value, '')]];
  if (options?.case === 'vectors') {
    return Object.entries(options.value.vectors).map(([name, v]) => [name, denseData(v, name)]);
  }
  throw qdrantErrors.invalid('Expected some vectors');
}

export function deleteWrite(scope: WriteScope, selector: PointsSelector | undefined): Apply {
  const { collection } = scope;
  const select = selection(scope, selector, 'PointSelector is missing');
  return () => {
    collection.deletePoints(select.keys());
  };
}

/** SetPayload (merge) and OverwritePayload (replace), by ids or by filter, optionally at a `key` path. */
export function payloadWrite(
  scope: WriteScope,
  request: { payload: Payload; pointsSelector?: PointsSelector; key?: string },
  mode: 'set' | 'overwrite',
): Apply {
  const { payload, key } = request;
  const edit = (stored: Payload): Payload => {
    if (mode === 'set') return key ? mergePayloadAt(stored, key, payload) : mergePayload(stored, payload);
    return key ? replacePayloadAt(stored, key, payload) : { ...payload };
  };
  return editWrite(scope, request.pointsSelector, 'points_selector is expected', edit);
}

export function deletePayloadWrite(
  scope: WriteScope,
  keys: readonly string[],
  selector: PointsSelector | undefined,
): Apply {
  return editWrite(scope, selector, 'points_selector is expected', (stored) =>
    deletePayloadKeys(stored, keys),
  );
}

export function clearPayloadWrite(scope: WriteScope, selector: PointsSelector | undefined): Apply {
  return editWrite(scope, selector, 'PointSelector is missing', () => ({}));
}

function editWrite(
  scope: WriteScope,
  selector: PointsSelector | undefined,
  missingSelector: string,
  edit: (stored: Payload) => Payload,
): Apply {
  const { collection } = scope;
  const select = selection(scope, selector, missingSelector);
  return () => {
    const touched: string[] = [];
    try {
      // By ids, Qdrant edits them in order and stops at the first one it does not have.
      for (const key of select.keys()) {
        const point = collection.points.get(key);
        if (!point) throw qdrantErrors.notFound(`No point with id ${key.slice(2)} found`);
        point.payload = edit(point.payload);
        point.json = payloadToJson(point.payload);
        point.version = scope.operationId;
        touched.push(key);
      }
    } finally {
      collection.touchPoints(touched);
    }
  };
}

/** The points a selector names when the write is applied: ids as given (existing or not), or a filter's matches. */
function selection(
  scope: WriteScope,
  selector: PointsSelector | undefined,
  missing: string,
): { keys(): string[] } {
  const choice = selector?.pointsSelectorOneOf;
  if (choice?.case === 'points') {
    const keys = choice.value.ids.map(pointKey);
    return {
      keys() {
        scope.scan(keys.length);
        return keys;
      },
    };
  }
  if (choice?.case === 'filter') {
    const filter = choice.value;
    return {
      keys() {
        const { collection } = scope;
        scope.scan(filterScanCost(collection, filter));
        return [...collection.points.values()].filter((p) => matchesFilter(p, filter)).map((p) => p.key);
      },
    };
  }
  throw qdrantErrors.invalid(missing);
}

const indexTypeByParams: Record<string, PayloadSchemaType> = {
  keywordIndexParams: PayloadSchemaType.Keyword,
  integerIndexParams: PayloadSchemaType.Integer,
  floatIndexParams: PayloadSchemaType.Float,
  geoIndexParams: PayloadSchemaType.Geo,
  textIndexParams: PayloadSchemaType.Text,
  boolIndexParams: PayloadSchemaType.Bool,
  datetimeIndexParams: PayloadSchemaType.Datetime,
  uuidIndexParams: PayloadSchemaType.Uuid,
};

export function createIndexWrite(
  scope: WriteScope,
  request: { fieldName: string; fieldType?: FieldType; fieldIndexParams?: PayloadIndexParams },
): Apply {
  const fromParams = indexTypeByParams[request.fieldIndexParams?.indexParams.case ?? ''];
  const type =
    fromParams ??
    (request.fieldType !== undefined && request.fieldType in FieldType
      ? ((request.fieldType + 1) as PayloadSchemaType)
      : undefined);
  if (type === undefined) throw qdrantErrors.invalid('cannot convert field_type');
  return () => {
    scope.collection.payloadIndexes.set(request.fieldName, { type, params: request.fieldIndexParams });
  };
}

export function deleteIndexWrite(scope: WriteScope, fieldName: string): Apply {
  return () => {
    scope.collection.payloadIndexes.delete(fieldName);
  };
}
