import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { PointStruct, UpsertPoints, Value } from '@qdrant/js-client-grpc';
import {
  PointStructSchema,
  UpsertPointsSchema,
  ValueSchema,
  WriteOrderingType,
} from '@qdrant/js-client-grpc';
import { describe, expect, it } from 'vitest';
import type { EncodablePoint, PayloadValue } from '../../src/qdrant/point-encoder.js';
import { encodePoint, encodeUpsertPoints, estimatePointBytes } from '../../src/qdrant/point-encoder.js';

const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';

function point(id: EncodablePoint['id'], payload: EncodablePoint['payload'] = {}, dim = 4): EncodablePoint {
  const vector = new Float32Array(dim);
  for (let i = 0; i < dim; i++) vector[i] = (i + 1) / 7;
  return { id, vector, payload };
}

function decode(bytes: Uint8Array): UpsertPoints {
  return fromBinary(UpsertPointsSchema, bytes);
}

function only(message: UpsertPoints): PointStruct {
  expect(message.points).toHaveLength(1);
  return message.points[0]!;
}

/** A decoded Value as JS, with integers and doubles kept apart. */
type Tagged =
  | null
  | string
  | boolean
  | { int: bigint }
  | { double: number }
  | Tagged[]
  | { obj: Record<string, Tagged> };

function tagged(value: Value | undefined): Tagged {
  const kind = value?.kind;
  switch (kind?.case) {
    case 'nullValue':
      return null;
    case 'stringValue':
    case 'boolValue':
      return kind.value;
    case 'integerValue':
      return { int: kind.value };
    case 'doubleValue':
      return { double: kind.value };
    case 'listValue':
      return kind.value.values.map(tagged);
    case 'structValue':
      return { obj: taggedMap(kind.value.fields) };
    default:
      throw new Error(`value without a kind: ${String(kind?.case)}`);
  }
}

function taggedMap(fields: Record<string, Value>): Record<string, Tagged> {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, tagged(value)]));
}

function payloadOf(payload: Record<string, PayloadValue | undefined>): Record<string, Tagged> {
  return taggedMap(
    only(decode(encodeUpsertPoints({ collectionName: 'c', wait: false, points: [point(1, payload)] })))
      .payload,
  );
}

function denseOf(struct: PointStruct): number[] {
  const options = struct.vectors?.vectorsOptions;
  if (options?.case !== 'vector') throw new Error('expected a single unnamed vector');
  const vector = options.value.vector;
  if (vector.case !== 'dense') throw new Error('expected Vector.dense');
  expect(options.value.data).toEqual([]);
  return vector.value.data;
}

