import { create } from '@bufbuild/protobuf';
import {
  type ListValue,
  ListValueSchema,
  type PointId,
  PointIdSchema,
  type Struct,
  StructSchema,
  type Value,
  ValueSchema,
  type WithPayloadSelector,
} from '@qdrant/js-client-grpc';
import { qdrantErrors } from './errors.js';

export type Payload = Record<string, Value>;
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const uuidHex = /^[0-9a-f]{32}$/;

/** Qdrant parses ids with the `uuid` crate: hyphenated, simple, braced and `urn:uuid:` forms. */
export function canonicalUuid(raw: string): string {
  let text = raw.trim().toLowerCase();
  if (text.startsWith('urn:uuid:')) text = text.slice('urn:uuid:'.length);
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1);
  const hyphenated = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(text);
  const hex = hyphenated ? text.replaceAll('-', '') : text;
  if (!uuidHex.test(hex)) throw qdrantErrors.badInput(`Unable to parse UUID: ${raw}`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A stable map key for a point id: `n:<uint64>` or `u:<canonical uuid>`. */
export function pointKey(id: PointId | undefined): string {
  const options = id?.pointIdOptions;
  if (options?.case === 'num') return `n:${options.value}`;
  if (options?.case === 'uuid') return `u:${canonicalUuid(options.value)}`;
  throw qdrantErrors.badInput('Empty PointId');
}

export function pointIdFromKey(key: string): PointId {
  return key.startsWith('n:')
    ? create(PointIdSchema, { pointIdOptions: { case: 'num', value: BigInt(key.slice(2)) } })
    : create(PointIdSchema, { pointIdOptions: { case: 'uuid', value: key.slice(2) } });
}

/** Qdrant's id order: every numeric id before every UUID, numbers ascending, UUIDs as 128-bit numbers. */
export function compareKeys(a: string, b: string): number {
  const aNum = a.startsWith('n:');
  const bNum = b.startsWith('n:');
  if (aNum !== bNum) return aNum ? -1 : 1;
  if (aNum) {
    const x = BigInt(a.slice(2));
    const y = BigInt(b.slice(2));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  // Canonical UUIDs are fixed-width lower-case hex, so string order is numeric order.
  return a < b ? -1 : a > b ? 1 : 0;
}

export function toJson(value: Value): Json {
  const kind = value.kind;
  switch (kind.case) {
    case 'doubleValue':
      return kind.value;
    case 'integerValue':
      return Number(kind.value);
    case 'stringValue':
    case 'boolValue':
      return kind.value;
    case 'structValue':
      return payloadToJson(kind.value.fields);
    case 'listValue':
      return kind.value.values.map(toJson);
    default:
      return null;
  }
}

export function payloadToJson(payload: Payload): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(payload)) out[key] = toJson(value);
  return out;
}

/** Read a payload path (`a.b`, `a[].b`, `a[0]`) the way Qdrant's `JsonPath` does, flattening arrays. */
export function valuesAt(json: Json, path: string): Json[] {
  const segments = path.split('.').flatMap((part) => {
    const match = /^([^[\]]*)((?:\[\d*\])*)$/.exec(part);
    if (!match) return [part];
    const indexes = [...(match[2] ?? '').matchAll(/\[(\d*)\]/g)].map((m) => `[${m[1] ?? ''}]`);
    return [match[1] ?? '', ...indexes].filter((s) => s !== '');
  });
  let current: Json[] = [json];
  for (const segment of segments) {
    const next: Json[] = [];
    for (const node of current) {
      if (segment === '[]') {
        if (Array.isArray(node)) next.push(...node);
      } else if (segment.startsWith('[')) {
        if (Array.isArray(node)) {
          const item = node[Number(segment.slice(1, -1))];
          if (item !== undefined) next.push(item);
        }
      } else {
        const items = Array.isArray(node) ? node : [node];
        for (const item of items) {
          if (item !== null && typeof item === 'object' && !Array.isArray(item) && segment in item) {
            const child = item[segment];
            if (child !== undefined) next.push(child);
          }
        }
      }
    }
    current = next;
  }
  return current.flatMap((value) => (Array.isArray(value) ? value : [value]));
}

/**
 * Apply a `with_payload` selector. Absent means `fallback`: Qdrant's gRPC defaults are true for
 * Scroll and false for Get and Query (REST defaults Get to true).
 */
export function selectPayload(
  payload: Payload,
  selector: WithPayloadSelector | undefined,
  fallback: boolean,
): Payload {
  const options = selector?.selectorOptions;
  if (!options || options.case === undefined) return fallback ? payload : {};
  if (options.case === 'enable') return options.value ? payload : {};
  if (options.case === 'include') {
    const out: Payload = {};
    for (const field of options.value.fields) copyPath(payload, out, field.split('.'));
    return out;
  }
  const out: Payload = { ...payload };
  for (const field of options.value.fields) removePath(out, field.split('.'));
  return out;
}

function copyPath(from: Payload, to: Payload, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const value = from[head];
  if (!value) return;
  if (rest.length === 0) {
    to[head] = value;
    return;
  }
  if (value.kind.case !== 'structValue') return;
  const existing = to[head]?.kind.case === 'structValue' ? (to[head].kind.value as Struct).fields : {};
  const child: Payload = { ...existing };
  copyPath(value.kind.value.fields, child, rest);
  if (Object.keys(child).length > 0) to[head] = structValue(child);
}

export function removePath(target: Payload, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !(head in target)) return;
  if (rest.length === 0) {
    delete target[head];
    return;
  }
  const value = target[head];
  if (value?.kind.case !== 'structValue') return;
  const child: Payload = { ...value.kind.value.fields };
  removePath(child, rest);
  target[head] = structValue(child);
}

export function structValue(fields: Payload): Value {
  return create(ValueSchema, { kind: { case: 'structValue', value: create(StructSchema, { fields }) } });
}

/** Build a `Value` from plain JSON; integers become `integer_value` as Qdrant returns them. */
export function fromJson(json: Json): Value {
  if (json === null) return create(ValueSchema, { kind: { case: 'nullValue', value: 0 } });
  if (typeof json === 'boolean') return create(ValueSchema, { kind: { case: 'boolValue', value: json } });
  if (typeof json === 'number') {
    return Number.isInteger(json)
      ? create(ValueSchema, { kind: { case: 'integerValue', value: BigInt(json) } })
      : create(ValueSchema, { kind: { case: 'doubleValue', value: json } });
  }
  if (typeof json === 'string') return create(ValueSchema, { kind: { case: 'stringValue', value: json } });
  if (Array.isArray(json)) {
    const list: ListValue = create(ListValueSchema, { values: json.map(fromJson) });
    return create(ValueSchema, { kind: { case: 'listValue', value: list } });
  }
  const fields: Payload = {};
  for (const [key, value] of Object.entries(json)) fields[key] = fromJson(value);
  return structValue(fields);
}
