import type { Value } from '@qdrant/js-client-grpc';
import { type Payload, removePath, structValue } from './values.js';

/** Qdrant's `merge_map`: each top-level key of `patch` replaces the stored one; a null value removes it. */
export function mergePayload(stored: Payload, patch: Payload): Payload {
  const out: Payload = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    if (isNull(value)) delete out[key];
    else out[key] = value;
  }
  return out;
}

/**
 * `SetPayload` with `key`: merge `patch` into the object at that dot path, creating it (and the
 * objects above it) where missing and replacing a value there that is not an object.
 */
export function mergePayloadAt(stored: Payload, path: string, patch: Payload): Payload {
  const [head, ...rest] = path.split('.');
  if (head === undefined) return mergePayload(stored, patch);
  const current = stored[head];
  const inner = current?.kind.case === 'structValue' ? current.kind.value.fields : {};
  const merged =
    rest.length === 0 ? mergePayload(inner, patch) : mergePayloadAt(inner, rest.join('.'), patch);
  return { ...stored, [head]: structValue(merged) };
}

/** `OverwritePayload` with `key`: the object at that path becomes `patch`. */
export function replacePayloadAt(stored: Payload, path: string, patch: Payload): Payload {
  const [head, ...rest] = path.split('.');
  if (head === undefined) return { ...patch };
  if (rest.length === 0) return { ...stored, [head]: structValue(patch) };
  const current = stored[head];
  const inner = current?.kind.case === 'structValue' ? current.kind.value.fields : {};
  return { ...stored, [head]: structValue(replacePayloadAt(inner, rest.join('.'), patch)) };
}

/** `DeletePayload`: remove each key (dot paths reach into objects). */
export function deletePayloadKeys(stored: Payload, keys: readonly string[]): Payload {
  const out: Payload = { ...stored };
  for (const key of keys) removePath(out, key.split('.'));
  return out;
}

function isNull(value: Value): boolean {
  return value.kind.case === 'nullValue' || value.kind.case === undefined;
}