describe('encodeUpsertPoints', () => {
  it('writes the collection name, wait and points that fromBinary reads back', () => {
    const message = decode(
      encodeUpsertPoints({ collectionName: 'technical_docs', wait: true, points: [point(uuid, { a: 'b' })] }),
    );
    expect(message.collectionName).toBe('technical_docs');
    expect(message.wait).toBe(true);
    expect(message.ordering).toBeUndefined();
    expect(only(message).id?.pointIdOptions).toEqual({ case: 'uuid', value: uuid });
  });

  it('always writes wait, also when false', () => {
    const message = decode(encodeUpsertPoints({ collectionName: 'c', wait: false, points: [] }));
    expect(message.wait).toBe(false);
    expect(Object.hasOwn(message, 'wait')).toBe(true);
  });

  it('encodes an empty points list', () => {
    const message = decode(encodeUpsertPoints({ collectionName: 'c', wait: false, points: [] }));
    expect(message.points).toEqual([]);
  });

  it.each([
    ['weak', WriteOrderingType.Weak],
    ['medium', WriteOrderingType.Medium],
    ['strong', WriteOrderingType.Strong],
  ] as const)('writes ordering %s', (ordering, type) => {
    const message = decode(encodeUpsertPoints({ collectionName: 'c', wait: true, points: [], ordering }));
    expect(message.ordering?.type).toBe(type);
  });

  it('rejects an unknown ordering', () => {
    expect(() =>
      encodeUpsertPoints({ collectionName: 'c', wait: true, points: [], ordering: 'eventual' as 'weak' }),
    ).toThrow(/ordering/);
  });

  it.each([
    [0, 0n],
    [1, 1n],
    [127, 127n],
    [128, 128n],
    [2 ** 31, 2n ** 31n],
    [2 ** 32 + 5, 2n ** 32n + 5n],
    [Number.MAX_SAFE_INTEGER, BigInt(Number.MAX_SAFE_INTEGER)],
    [2n ** 53n + 1n, 2n ** 53n + 1n],
    [2n ** 63n, 2n ** 63n],
    [2n ** 64n - 1n, 2n ** 64n - 1n],
  ])('writes numeric id %s as PointId.num', (id, expected) => {
    const struct = only(
      decode(encodeUpsertPoints({ collectionName: 'c', wait: false, points: [point(id)] })),
    );
    expect(struct.id?.pointIdOptions).toEqual({ case: 'num', value: expected });
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 53, -1n, 2n ** 64n])('rejects id %s', (id) => {
    expect(() => encodeUpsertPoints({ collectionName: 'c', wait: false, points: [point(id)] })).toThrow(
      /point id/,
    );
  });

  it('writes vectors into Vector.dense bit for bit, unusual floats included', () => {
    const values = [
      0,
      -0,
      1,
      -1.5,
      1e-45, // smallest subnormal
      1.1754942e-38, // largest subnormal
      3.4028235e38,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Math.fround(Math.PI),
    ];
    const vector = Float32Array.from(values);
    const struct = only(
      decode(
        encodeUpsertPoints({ collectionName: 'c', wait: false, points: [{ id: 1, vector, payload: {} }] }),
      ),
    );
    const data = denseOf(struct);
    expect(data).toHaveLength(values.length);
    for (let i = 0; i < values.length; i++) expect(Object.is(data[i], vector[i])).toBe(true);
  });

  it('writes a vector that is a view into a larger buffer from its own offset', () => {
    const backing = Float32Array.from({ length: 12 }, (_, i) => i);
    const vector = backing.subarray(5, 9);
    const struct = only(
      decode(
        encodeUpsertPoints({ collectionName: 'c', wait: false, points: [{ id: 1, vector, payload: {} }] }),
      ),
    );
    expect(denseOf(struct)).toEqual([5, 6, 7, 8]);
  });

  it('encodes a 1024-dim vector, whose data length needs a two-byte varint', () => {
    const struct = only(
      decode(encodeUpsertPoints({ collectionName: 'c', wait: false, points: [point(7, {}, 1024)] })),
    );
    const data = denseOf(struct);
    expect(data).toHaveLength(1024);
    expect(data[1023]).toBe(Math.fround(1024 / 7));
  });

  it('rejects a vector that is not a Float32Array', () => {
    const bad = { id: 1, vector: [1, 2] as unknown as Float32Array, payload: {} };
    expect(() => encodeUpsertPoints({ collectionName: 'c', wait: false, points: [bad] })).toThrow(
      /Float32Array/,
    );
  });

  it('keeps integers as integer_value and other numbers as double_value', () => {
    expect(
      payloadOf({
        zero: 0,
        negativeZero: -0,
        small: 42,
        negative: -7,
        big: 2 ** 31 + 1,
        bigNegative: -(2 ** 40),
        maxSafe: Number.MAX_SAFE_INTEGER,
        minSafe: Number.MIN_SAFE_INTEGER,
        beyondSafe: 2 ** 53,
        fraction: 0.25,
        infinite: Number.POSITIVE_INFINITY,
      }),
    ).toEqual({
      zero: { int: 0n },
      negativeZero: { double: -0 },
      small: { int: 42n },
      negative: { int: -7n },
      big: { int: 2n ** 31n + 1n },
      bigNegative: { int: -(2n ** 40n) },
      maxSafe: { int: BigInt(Number.MAX_SAFE_INTEGER) },
      minSafe: { int: BigInt(Number.MIN_SAFE_INTEGER) },
      beyondSafe: { double: 2 ** 53 },
      fraction: { double: 0.25 },
      infinite: { double: Number.POSITIVE_INFINITY },
    });
    const negativeZero = payloadOf({ x: -0 }).x as { double: number };
    expect(Object.is(negativeZero.double, -0)).toBe(true);
    const nan = payloadOf({ x: Number.NaN }).x as { double: number };
    expect(Number.isNaN(nan.double)).toBe(true);
  });

  it('encodes strings, booleans, null, lists and nested objects', () => {
    expect(
      payloadOf({
        text: 'plain',
        empty: '',
        unicode: 'Grüße, 世界 — ✓',
        emoji: 'rocket 🚀 family 👨‍👩‍👧',
        yes: true,
        no: false,
        nothing: null,
        tags: ['a', 1, 2.5, true, null, ['nested'], { k: 'v' }],
        emptyList: [],
        emptyObject: {},
        nested: { level1: { level2: { level3: [1, { deep: 'x' }] } } },
        '': 'empty key',
        'ключ 🔑': 'unicode key',
      }),
    ).toEqual({
      text: 'plain',
      empty: '',
      unicode: 'Grüße, 世界 — ✓',
      emoji: 'rocket 🚀 family 👨‍👩‍👧',
      yes: true,
      no: false,
      nothing: null,
      tags: ['a', { int: 1n }, { double: 2.5 }, true, null, ['nested'], { obj: { k: 'v' } }],
      emptyList: [],
      emptyObject: { obj: {} },
      nested: {
        obj: { level1: { obj: { level2: { obj: { level3: [{ int: 1n }, { obj: { deep: 'x' } }] } } } } },
      },
      '': 'empty key',
      'ключ 🔑': 'unicode key',
    });
  });

  it.each([
    ['127 bytes', 127],
    ['128 bytes', 128],
    ['16383 bytes', 16383],
    ['16384 bytes', 16384],
    ['2 MB', 2_000_000],
  ])('encodes a string of %s, where the length varint grows', (_, length) => {
    const text = `${'x'.repeat(length - 4)}🚀`;
    expect(payloadOf({ content: text, [`k${'y'.repeat(length)}`]: 1 })).toEqual({
      content: text,
      [`k${'y'.repeat(length)}`]: { int: 1n },
    });
  });

  it('writes lone surrogates as U+FFFD in short and long strings alike', () => {
    const long = `${'a'.repeat(100)}\ud800`;
    expect(payloadOf({ short: 'x\ud800y', tail: 'end\udc00', pair: '\ud83d\ude80', long })).toEqual({
      short: 'x\ufffdy',
      tail: 'end\ufffd',
      pair: '🚀',
      long: `${'a'.repeat(100)}\ufffd`,
    });
  });

  it('encodes an empty payload and leaves out undefined properties', () => {
    expect(payloadOf({})).toEqual({});
    expect(payloadOf({ kept: 1, dropped: undefined })).toEqual({ kept: { int: 1n } });
  });

  it('rejects values that are not JSON', () => {
    const encode = (value: unknown) => () => payloadOf({ x: value as PayloadValue });
    expect(encode(new Date(0))).toThrow(/plain object/);
    expect(encode(10n)).toThrow(/bigint/);
    expect(encode(() => 1)).toThrow(/function/);
    expect(encode([undefined])).toThrow(/undefined/);
  });

  it('encodes many points in order, beyond the first size table', () => {
    const points = Array.from({ length: 3000 }, (_, i) => point(i, { i, text: `chunk ${i}` }, 8));
    const message = decode(encodeUpsertPoints({ collectionName: 'c', wait: false, points }));
    expect(message.points).toHaveLength(3000);
    message.points.forEach((struct, i) => {
      expect(struct.id?.pointIdOptions).toEqual({ case: 'num', value: BigInt(i) });
      expect(taggedMap(struct.payload)).toEqual({ i: { int: BigInt(i) }, text: `chunk ${i}` });
      expect(denseOf(struct)).toEqual(Array.from(points[i]!.vector));
    });
  });

  it('produces the same bytes as toBinary(UpsertPointsSchema) for the same message', () => {
    const vector = Float32Array.from([0.5, -0.25, 1e-40, 3]);
    const payload = {
      doc_id: 'docs/intro.md',
      chunk_index: 3,
      score: -1.5,
      negative: -12,
      flag: false,
      none: null,
      tags: ['a', 'b'],
      meta: { title: 'Intro ✓', depth: 2 },
      content: 'y'.repeat(300),
    };
    const ours = encodeUpsertPoints({
      collectionName: 'docs',
      wait: false,
      ordering: 'medium',
      points: [
        { id: uuid, vector, payload },
        { id: 2n ** 64n - 1n, vector, payload: {} },
      ],
    });
    const stockValue = (value: PayloadValue): Value => {
      if (value === null) return create(ValueSchema, { kind: { case: 'nullValue', value: 0 } });
      if (typeof value === 'string') return create(ValueSchema, { kind: { case: 'stringValue', value } });
      if (typeof value === 'boolean') return create(ValueSchema, { kind: { case: 'boolValue', value } });
      if (typeof value === 'number') {
        return Number.isInteger(value)
          ? create(ValueSchema, { kind: { case: 'integerValue', value: BigInt(value) } })
          : create(ValueSchema, { kind: { case: 'doubleValue', value } });
      }
      if (Array.isArray(value)) {
        return create(ValueSchema, { kind: { case: 'listValue', value: { values: value.map(stockValue) } } });
      }
      const fields = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stockValue(v)]));
      return create(ValueSchema, { kind: { case: 'structValue', value: { fields } } });
    };
    const stockPoint = (
      pointIdOptions: { case: 'uuid'; value: string } | { case: 'num'; value: bigint },
      payloadIn: Record<string, PayloadValue>,
    ) =>
      create(PointStructSchema, {
        id: { pointIdOptions },
        payload: Object.fromEntries(Object.entries(payloadIn).map(([k, v]) => [k, stockValue(v)])),
        vectors: {
          vectorsOptions: {
            case: 'vector',
            value: { vector: { case: 'dense', value: { data: Array.from(vector) } } },
          },
        },
      });
    const stock = toBinary(
      UpsertPointsSchema,
      create(UpsertPointsSchema, {
        collectionName: 'docs',
        wait: false,
        ordering: { type: WriteOrderingType.Medium },
        points: [
          stockPoint({ case: 'uuid', value: uuid }, payload),
          stockPoint({ case: 'num', value: 2n ** 64n - 1n }, {}),
        ],
      }),
    );
    expect(Buffer.from(ours).equals(Buffer.from(stock))).toBe(true);
  });
});

