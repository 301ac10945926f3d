import {
  delimitedSize,
  ExactWriter,
  reserveSize,
  resetSizes,
  setSize,
  sizeString,
  splitNegativeInt64,
  splitUint64,
  uintSize,
  varint64Size,
} from './protobuf-writer.js';

/**
 * A JSON-like payload value. Integers (`Number.isSafeInteger`) travel as `integer_value`, every other
 * number (fractions, `-0`, NaN, ±Infinity, integers beyond 2^53) as `double_value`.
 */
export type PayloadValue =
  | null
  | string
  | number
  | boolean
  | readonly PayloadValue[]
  | { readonly [key: string]: PayloadValue };

export interface EncodablePoint {
  /** A UUID string, or a uint64 as a non-negative safe integer or a bigint below 2^64. */
  readonly id: string | number | bigint;
  /** Written as the unnamed dense vector. */
  readonly vector: Float32Array;
  /** Properties that are `undefined` are left out, as `JSON.stringify` does. */
  readonly payload: Readonly<Record<string, PayloadValue | undefined>>;
  /**
   * The whole `PointStruct` as `encodePoint` wrote it from this id, vector and payload (on another
   * thread, say). When present it is copied as it is and the other fields are not read again.
   */
  readonly encoded?: Uint8Array;
}

export type WriteOrderingName = 'weak' | 'medium' | 'strong';

export interface EncodableUpsert {
  readonly collectionName: string;
  readonly wait: boolean;
  readonly points: readonly EncodablePoint[];
  readonly ordering?: WriteOrderingName;
}

const orderingType: Record<WriteOrderingName, number> = { weak: 0, medium: 1, strong: 2 };

// Tags (field number << 3 | wire type) of the fields written, from the qdrant.* descriptors.
const UPSERT_COLLECTION_NAME = 0x0a; // UpsertPoints.collection_name = 1, string
const UPSERT_WAIT = 0x10; // UpsertPoints.wait = 2, bool
const UPSERT_POINTS = 0x1a; // UpsertPoints.points = 3, PointStruct
const UPSERT_ORDERING = 0x22; // UpsertPoints.ordering = 4, WriteOrdering
const ORDERING_TYPE = 0x08; // WriteOrdering.type = 1, enum
const POINT_ID = 0x0a; // PointStruct.id = 1, PointId
const POINT_PAYLOAD = 0x1a; // PointStruct.payload = 3, map<string, Value>
const POINT_VECTORS = 0x22; // PointStruct.vectors = 4, Vectors
const ID_NUM = 0x08; // PointId.num = 1, uint64
const ID_UUID = 0x12; // PointId.uuid = 2, string
const VECTORS_VECTOR = 0x0a; // Vectors.vector = 1, Vector
const VECTOR_DENSE = [0xaa, 0x06] as const; // Vector.dense = 101, DenseVector (two-byte tag)
const DENSE_DATA = 0x0a; // DenseVector.data = 1, packed float
const STRUCT_FIELDS = 0x0a; // Struct.fields = 1, map<string, Value>
const ENTRY_KEY = 0x0a; // map entry key = 1
const ENTRY_VALUE = 0x12; // map entry value = 2
const LIST_VALUES = 0x0a; // ListValue.values = 1, Value
const VALUE_NULL = 0x08; // Value.null_value = 1
const VALUE_DOUBLE = 0x11; // Value.double_value = 2, fixed64
const VALUE_INTEGER = 0x18; // Value.integer_value = 3, int64 varint
const VALUE_STRING = 0x22; // Value.string_value = 4
const VALUE_BOOL = 0x28; // Value.bool_value = 5
const VALUE_STRUCT = 0x32; // Value.struct_value = 6
const VALUE_LIST = 0x3a; // Value.list_value = 7

/**
 * Serialise a `qdrant.UpsertPoints` message straight from Float32Arrays and payload objects, without
 * building protobuf-es messages. Byte-compatible with `toBinary(UpsertPointsSchema, ...)` (same
 * field order, `wait` always present). Vectors go into `Vector.dense` (field 101, `DenseVector.data`
 * packed): the form Qdrant 1.19 reads without the deprecated `Vector.data`.
 *
 * Returns the message without the 5-byte gRPC frame prefix (GrpcUpsertTransport adds it). With
 * `output`, the message is written at the start of the buffer it returns for the exact size (which
 * must hold at least that many bytes), so callers can recycle buffers; otherwise a new one is allocated.
 */
