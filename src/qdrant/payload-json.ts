import type { Value } from '@qdrant/js-client-grpc';

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
