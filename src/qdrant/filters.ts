import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  type Condition,
  ConditionSchema,
  DatetimeRangeSchema,
  type FieldCondition,
  FieldConditionSchema,
  type Filter,
  FilterSchema,
  type Match,
  MatchSchema,
  RangeSchema,
  RepeatedIntegersSchema,
  RepeatedStringsSchema,
} from '@qdrant/js-client-grpc';
import { UsageError } from '../errors.js';

/**
 * `--filter` expressions turned into a Qdrant `Filter`. Several expressions are ANDed (`must`).
 *
 * | expression | meaning | Qdrant |
 * | --- | --- | --- |
 * | `source=github` | equals (for arrays: contains) | `match.keyword` (`integer` / `boolean` on integer / bool indexes) |
 * | `source=github,gitlab` | any of | `match.keywords` / `match.integers` |
 * | `source!=web`, `source!=a,b` | none of; points without the field are kept | `must_not` of the match |
 * | `created_at>=2024-01-01` (also `>`, `<`, `<=`) | range | `range` (`datetime_range` on datetime indexes) |
 * | `title~"health check"` | full-text match (any of, with a list) | `match.text` |
 *
 * Values may be double-quoted to hold `,`, `=`, `"` (as `\"`) or surrounding spaces.
 *
 * Typing follows the field's payload index: an integer index makes values integers and a bool index
 * `true`/`false` (anything else is a usage error); a float index turns `=` into a one-point range.
 * On an unindexed field an integer-looking (or `true`/`false`) value matches both the number (bool)
 * and the string, since the payload could hold either.
 *
 * `!=` is a `must_not` rather than `match.except`: Qdrant evaluates `except` as false on a point
 * that lacks the field (so `source!=web` would drop it) and, on an array, passes if any element
 * differs (so `tags!=python` would keep `[python, go]`). `must_not` excludes exactly the points
 * that have the value.
 *
 * Ranges: numbers stay numbers. Dates and ISO datetimes become Unix seconds, UTC unless the datetime
 * names its offset (the payload's `created_at` is Unix seconds). A bare date is its whole UTC day:
 * `<=2024-01-31` and `>2024-01-31` compare with the end of that day, `>=` and `<` with its start.
 * On a field with a `datetime` index, ranges are datetime ranges (numbers read as Unix seconds).
 */
/** A payload index as the collection config or `CollectionSpec` describes it. */
export type PayloadIndexSetting = string | { readonly type: string };

export interface ParseFiltersOptions {
  /** The collection's payload indexes by field, to type values and warn about unindexed fields. */
  payloadIndexes: Readonly<Record<string, PayloadIndexSetting>>;
}

export interface ParsedFilters {
  /** `undefined` when there are no expressions. */
  filter: Filter | undefined;
  /** One line per field whose filter Qdrant cannot serve from an index. */
  warnings: string[];
}

type Operator = '=' | '!=' | '>' | '>=' | '<' | '<=' | '~';
type RangeOperator = '>' | '>=' | '<' | '<=';

interface Expression {
  source: string;
  field: string;
  operator: Operator;
  values: string[];
}

const syntax = 'expected field=value, field!=value, field>=value, field<value, field~text';
const operatorChars = '=!<>~';

/** Parses `--filter` expressions; throws `UsageError` naming the first malformed one. */
export function parseFilters(expressions: readonly string[], options: ParseFiltersOptions): ParsedFilters {
  const must: Condition[] = [];
  const mustNot: Condition[] = [];
  const warnings = new Set<string>();
  for (const source of expressions) {
    const expression = parseExpression(source);
    const index = indexType(options.payloadIndexes[expression.field]);
    const warning = indexWarning(expression, index);
    if (warning) warnings.add(warning);
    switch (expression.operator) {
      case '=':
        must.push(equalsCondition(expression, index));
        break;
      case '!=':
        mustNot.push(equalsCondition(expression, index));
        break;
      case '~':
        must.push(
          anyOf(
            expression.values.map((text) => matchCondition(expression.field, { case: 'text', value: text })),
          ),
        );
        break;
      default:
        must.push(rangeCondition(expression, expression.operator, index));
    }
  }
  const filter = must.length + mustNot.length === 0 ? undefined : create(FilterSchema, { must, mustNot });
  return { filter, warnings: [...warnings] };
}

