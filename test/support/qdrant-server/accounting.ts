import { PayloadSchemaType } from '@qdrant/js-client-grpc';
import type { StoredCollection } from './collection.js';
import { type Filter, matchesFilter } from './filter.js';

interface ResponseStat {
  count: number;
  totalMicros: number;
  minMicros: number;
  maxMicros: number;
  last: Date;
}

/**
 * What clients cost the server: calls per `Service/Method` (`Points/Upsert`), points scanned per
 * method, and per method and gRPC status code the count and durations that Qdrant's REST
 * `/telemetry` reports under `requests.grpc.responses`.
 */
export class Counters {
  /** Calls received per method, failed and dropped ones included. */
  readonly calls = new Map<string, number>();
  /** Stored points each method had to visit (see `filterScanCost`), per method. */
  readonly scanned = new Map<string, number>();
  private readonly responses = new Map<string, Map<number, ResponseStat>>();

  /** @internal */
  call(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }

  /** @internal */
  scan(method: string, points: number): void {
    this.scanned.set(method, (this.scanned.get(method) ?? 0) + points);
  }

  /** @internal A call answered with gRPC status `code` after `micros`. */
  respond(method: string, code: number, micros: number): void {
    const byCode = this.responses.get(method) ?? new Map<number, ResponseStat>();
    this.responses.set(method, byCode);
    const stat = byCode.get(code);
    if (!stat) {
      byCode.set(code, {
        count: 1,
        totalMicros: micros,
        minMicros: micros,
        maxMicros: micros,
        last: new Date(),
      });
      return;
    }
    stat.count += 1;
    stat.totalMicros += micros;
    stat.minMicros = Math.min(stat.minMicros, micros);
    stat.maxMicros = Math.max(stat.maxMicros, micros);
    stat.last = new Date();
  }

  totals(): { calls: number; scanned: number } {
    const sum = (map: Map<string, number>) => [...map.values()].reduce((a, b) => a + b, 0);
    return { calls: sum(this.calls), scanned: sum(this.scanned) };
  }

  /** Forget everything counted so far (between the phases of a test). */
  reset(): void {
    this.calls.clear();
    this.scanned.clear();
    this.responses.clear();
  }

  /**
   * `requests.grpc.responses` as Qdrant 1.19 reports it: keyed by `/qdrant.<Service>/<Method>`,
   * then by status code; `details_level` 0 gives count and average only.
   */
  telemetry(detailsLevel: number): Record<string, Record<string, Record<string, number | string>>> {
    const out: Record<string, Record<string, Record<string, number | string>>> = {};
    for (const [method, byCode] of this.responses) {
      const entry: Record<string, Record<string, number | string>> = {};
      for (const [code, stat] of byCode) {
        const avg = stat.totalMicros / stat.count;
        entry[String(code)] =
          detailsLevel < 1
            ? { count: stat.count, avg_duration_micros: avg }
            : {
                count: stat.count,
                avg_duration_micros: avg,
                min_duration_micros: stat.minMicros,
                max_duration_micros: stat.maxMicros,
                total_duration_micros: Math.round(stat.totalMicros),
                last_responded: stat.last.toISOString(),
              };
      }
      out[`/qdrant.${method}`] = entry;
    }
    return out;
  }
}

type Condition = Filter['must'][number];

/**
 * Points a filtered operation visits, by the rule Qdrant's payload index follows without its
 * estimator's detail: a `must` condition the index can answer is a primary clause, and the
 * cheapest one decides: `has_id` costs the ids it names; a match (value or any) on a field with a
 * keyword index, or a match or range on a field with an integer index, costs the points that
 * condition selects. With no such clause every point is checked. `should`, `must_not`,
 * `min_should`, nested filters and other index types are not used as primary clauses here.
 */
export function filterScanCost(collection: StoredCollection, filter: Filter | undefined): number {
  if (!filter) return collection.points.size;
  let best: number | undefined;
  for (const condition of filter.must) {
    const cost = primaryCost(collection, condition);
    if (cost !== undefined && (best === undefined || cost < best)) best = cost;
  }
  return best ?? collection.points.size;
}

function primaryCost(collection: StoredCollection, condition: Condition): number | undefined {
  const c = condition.conditionOneOf;
  if (c.case === 'hasId') return c.value.hasId.length;
  if (c.case !== 'field') return undefined;
  const index = collection.payloadIndexes.get(c.value.key);
  const match = c.value.match?.matchValue.case;
  const servedByKeyword =
    index?.type === PayloadSchemaType.Keyword && (match === 'keyword' || match === 'keywords');
  const servedByInteger =
    index?.type === PayloadSchemaType.Integer &&
    (match === 'integer' || match === 'integers' || (match === undefined && c.value.range !== undefined));
  if (!servedByKeyword && !servedByInteger) return undefined;
  let selected = 0;
  const alone: Filter = { must: [condition], should: [], mustNot: [] } as unknown as Filter;
  for (const point of collection.points.values()) if (matchesFilter(point, alone)) selected += 1;
  return selected;
}