export function encodeUpsertPoints(
  request: EncodableUpsert,
  output?: (size: number) => Uint8Array,
): Uint8Array {
  const { collectionName, points, ordering } = request;
  resetSizes();
  let total = 2; // wait
  let nameLength = 0;
  if (collectionName !== '') {
    nameLength = sizeString(collectionName);
    total += 1 + delimitedSize(nameLength);
  }
  for (const point of points) total += 1 + delimitedSize(sizePoint(point));
  const type = ordering === undefined ? undefined : orderingType[ordering];
  if (ordering !== undefined && type === undefined) {
    throw new TypeError(`Expected \`ordering\` to be weak, medium or strong, got \`${ordering}\``);
  }
  if (type !== undefined) total += type === 0 ? 2 : 4;
  if (total > 0x7fffffff) throw new RangeError(`UpsertPoints message too large: ${total} bytes`);

  const out = new ExactWriter(total, output?.(total));
  if (collectionName !== '') {
    out.byte(UPSERT_COLLECTION_NAME);
    out.varint(out.nextSize());
    out.string(collectionName, nameLength);
  }
  out.byte(UPSERT_WAIT);
  out.byte(request.wait ? 1 : 0);
  for (const point of points) {
    out.byte(UPSERT_POINTS);
    out.varint(out.nextSize());
    writePoint(out, point);
  }
  if (type !== undefined) {
    out.byte(UPSERT_ORDERING);
    if (type === 0) out.byte(0);
    else {
      out.byte(2);
      out.byte(ORDERING_TYPE);
      out.byte(type);
    }
  }
  if (out.pos !== total) throw new Error(`point encoder wrote ${out.pos} bytes, sized ${total}`);
  return new Uint8Array(out.bytes.buffer, out.bytes.byteOffset, total);
}

/**
 * Exact number of bytes `point` adds to an encoded UpsertPoints (its tag and length prefix
 * included), so a batcher can bound request sizes before encoding. Costs one walk of the payload.
 */
export function estimatePointBytes(point: EncodablePoint): number {
  resetSizes();
  return 1 + delimitedSize(sizePoint(point));
}

/**
 * One `PointStruct` message (what `UpsertPoints.points` holds, without its tag and length), to be
 * carried as `EncodablePoint.encoded` and copied into requests later. The vector is its last field,
 * so its floats are the message's last `4 * vector.length` bytes. `output` works as for
 * `encodeUpsertPoints`.
 */
export function encodePoint(point: EncodablePoint, output?: (size: number) => Uint8Array): Uint8Array {
  resetSizes();
  const size = sizePoint(point);
  const out = new ExactWriter(size, output?.(size));
  out.nextSize();
  writePoint(out, point);
  if (out.pos !== size) throw new Error(`point encoder wrote ${out.pos} bytes, sized ${size}`);
  return new Uint8Array(out.bytes.buffer, out.bytes.byteOffset, size);
}

function checkVector(vector: Float32Array): void {
  if (!(vector instanceof Float32Array)) {
    throw new TypeError(`Expected the point vector to be a Float32Array, got ${describe(vector)}`);
  }
}

function idSize(id: string | number | bigint): number {
  if (typeof id === 'string') return 1 + delimitedSize(sizeString(id));
  const [lo, hi] = splitUint64(checkUint64(id));
  return 1 + varint64Size(lo, hi);
}

function checkUint64(id: number | bigint): number | bigint {
  if (typeof id === 'number' ? Number.isSafeInteger(id) && id >= 0 : id >= 0n && id <= 0xffffffffffffffffn) {
    return id;
  }
  throw new TypeError(`Expected a point id to be a UUID string or an integer in [0, 2^64), got \`${id}\``);
}

function denseSize(dim: number): number {
  return dim === 0 ? 0 : 1 + delimitedSize(dim * 4);
}

function vectorsSize(dim: number): number {
  const vector = 2 + delimitedSize(denseSize(dim));
  return 1 + delimitedSize(vector);
}

/** Size of a PointStruct's content; the caller records it (for encode) or adds its prefix. */
function sizePoint(point: EncodablePoint): number {
  const slot = reserveSize();
  if (point.encoded !== undefined) {
    setSize(slot, point.encoded.byteLength);
    return point.encoded.byteLength;
  }
  checkVector(point.vector);
  const id = idSize(point.id);
  const size =
    1 + delimitedSize(id) + sizeEntries(point.payload) + 1 + delimitedSize(vectorsSize(point.vector.length));
  setSize(slot, size);
  return size;
}

