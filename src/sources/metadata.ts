/** Fields read as dates and stored as Unix seconds. */
export const dateFields = ['created_at', 'date'] as const;

/** Numbers at or above this are taken as milliseconds (1e11 seconds is the year 5138). */
const MILLISECONDS_FROM = 1e11;

const isoDate =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

function parseIsoDate(text: string): number | undefined {
  const match = isoDate.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone] = match;
  const millis = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
    fraction ? Math.floor(Number(fraction) * 1000) : 0,
  );
  // Date.UTC rolls 2021-02-30 over into March: reject such dates rather than guess.
  const check = new Date(millis);
  if (check.getUTCMonth() !== Number(month) - 1 || check.getUTCDate() !== Number(day)) return undefined;
  let offsetMinutes = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
  }
  return millis - offsetMinutes * 60_000;
}

/**
 * Unix seconds (an integer, rounded down) from a YAML/JSON date: a `Date`, an ISO 8601 string
 * (`2017-11-29`, `2017-11-29 10:00:00`, `2017-11-29T10:00:00+02:00`; no zone means UTC), another
 * string `Date.parse` reads (RFC 2822), or a number of seconds (milliseconds when >= 1e11).
 * `undefined` when the value is not a date.
 */
export function toUnixSeconds(value: unknown): number | undefined {
  let millis: number | undefined;
  if (value instanceof Date) millis = value.getTime();
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    return Math.floor(Math.abs(value) >= MILLISECONDS_FROM ? value / 1000 : value);
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(text)) return toUnixSeconds(Number(text));
    millis = parseIsoDate(text);
    if (millis === undefined && /[a-z]/i.test(text)) millis = Date.parse(text);
  }
  if (millis === undefined || !Number.isFinite(millis)) return undefined;
  return Math.floor(millis / 1000);
}

/**
 * Deepest nesting of objects and arrays kept in a field. Qdrant decodes gRPC with prost's limit of
 * 100 nested messages and spends up to three on each JSON level (Value, Struct, map entry), so a
 * deeper payload is refused there; far deeper, serialising it here would overflow the stack.
 */
export const maxFieldDepth = 20;

/** Whether `value` nests objects or arrays more than `limit` deep; looks no further than that. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object' || value instanceof Date) return false;
  if (limit === 0) return true;
  for (const inner of Object.values(value)) if (nestsDeeperThan(inner, limit - 1)) return true;
  return false;
}

/** A field that could not be used, reported as a warning. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/**
 * Readies front matter or JSONL fields for the payload: `created_at`/`date` become Unix seconds
 * (an unreadable one is dropped and reported), a field nested deeper than {@link maxFieldDepth}
 * is dropped and reported, `created_at` is filled from `date` when missing, and
 * any other `Date` becomes an ISO string so the metadata is plain JSON. The input is not changed.
 */
export function normaliseMetadata(fields: Record<string, unknown>): {
  metadata: Record<string, unknown>;
  problems: FieldProblem[];
} {
  const metadata: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (nestsDeeperThan(value, maxFieldDepth)) {
      problems.push({
        field: key,
        reason: `${key}: nests deeper than ${maxFieldDepth} levels; field dropped`,
      });
      continue;
    }
    if ((dateFields as readonly string[]).includes(key) && value !== null) {
      const seconds = toUnixSeconds(value);
      if (seconds === undefined) {
        problems.push({
          field: key,
          reason: `${key}: cannot read ${preview(value)} as a date; field dropped`,
        });
      } else {
        metadata[key] = seconds;
      }
    } else {
      metadata[key] = value instanceof Date ? toIsoString(value) : value;
    }
  }
  if (metadata.created_at === undefined && typeof metadata.date === 'number')
    metadata.created_at = metadata.date;
  return { metadata, problems };
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function toIsoString(date: Date): string | null {
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * A document id from a front matter or JSONL field: a non-blank string, as is, or an integer that
 * JSON and YAML numbers hold exactly (below 2^53), as its digits. `undefined` when the field is
 * absent or `null`; else why the value cannot name a document (a fraction or a huge number would
 * be rounded, so two ids could meet on one document).
 */
export function readDocId(value: unknown): { id: string } | { reason: string } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.trim() !== '') return { id: value };
  if (typeof value === 'number' && Number.isSafeInteger(value)) return { id: String(value) };
  if (typeof value === 'number' && Number.isInteger(value)) {
    return {
      reason: 'is an integer over 2^53, which JSON numbers cannot hold exactly; write it as a string',
    };
  }
  return { reason: `must be a non-blank string or an integer, got ${describeValue(value)}` };
}

/** A value as an error message names it: `null`, `an array`, `the string "x"`, `number 1.5`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 40
      ? `a string (${JSON.stringify(value.slice(0, 37))}...)`
      : `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