describe('encodeUpsertPoints with an output buffer', () => {
  it('writes at the start of the buffer it is given and returns a view of the exact size', () => {
    const request = { collectionName: 'c', wait: true, points: [point(uuid, { a: 'b' }, 16)] };
    const fresh = encodeUpsertPoints(request);
    const backing = new Uint8Array(fresh.byteLength + 100).fill(0xee);
    let asked = 0;
    const written = encodeUpsertPoints(request, (size) => {
      asked = size;
      return backing.subarray(10);
    });
    expect(asked).toBe(fresh.byteLength);
    expect(written.buffer).toBe(backing.buffer);
    expect(written.byteOffset).toBe(10);
    expect(Buffer.from(written).equals(Buffer.from(fresh))).toBe(true);
    expect(backing[9]).toBe(0xee);
    expect(backing[10 + fresh.byteLength]).toBe(0xee);
  });

  it('refuses a buffer that is too small', () => {
    const request = { collectionName: 'c', wait: true, points: [point(1)] };
    expect(() => encodeUpsertPoints(request, (size) => new Uint8Array(size - 1))).toThrow(RangeError);
  });
});

describe('estimatePointBytes', () => {
  it('is exactly the bytes each point adds to the message', () => {
    const points = [
      point(uuid, { content: 'z'.repeat(20_000), tags: ['x', 'y'], meta: { n: -3 } }, 1024),
      point(2n ** 64n - 1n, {}, 3),
      point(0, { emoji: '🚀'.repeat(50), nothing: null, skipped: undefined }, 0),
    ];
    const empty = encodeUpsertPoints({ collectionName: 'c', wait: false, points: [] }).byteLength;
    const full = encodeUpsertPoints({ collectionName: 'c', wait: false, points }).byteLength;
    const estimated = points.reduce((sum, p) => sum + estimatePointBytes(p), 0);
    expect(empty + estimated).toBe(full);
  });
});

