import { create } from '@bufbuild/protobuf';
import {
  Direction,
  type OrderValue,
  OrderValueSchema,
  PayloadSchemaType,
  type ScrollPoints,
} from '@qdrant/js-client-grpc';
import { filterScanCost } from './accounting.js';
import type { StoredCollection, StoredPoint } from './collection.js';
import { qdrantErrors } from './errors.js';
import { matchesFilter } from './filter.js';
import { compareKeys, pointKey, valuesAt } from './values.js';

export interface ScrollPage {
  page: Array<{ point: StoredPoint; orderValue?: OrderValue }>;
  next: StoredPoint | undefined;
  /** Points visited to fill the page. */
  scanned: number;
}

export function sortedPoints(collection: StoredCollection): StoredPoint[] {
  return [...collection.points.values()].sort((a, b) => compareKeys(a.key, b.key));
}

/**
 * Scroll by id: from `offset`, the first `limit` matches and the id after them. Without a usable
 * index Qdrant streams ids and checks each against the filter until the page is full, so that is
 * what it costs; with one (see `filterScanCost`) it reads the points the index selects.
 */
export function scrollById(collection: StoredCollection, request: ScrollPoints, limit: number): ScrollPage {
  const offset = request.offset ? pointKey(request.offset) : undefined;
  const indexed = request.filter ? filterScanCost(collection, request.filter) : undefined;
  const page: ScrollPage['page'] = [];
  let next: StoredPoint | undefined;
  let visited = 0;
  for (const point of sortedPoints(collection)) {
    if (offset !== undefined && compareKeys(point.key, offset) < 0) continue;
    visited += 1;
    if (!matchesFilter(point, request.filter)) continue;
    if (page.length === limit) {
      next = point;
      break;
    }
    page.push({ point });
  }
  const scanned = indexed !== undefined && indexed < collection.points.size ? indexed : visited;
  return { page, next, scanned };
}

const rangeIndexes = new Set([
  PayloadSchemaType.Integer,
  PayloadSchemaType.Float,
  PayloadSchemaType.Datetime,
]);

/**
 * Scroll with `order_by`: Qdrant walks the key's range index in value order (each value of a
 * multi-valued field yields its point once more), from `start_from`, and returns no next page
 * offset. It needs an integer, float or datetime index on the key and refuses an `offset`.
 */
export function scrollByOrder(
  collection: StoredCollection,
  request: ScrollPoints,
  limit: number,
): ScrollPage {
  const orderBy = request.orderBy;
  if (!orderBy) throw new Error('scrollByOrder without order_by');
  if (request.offset) {
    throw qdrantErrors.badInput(
      "Cannot use an `offset` when using `order_by`. The alternative for paging is to use `order_by.start_from` and a filter to exclude the IDs that you've already seen for the `order_by.start_from` value",
    );
  }
  const index = collection.payloadIndexes.get(orderBy.key);
  if (!index || !rangeIndexes.has(index.type)) {
    throw qdrantErrors.badInput(
      `No range index for \`order_by\` key: \`${orderBy.key}\`. Please create one to use \`order_by\`. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas support Range conditions`,
    );
  }
  const descending = orderBy.direction === Direction.Desc;
  const start = startValue(orderBy.startFrom?.value);
  const entries: Array<{ point: StoredPoint; value: number }> = [];
  for (const point of collection.points.values()) {
    for (const raw of valuesAt(point.json, orderBy.key)) {
      const value =
        index.type === PayloadSchemaType.Datetime && typeof raw === 'string' ? Date.parse(raw) : raw;
      if (typeof value !== 'number' || Number.isNaN(value)) continue;
      if (start !== undefined && (descending ? value > start : value < start)) continue;
      entries.push({ point, value });
    }
  }
  entries.sort(
    (a, b) => (descending ? b.value - a.value : a.value - b.value) || compareKeys(a.point.key, b.point.key),
  );
  const page: ScrollPage['page'] = [];
  let scanned = 0;
  for (const { point, value } of entries) {
    if (page.length === limit) break;
    scanned += 1;
    if (!matchesFilter(point, request.filter)) continue;
    const variant =
      index.type === PayloadSchemaType.Integer
        ? { case: 'int' as const, value: BigInt(Math.trunc(value)) }
        : { case: 'float' as const, value };
    page.push({ point, orderValue: create(OrderValueSchema, { variant }) });
  }
  return { page, next: undefined, scanned };
}

function startValue(
  value: NonNullable<NonNullable<ScrollPoints['orderBy']>['startFrom']>['value'] | undefined,
) {
  switch (value?.case) {
    case 'integer':
      return Number(value.value);
    case 'float':
      return value.value;
    case 'timestamp':
      return Number(value.value.seconds) * 1000 + value.value.nanos / 1e6;
    case 'datetime':
      return Date.parse(value.value);
    default:
      return undefined;
  }
}