function writePoint(out: ExactWriter, point: EncodablePoint): void {
  if (point.encoded !== undefined) {
    out.bytes.set(point.encoded, out.pos);
    out.pos += point.encoded.byteLength;
    return;
  }
  const { id, vector } = point;
  out.byte(POINT_ID);
  if (typeof id === 'string') {
    const length = out.nextSize();
    out.varint(1 + delimitedSize(length));
    out.byte(ID_UUID);
    out.varint(length);
    out.string(id, length);
  } else {
    const [lo, hi] = splitUint64(id);
    out.varint(1 + varint64Size(lo, hi));
    out.byte(ID_NUM);
    out.varint64(lo, hi);
  }
  writeEntries(out, point.payload, POINT_PAYLOAD);
  const dim = vector.length;
  const dense = denseSize(dim);
  const single = 2 + delimitedSize(dense);
  out.byte(POINT_VECTORS);
  out.varint(1 + delimitedSize(single));
  out.byte(VECTORS_VECTOR);
  out.varint(single);
  out.byte(VECTOR_DENSE[0]);
  out.byte(VECTOR_DENSE[1]);
  out.varint(dense);
  if (dim > 0) {
    out.byte(DENSE_DATA);
    out.varint(dim * 4);
    out.floats(vector);
  }
}

/** Map entries of a payload or Struct: the encoded size of every `tag, len, entry` together. */
function sizeEntries(object: Readonly<Record<string, PayloadValue | undefined>>): number {
  let total = 0;
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value === undefined) continue;
    const entrySlot = reserveSize();
    const keyLength = sizeString(key);
    const valueSlot = reserveSize();
    const valueLength = sizeValue(value);
    setSize(valueSlot, valueLength);
    const entry = 1 + delimitedSize(keyLength) + 1 + delimitedSize(valueLength);
    setSize(entrySlot, entry);
    total += 1 + delimitedSize(entry);
  }
  return total;
}

function writeEntries(
  out: ExactWriter,
  object: Readonly<Record<string, PayloadValue | undefined>>,
  tag: number,
): void {
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value === undefined) continue;
    out.byte(tag);
    out.varint(out.nextSize());
    out.byte(ENTRY_KEY);
    const keyLength = out.nextSize();
    out.varint(keyLength);
    out.string(key, keyLength);
    out.byte(ENTRY_VALUE);
    out.varint(out.nextSize());
    writeValue(out, value);
  }
}

function isInteger(value: number): boolean {
  // -0 is a safe integer to JavaScript but only a double keeps its sign.
  return Number.isSafeInteger(value) && (value !== 0 || 1 / value > 0);
}

/** Size of a Value message's content. */
function sizeValue(value: PayloadValue): number {
  if (value === null) return 2;
  switch (typeof value) {
    case 'string':
      return 1 + delimitedSize(sizeString(value));
    case 'number':
      if (!isInteger(value)) return 9;
      return value >= 0 ? 1 + uintSize(value) : 11;
    case 'boolean':
      return 2;
    case 'object': {
      const slot = reserveSize();
      const size = Array.isArray(value) ? sizeList(value) : sizeEntries(checkPlainObject(value));
      setSize(slot, size);
      return 1 + delimitedSize(size);
    }
    default:
      throw new TypeError(`Expected a JSON payload value, got ${describe(value)}`);
  }
}

function writeValue(out: ExactWriter, value: PayloadValue): void {
  if (value === null) {
    out.byte(VALUE_NULL);
    out.byte(0);
    return;
  }
  switch (typeof value) {
    case 'string': {
      out.byte(VALUE_STRING);
      const length = out.nextSize();
      out.varint(length);
      out.string(value, length);
      return;
    }
    case 'number':
      if (!isInteger(value)) {
        out.byte(VALUE_DOUBLE);
        out.double(value);
      } else if (value >= 0) {
        out.byte(VALUE_INTEGER);
        out.uint(value);
      } else {
        out.byte(VALUE_INTEGER);
        const [lo, hi] = splitNegativeInt64(value);
        out.varint64(lo, hi);
      }
      return;
    case 'boolean':
      out.byte(VALUE_BOOL);
      out.byte(value ? 1 : 0);
      return;
    default: {
      const isList = Array.isArray(value);
      out.byte(isList ? VALUE_LIST : VALUE_STRUCT);
      out.varint(out.nextSize());
      if (isList) {
        for (const item of value as readonly PayloadValue[]) {
          out.byte(LIST_VALUES);
          out.varint(out.nextSize());
          writeValue(out, item);
        }
      } else {
        writeEntries(out, value as Record<string, PayloadValue>, STRUCT_FIELDS);
      }
    }
  }
}

function sizeList(list: readonly PayloadValue[]): number {
  let total = 0;
  for (const item of list) {
    if (item === undefined) throw new TypeError('Expected a JSON payload value in a list, got undefined');
    const slot = reserveSize();
    const size = sizeValue(item);
    setSize(slot, size);
    total += 1 + delimitedSize(size);
  }
  return total;
}

function checkPlainObject(value: object): Record<string, PayloadValue> {
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    throw new TypeError(`Expected a plain object or array in the payload, got ${describe(value)}`);
  }
  return value as Record<string, PayloadValue>;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return `a ${typeof value}`;
}