/** Splits `field<op>values`; values are comma-separated, each bare or double-quoted. */
function parseExpression(source: string): Expression {
  let at = 0;
  while (at < source.length && !operatorChars.includes(source[at]!)) at++;
  if (at === source.length) throw invalid(source, syntax);
  const next = source[at + 1];
  let operator: Operator;
  const char = source[at];
  if (char === '!') {
    if (next !== '=') throw invalid(source, syntax);
    operator = '!=';
  } else if ((char === '<' || char === '>') && next === '=') {
    operator = `${char}=`;
  } else {
    operator = char as Operator;
  }
  const field = source.slice(0, at).trim();
  if (field === '') throw invalid(source, 'empty field name');
  if (/[\s"]/.test(field)) throw invalid(source, 'a field name cannot contain spaces or quotes');
  const rest = source.slice(at + operator.length).trimStart();
  if (rest !== '' && operatorChars.includes(rest[0]!)) throw invalid(source, syntax);
  const values = splitValues(rest, source);
  if (operator !== '=' && operator !== '!=' && operator !== '~' && values.length > 1)
    throw invalid(source, `a range takes one value, got ${values.length}`);
  return { source, field, operator, values };
}

function splitValues(text: string, source: string): string[] {
  const values: string[] = [];
  let i = 0;
  for (;;) {
    while (text[i] === ' ') i++;
    let value = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw invalid(source, 'unterminated quote');
        const char = text[i]!;
        if (char === '"') break;
        if (char === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      i++;
      while (text[i] === ' ') i++;
      if (i < text.length && text[i] !== ',') throw invalid(source, 'unexpected text after a quoted value');
    } else {
      const comma = text.indexOf(',', i);
      const end = comma === -1 ? text.length : comma;
      value = text.slice(i, end).trim();
      if (value.includes('"')) throw invalid(source, 'a quoted value must be quoted as a whole');
      i = end;
    }
    if (value === '') throw invalid(source, 'empty value');
    values.push(value);
    if (i >= text.length) return values;
    i++;
  }
}

function equalsCondition(expression: Expression, index: string | undefined): Condition {
  const { field, values } = expression;
  switch (index) {
    case 'integer':
      return matchCondition(field, integersMatch(values.map((value) => integerOf(expression, value))));
    case 'bool':
      return anyOf(
        unique(values.map((value) => boolOf(expression, value))).map((flag) =>
          matchCondition(field, { case: 'boolean', value: flag }),
        ),
      );
    case 'float':
      return anyOf(
        values.map((value) => {
          const number = numberOf(value);
          if (number === undefined)
            throw invalid(
              expression.source,
              `\`${field}\` has a float index: expected a number, got \`${value}\``,
            );
          return fieldCondition(field, { range: create(RangeSchema, { gte: number, lte: number }) });
        }),
      );
    case undefined: {
      // Unindexed: the payload may hold the number (bool) or its string form.
      const keywords = matchCondition(field, keywordsMatch(values));
      const integers = values.map(integerLike);
      if (integers.every((value) => value !== undefined))
        return anyOf([matchCondition(field, integersMatch(integers as bigint[])), keywords]);
      const flags = values.map(boolLike);
      if (flags.every((value) => value !== undefined))
        return anyOf([
          ...unique(flags as boolean[]).map((flag) =>
            matchCondition(field, { case: 'boolean', value: flag }),
          ),
          keywords,
        ]);
      return keywords;
    }
    default:
      return matchCondition(field, keywordsMatch(values));
  }
}

function rangeCondition(
  expression: Expression,
  operator: RangeOperator,
  index: string | undefined,
): Condition {
  const value = expression.values[0]!;
  const number = numberOf(value);
  const instant = number === undefined ? instantOf(value) : undefined;
  if (number === undefined && instant === undefined)
    throw invalid(
      expression.source,
      `a range needs a number or a date (2024-01-01, 2024-01-01T12:00:00Z), got \`${value}\``,
    );
  let bound: { key: 'gt' | 'gte' | 'lt' | 'lte'; seconds: number };
  if (instant === undefined) {
    bound = { key: rangeKeys[operator], seconds: number! };
  } else if (instant.wholeDay && (operator === '<=' || operator === '>')) {
    // The whole day: up to and including it ends at the next midnight.
    bound = { key: operator === '<=' ? 'lt' : 'gte', seconds: instant.seconds + 86_400 };
  } else {
    bound = { key: rangeKeys[operator], seconds: instant.seconds };
  }
  if (index === 'datetime') {
    const timestamp = timestampFromMs(bound.seconds * 1000);
    return fieldCondition(expression.field, {
      datetimeRange: create(DatetimeRangeSchema, { [bound.key]: timestamp }),
    });
  }
  return fieldCondition(expression.field, { range: create(RangeSchema, { [bound.key]: bound.seconds }) });
}

const rangeKeys = { '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte' } as const;

function indexWarning(expression: Expression, index: string | undefined): string | undefined {
  const { field, operator } = expression;
  if (operator === '~' && index !== 'text')
    return `--filter on \`${field}\`: full-text match (~) needs a text index on this field; without one Qdrant compares exact substrings and scans every point (add \`${field}: text\` to collection.payloadIndexes)`;
  if (index === undefined)
    return `--filter on \`${field}\`: no payload index on this field, so Qdrant scans every point (add it to collection.payloadIndexes)`;
  const equality = operator === '=' || operator === '!=';
  if (equality && index === 'text')
    return `--filter on \`${field}\`: an exact match cannot use its text index, so Qdrant scans every point (use ~ for full-text match, or index the field as keyword)`;
  if (!equality && operator !== '~' && !['integer', 'float', 'datetime'].includes(index))
    return `--filter on \`${field}\`: a range cannot use its ${index} index, so Qdrant scans every point and compares only numeric values`;
  return undefined;
}

function matchCondition(field: string, matchValue: Match['matchValue']): Condition {
  return fieldCondition(field, { match: create(MatchSchema, { matchValue }) });
}

function fieldCondition(
  key: string,
  init: Partial<Pick<FieldCondition, 'match' | 'range' | 'datetimeRange'>>,
): Condition {
  return create(ConditionSchema, {
    conditionOneOf: { case: 'field', value: create(FieldConditionSchema, { key, ...init }) },
  });
}

/** One condition as is; several as a nested `should` (any of them). */
function anyOf(conditions: Condition[]): Condition {
  if (conditions.length === 1) return conditions[0]!;
  return create(ConditionSchema, {
    conditionOneOf: { case: 'filter', value: create(FilterSchema, { should: conditions }) },
  });
}

function keywordsMatch(values: readonly string[]): Match['matchValue'] {
  const distinct = unique(values);
  return distinct.length === 1
    ? { case: 'keyword', value: distinct[0]! }
    : { case: 'keywords', value: create(RepeatedStringsSchema, { strings: distinct }) };
}

function integersMatch(values: readonly bigint[]): Match['matchValue'] {
  const distinct = unique(values);
  return distinct.length === 1
    ? { case: 'integer', value: distinct[0]! }
    : { case: 'integers', value: create(RepeatedIntegersSchema, { integers: distinct }) };
}

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

function integerLike(value: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(value)) return undefined;
  const integer = BigInt(value);
  return integer < int64Min || integer > int64Max ? undefined : integer;
}

function integerOf(expression: Expression, value: string): bigint {
  const integer = integerLike(value);
  if (integer === undefined)
    throw invalid(
      expression.source,
      `\`${expression.field}\` has an integer index: expected an integer, got \`${value}\``,
    );
  return integer;
}

function boolLike(value: string): boolean | undefined {
  return value === 'true' ? true : value === 'false' ? false : undefined;
}

function boolOf(expression: Expression, value: string): boolean {
  const flag = boolLike(value);
  if (flag === undefined)
    throw invalid(
      expression.source,
      `\`${expression.field}\` has a bool index: expected true or false, got \`${value}\``,
    );
  return flag;
}

function numberOf(value: string): number | undefined {
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(value)) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

const datePattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Unix seconds of a date or ISO datetime (UTC unless it names an offset); rejects impossible dates. */
function instantOf(value: string): { seconds: number; wholeDay: boolean } | undefined {
  const parts = datePattern.exec(value);
  if (!parts) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = parts
    .slice(1, 7)
    .map((part) => Number(part ?? 0));
  const ms = Date.UTC(year!, month! - 1, day!, hour, minute, second);
  const check = new Date(ms);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month! - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  )
    return undefined;
  const fraction = parts[7] ? Number(parts[7]) : 0;
  const offset = parts[8];
  let offsetMinutes = 0;
  if (offset && offset.toUpperCase() !== 'Z') {
    const digits = offset.replace(':', '');
    const sign = digits[0] === '-' ? -1 : 1;
    offsetMinutes = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
  }
  return {
    seconds: ms / 1000 + fraction - offsetMinutes * 60,
    wholeDay: parts[4] === undefined,
  };
}

function indexType(setting: PayloadIndexSetting | undefined): string | undefined {
  return typeof setting === 'string' ? setting : setting?.type;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function invalid(source: string, reason: string): UsageError {
  return new UsageError(`invalid --filter \`${source}\`: ${reason}`, {
    hint: 'Run `taboot search --help` for the filter syntax.',
  });
}
