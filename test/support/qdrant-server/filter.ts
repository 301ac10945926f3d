import type { ScrollPoints } from '@qdrant/js-client-grpc';
import { qdrantErrors } from './errors.js';
import { type Json, pointKey, valuesAt } from './values.js';

export type Filter = NonNullable<ScrollPoints['filter']>;
type Condition = Filter['must'][number];
type FieldCondition = Extract<Condition['conditionOneOf'], { case: 'field' }>['value'];
type Timestamp = NonNullable<NonNullable<FieldCondition['datetimeRange']>['lt']>;

/** What a filter sees of a point: its key, its payload as JSON, and the names of its vectors. */
export interface FilterTarget {
  key: string;
  json: { [key: string]: Json };
  vectors?: ReadonlyMap<string, unknown>;
}

/**
 * Qdrant's filter semantics: `must` all, `should` at least one, `must_not` none, `min_should`
 * at least `min_count`. A field condition on an array matches when any element matches.
 */
export function matchesFilter(target: FilterTarget, filter: Filter | undefined): boolean {
  if (!filter) return true;
  if (!filter.must.every((c) => matchesCondition(target, c))) return false;
  if (filter.should.length > 0 && !filter.should.some((c) => matchesCondition(target, c))) return false;
  if (filter.mustNot.some((c) => matchesCondition(target, c))) return false;
  const minShould = filter.minShould;
  if (minShould) {
    const hits = minShould.conditions.filter((c) => matchesCondition(target, c)).length;
    if (BigInt(hits) < minShould.minCount) return false;
  }
  return true;
}

function matchesCondition(target: FilterTarget, condition: Condition): boolean {
  const c = condition.conditionOneOf;
  switch (c.case) {
    case 'field':
      return matchesField(valuesAt(target.json, c.value.key), c.value);
    case 'isEmpty':
      return isEmpty(valuesAt(target.json, c.value.key));
    case 'isNull':
      return valuesAt(target.json, c.value.key).some((v) => v === null);
    case 'hasId': {
      const keys = new Set(c.value.hasId.map(pointKey));
      return keys.has(target.key);
    }
    case 'filter':
      return matchesFilter(target, c.value);
    case 'nested': {
      const { key, filter } = c.value;
      return valuesAt(target.json, key).some(
        (item) =>
          item !== null &&
          typeof item === 'object' &&
          !Array.isArray(item) &&
          matchesFilter({ key: target.key, json: item }, filter),
      );
    }
    case 'hasVector':
      return target.vectors?.has(c.value.hasVector) ?? false;
    default:
      throw qdrantErrors.unsupported(`Condition \`${c.case ?? 'empty'}\``);
  }
}

function isEmpty(values: Json[]): boolean {
  return values.every((v) => v === null);
}

function matchesField(values: Json[], condition: FieldCondition): boolean {
  const checks: boolean[] = [];
  if (condition.match) checks.push(matchesMatch(values, condition.match));
  if (condition.range) {
    const { lt, lte, gt, gte } = condition.range;
    checks.push(
      values.some(
        (v) =>
          typeof v === 'number' &&
          (lt === undefined || v < lt) &&
          (lte === undefined || v <= lte) &&
          (gt === undefined || v > gt) &&
          (gte === undefined || v >= gte),
      ),
    );
  }
  if (condition.datetimeRange) {
    const { lt, lte, gt, gte } = condition.datetimeRange;
    const ms = (t: Timestamp | undefined) =>
      t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : undefined;
    const [ltMs, lteMs, gtMs, gteMs] = [ms(lt), ms(lte), ms(gt), ms(gte)];
    checks.push(
      values.some((v) => {
        if (typeof v !== 'string') return false;
        const t = Date.parse(v);
        return (
          !Number.isNaN(t) &&
          (ltMs === undefined || t < ltMs) &&
          (lteMs === undefined || t <= lteMs) &&
          (gtMs === undefined || t > gtMs) &&
          (gteMs === undefined || t >= gteMs)
        );
      }),
    );
  }
  if (condition.isEmpty !== undefined) checks.push(isEmpty(values) === condition.isEmpty);
  if (condition.isNull !== undefined) checks.push(values.some((v) => v === null) === condition.isNull);
  if (condition.geoBoundingBox || condition.geoRadius || condition.geoPolygon || condition.valuesCount) {
    throw qdrantErrors.unsupported(`Geo and values_count conditions (key \`${condition.key}\`)`);
  }
  if (checks.length === 0) {
    throw qdrantErrors.badInput(
      `At least one field condition must be specified for key \`${condition.key}\``,
    );
  }
  return checks.every(Boolean);
}

function matchesMatch(values: Json[], match: NonNullable<FieldCondition['match']>): boolean {
  const m = match.matchValue;
  switch (m.case) {
    case 'keyword':
      return values.some((v) => v === m.value);
    case 'integer':
      return values.some((v) => typeof v === 'number' && Number.isInteger(v) && BigInt(v) === m.value);
    case 'boolean':
      return values.some((v) => v === m.value);
    case 'text':
    case 'phrase':
      return values.some((v) => typeof v === 'string' && v.toLowerCase().includes(m.value.toLowerCase()));
    case 'textAny': {
      const words = m.value.toLowerCase().split(/\s+/).filter(Boolean);
      return values.some((v) => typeof v === 'string' && words.some((w) => v.toLowerCase().includes(w)));
    }
    case 'prefix':
      return values.some((v) => typeof v === 'string' && v.startsWith(m.value));
    case 'keywords':
      return values.some((v) => typeof v === 'string' && m.value.strings.includes(v));
    case 'integers': {
      const set = new Set(m.value.integers);
      return values.some((v) => typeof v === 'number' && Number.isInteger(v) && set.has(BigInt(v)));
    }
    // `except` also matches a point without the field, as Qdrant checks it against null.
    case 'exceptKeywords':
      return values.length === 0 || values.some((v) => typeof v !== 'string' || !m.value.strings.includes(v));
    case 'exceptIntegers': {
      const set = new Set(m.value.integers);
      return (
        values.length === 0 ||
        values.some((v) => typeof v !== 'number' || !Number.isInteger(v) || !set.has(BigInt(v)))
      );
    }
    default:
      throw qdrantErrors.badInput('Match condition must have a value');
  }
}
