import { create } from '@bufbuild/protobuf';
import { type Value, ValueSchema } from '@qdrant/js-client-grpc';

/**
 * Qdrant's protobuf payload (`map<string, Value>`) as plain JSON values. Integers come back as
 * bigint; those beyond 2^53 stay exact as strings rather than silently rounding.
 */
export function payloadToJson(payload: { [key: string]: Value }): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) result[key] = valueToJson(value);
  return result;
}

export function valueToJson(value: Value): unknown {
  const kind = value.kind;
  switch (kind.case) {
    case 'integerValue':
      return Number.isSafeInteger(Number(kind.value)) ? Number(kind.value) : kind.value.toString();
    case 'structValue':
      return payloadToJson(kind.value.fields);
    case 'listValue':
      return kind.value.values.map(valueToJson);
    case 'nullValue':
    case undefined:
      return null;
    default:
      return kind.value;
  }
}

/** A JSON value as Qdrant's protobuf `Value` (integers as `integer_value`, other numbers as doubles). */
export function jsonToValue(value: unknown): Value {
  if (value === null || value === undefined)
    return create(ValueSchema, { kind: { case: 'nullValue', value: 0 } });
  switch (typeof value) {
    case 'string':
      return create(ValueSchema, { kind: { case: 'stringValue', value } });
    case 'boolean':
      return create(ValueSchema, { kind: { case: 'boolValue', value } });
    case 'number':
      return Number.isSafeInteger(value)
        ? create(ValueSchema, { kind: { case: 'integerValue', value: BigInt(value) } })
        : create(ValueSchema, { kind: { case: 'doubleValue', value } });
    case 'bigint':
      return create(ValueSchema, { kind: { case: 'integerValue', value } });
    default:
      break;
  }
  if (Array.isArray(value)) {
    return create(ValueSchema, { kind: { case: 'listValue', value: { values: value.map(jsonToValue) } } });
  }
  const fields: Record<string, Value> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>))
    fields[key] = jsonToValue(inner);
  return create(ValueSchema, { kind: { case: 'structValue', value: { fields } } });
}