describe('encodePoint', () => {
  const points = () => [
    point(
      uuid,
      { content: 'z'.repeat(300), tags: ['x', 'y'], meta: { n: -3 }, created_at: 1_700_000_000 },
      1024,
    ),
    point(7, { emoji: '🚀', nothing: null }, 3),
  ];

  it('writes the PointStruct that fromBinary reads back, its floats as the last bytes', () => {
    const [first] = points();
    const bytes = encodePoint(first!);
    const struct = fromBinary(PointStructSchema, bytes);
    expect(struct.id?.pointIdOptions).toEqual({ case: 'uuid', value: uuid });
    expect(Float32Array.from(denseOf(struct))).toEqual(first!.vector);
    const floats = bytes.subarray(bytes.byteLength - 4 * 1024);
    expect(Buffer.from(floats).equals(Buffer.from(first!.vector.buffer))).toBe(true);
  });

  it('gives, copied into a request as `encoded`, the same bytes as encoding the point there', () => {
    const plain = points();
    const ahead = plain.map((p) => ({
      id: 'not read',
      vector: new Float32Array(0),
      payload: {},
      encoded: encodePoint(p),
    }));
    const request = { collectionName: 'c', wait: false };
    const expected = encodeUpsertPoints({ ...request, points: plain });
    expect(Buffer.from(encodeUpsertPoints({ ...request, points: ahead })).equals(Buffer.from(expected))).toBe(
      true,
    );
    // Mixed with points encoded in place, in any order.
    const mixed = encodeUpsertPoints({ ...request, points: [ahead[0]!, plain[1]!] });
    expect(Buffer.from(mixed).equals(Buffer.from(expected))).toBe(true);
    expect(estimatePointBytes(ahead[0]!)).toBe(estimatePointBytes(plain[0]!));
  });

  it('writes into the buffer it is given', () => {
    const [first] = points();
    const fresh = encodePoint(first!);
    const backing = new Uint8Array(fresh.byteLength + 8);
    const written = encodePoint(first!, (size) => backing.subarray(8, 8 + size));
    expect(written.byteOffset).toBe(8);
    expect(Buffer.from(written).equals(Buffer.from(fresh))).toBe(true);
  });
});
