import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/bench/vectors.js';
import { decodeBase64Embeddings, decodeEmbeddingList, parseFloatMatrix } from '../../src/embed/decode.js';

/** The shortest decimal that reads back as the same float32, as Rust's `{}` for f32 prints it. */
function shortestF32(value: number): string {
  for (let precision = 1; precision <= 9; precision++) {
    const text = Number(value.toPrecision(precision)).toString();
    if (Math.fround(Number(text)) === value) return text;
  }
  return value.toString();
}

function expectSameFloats(actual: Float32Array, expected: ArrayLike<number>): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const want = Math.fround(expected[i]!);
    if (!Object.is(actual[i], want)) {
      throw new Error(`value ${i}: got ${actual[i]}, expected ${want}`);
    }
  }
}

function reference(body: string): Float32Array[] {
  return (JSON.parse(body) as number[][]).map((row) => Float32Array.from(row));
}

describe('parseFloatMatrix', () => {
  it('parses rows into Float32Arrays like JSON.parse does', () => {
    const body = '[[0.1,-0.2,3],[1e-3,2.5E+2,-0]]';
    const rows = parseFloatMatrix(body);
    expect(rows).toHaveLength(2);
    expectSameFloats(rows[0]!, [0.1, -0.2, 3]);
    expectSameFloats(rows[1]!, [0.001, 250, -0]);
    expect(Object.is(rows[1]![2], -0)).toBe(true);
  });

  it('reads a Buffer and a string alike, with whitespace anywhere', () => {
    const body = ' [ [ 1 , 2 ] ,\n\t[ 3 , 4 ] ]\r\n';
    expect(parseFloatMatrix(body).map((r) => Array.from(r))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parseFloatMatrix(Buffer.from(body)).map((r) => Array.from(r))).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('returns no rows for an empty matrix, and empty rows for []', () => {
    expect(parseFloatMatrix('[]')).toEqual([]);
    expect(parseFloatMatrix('[[],[]]').map((r) => r.length)).toEqual([0, 0]);
  });

  it.each([
    '0',
    '-0',
    '-0.0',
    '0e0',
    '1E400',
    '-1e400',
    '1e-400',
    '4.9e-324',
    '1.401298464324817e-45',
    '7e-46',
    '3.4028235677973366e38',
    '3.4028235e38',
    '123456789012345678901234567890',
    '0.000000000000000000000000000000000000011754942',
    '1.00000000000000011102230246251565404236316680908203125',
    '9007199254740993',
    '0.1000000000000000055511151231257827021181583404541015625',
    '1e22',
    '1e23',
    '12345678901234567e-5',
    '-2.5e-0',
    '1.5e+10',
  ])('parses %s exactly as JSON.parse does', (number) => {
    const body = `[[${number},${number}]]`;
    expectSameFloats(parseFloatMatrix(body)[0]!, reference(body)[0]!);
  });

  it('matches JSON.parse on 200,000 random floats in shortest, long and exponent forms', () => {
    const next = mulberry32(42);
    const forms: ((v: number) => string)[] = [
      shortestF32,
      (v) => v.toString(), // the double's shortest repr: up to 17 digits
      (v) => v.toExponential(8),
      (v) => v.toExponential(3).replace('e', 'E'),
      (v) => v.toFixed(12),
    ];
    for (let batch = 0; batch < 20; batch++) {
      const rows: string[] = [];
      for (let r = 0; r < 10; r++) {
        const values: string[] = [];
        for (let i = 0; i < 1000; i++) {
          const magnitude = 10 ** Math.floor(next() * 80 - 45);
          const value = Math.fround((next() * 2 - 1) * magnitude);
          values.push(forms[Math.floor(next() * forms.length)]!(value));
        }
        rows.push(`[${values.join(',')}]`);
      }
      const body = `[${rows.join(',')}]`;
      const expected = reference(body);
      const actual = parseFloatMatrix(body, 1000);
      expect(actual).toHaveLength(expected.length);
      actual.forEach((row, i) => {
        expectSameFloats(row, expected[i]!);
      });
    }
  });

  it('checks the dimension against expectedDim and between rows', () => {
    expect(() => parseFloatMatrix('[[1,2,3]]', 4)).toThrow(/embedding 0 has 3 dimensions, expected 4/);
    expect(() => parseFloatMatrix('[[1,2,3,4,5]]', 4)).toThrow(/more than 4 dimensions/);
    expect(() => parseFloatMatrix('[[1,2],[1,2,3]]')).toThrow(/embedding 1 has more than 2 dimensions/);
    expect(() => parseFloatMatrix('[[1,2],[1]]')).toThrow(/embedding 1 has 1 dimensions, expected 2/);
  });

  it('grows past its first guess of the dimension', () => {
    const row = Array.from({ length: 5000 }, (_, i) => i / 3);
    expectSameFloats(parseFloatMatrix(JSON.stringify([row, row]))[1]!, row);
  });

  it.each([
    ['', /expected `\[`/],
    ['{}', /expected `\[`/],
    ['[1]', /expected `\[` opening an embedding/],
    ['[[1,]]', /expected a number/],
    ['[[1 2]]', /expected `,` or `]`/],
    ['[[01]]', /expected `,` or `]`/],
    ['[[.5]]', /expected a number/],
    ['[[+1]]', /expected a number/],
    ['[[1.]]', /digit after `.`/],
    ['[[1e]]', /digit in the exponent/],
    ['[[-]]', /expected a number/],
    ['[[NaN]]', /expected a number/],
    ['[["1"]]', /expected a number/],
    ['[[1]', /expected `,` or `]` after an embedding/],
    ['[[1]] x', /unexpected data/],
    ['[[1]][[2]]', /unexpected data/],
  ])('rejects malformed input %j', (body, message) => {
    expect(() => parseFloatMatrix(body)).toThrow(message);
  });
});

function openAiBody(vectors: Float32Array[], order = vectors.map((_, i) => i), indent?: number): string {
  return JSON.stringify(
    {
      object: 'list',
      data: order.map((index) => ({
        object: 'embedding',
        embedding: Buffer.from(
          vectors[index]!.buffer,
          vectors[index]!.byteOffset,
          vectors[index]!.byteLength,
        ).toString('base64'),
        index,
      })),
      model: 'Qwen/Qwen3-Embedding-0.6B ✓ "quoted" \\ back',
      usage: { prompt_tokens: 12, total_tokens: 12, nested: [1, -2.5e3, true, false, null, { a: [] }] },
    },
    null,
    indent,
  );
}

describe('decodeBase64Embeddings', () => {
  const vectors = [
    Float32Array.from([0.5, -0, Number.NaN, Number.POSITIVE_INFINITY, 1e-45]),
    Float32Array.from([1, 2, 3, 4, 5]),
    Float32Array.from([-1, -2, -3, -4, -5]),
  ];

  it('decodes little-endian float32 bit for bit, in index order', () => {
    const decoded = decodeBase64Embeddings(openAiBody(vectors, [2, 0, 1]));
    expect(decoded).toHaveLength(3);
    decoded.forEach((vector, i) => {
      expectSameFloats(vector, vectors[i]!);
    });
    expect(Object.is(decoded[0]![1], -0)).toBe(true);
  });

  it('reads pretty-printed JSON from a Buffer', () => {
    const decoded = decodeBase64Embeddings(Buffer.from(openAiBody(vectors, undefined, 2)), 5);
    expectSameFloats(decoded[2]!, vectors[2]!);
  });

  it('decodes many 1024-dim embeddings into aligned arrays that do not overlap', () => {
    const big = Array.from({ length: 100 }, (_, r) =>
      Float32Array.from({ length: 1024 }, (_, i) => Math.sin(r * 1024 + i)),
    );
    const decoded = decodeBase64Embeddings(openAiBody(big, undefined, 2), 1024);
    expect(decoded).toHaveLength(100);
    decoded.forEach((vector, i) => {
      expect(vector.byteOffset % 4).toBe(0);
      expectSameFloats(vector, big[i]!);
    });
    decoded[0]!.fill(7);
    expectSameFloats(decoded[1]!, big[1]!);
    expectSameFloats(decoded[99]!, big[99]!);
  });

  it('accepts an escaped slash inside the base64 text', () => {
    const vector = Float32Array.from([Number.NaN, 1.5]); // contains `/` once encoded
    const b64 = Buffer.from(vector.buffer).toString('base64');
    const body = `{"data":[{"index":0,"embedding":"${b64.replaceAll('/', '\\/')}"}]}`;
    expectSameFloats(decodeBase64Embeddings(body)[0]!, vector);
  });

  it('returns nothing for an empty data array', () => {
    expect(decodeBase64Embeddings('{"data":[],"model":"m"}')).toEqual([]);
  });

  it('checks the dimension against expectedDim and between embeddings', () => {
    expect(() => decodeBase64Embeddings(openAiBody(vectors), 4)).toThrow(
      /embedding 0 has 5 dimensions, expected 4/,
    );
    expect(() => decodeBase64Embeddings(openAiBody([vectors[0]!, Float32Array.from([1, 2])]))).toThrow(
      /embedding 1 has 2 dimensions, expected 5/,
    );
  });

  it.each([
    ['not an object', '[1]', /expected `\{`/],
    ['no data', '{"model":"m"}', /no `data` field/],
    ['float embeddings', '{"data":[{"embedding":[0.1,0.2],"index":0}]}', /not a base64 string/],
    ['no embedding', '{"data":[{"index":0}]}', /has no `embedding`/],
    ['bytes not whole floats', '{"data":[{"embedding":"AAAAAAA=","index":0}]}', /not whole float32 values/],
    ['invalid base64', '{"data":[{"embedding":"AAAA!AAAAAA=","index":0}]}', /not valid base64/],
    [
      'duplicate index',
      '{"data":[{"embedding":"AAAAAA==","index":0},{"embedding":"AAAAAA==","index":0}]}',
      /indexes/,
    ],
    ['index out of range', '{"data":[{"embedding":"AAAAAA==","index":3}]}', /indexes/],
    ['negative index', '{"data":[{"embedding":"AAAAAA==","index":-1}]}', /non-negative integer/],
    ['unterminated string', '{"data":[{"embedding":"AAAA', /unterminated string/],
    ['trailing garbage', '{"data":[]} {}', /unexpected data/],
    ['bad literal', '{"data":[],"x":nope}', /invalid value/],
    ['missing colon', '{"data" []}', /expected `:`/],
  ])('rejects %s', (_, body, message) => {
    expect(() => decodeBase64Embeddings(body)).toThrow(message);
  });
});

describe('decodeEmbeddingList', () => {
  it('reads base64 and float embeddings alike, in index order, with usage.prompt_tokens', () => {
    const vectors = [Float32Array.from([0.5, -2, 3.25]), Float32Array.from([1e-3, 0, -0])];
    const base64 = decodeEmbeddingList(openAiBody(vectors, [1, 0], 2), 3);
    expect(base64.promptTokens).toBe(12);
    base64.vectors.forEach((vector, i) => {
      expectSameFloats(vector, vectors[i]!);
    });
    const floats =
      '{"object":"list","data":[{"index":1,"embedding":[0.001,0,-0]},{"index":0,"embedding":[0.5,-2,3.25]}],' +
      '"usage":{"prompt_tokens":7,"total_tokens":7}}';
    const decoded = decodeEmbeddingList(floats);
    expect(decoded.promptTokens).toBe(7);
    decoded.vectors.forEach((vector, i) => {
      expectSameFloats(vector, vectors[i]!);
    });
    expect(Object.is(decoded.vectors[1]![2], -0)).toBe(true);
  });

  it('leaves the token count undefined when usage is missing or not a count', () => {
    expect(decodeEmbeddingList('{"data":[{"embedding":[1]}]}').promptTokens).toBeUndefined();
    expect(decodeEmbeddingList('{"data":[],"usage":{"prompt_tokens":null}}').promptTokens).toBeUndefined();
    expect(decodeEmbeddingList('{"data":[],"usage":null}').promptTokens).toBeUndefined();
  });

  it('checks float rows against expectedDim and each other', () => {
    expect(() => decodeEmbeddingList('{"data":[{"embedding":[1,2,3]}]}', 2)).toThrow(
      /embedding 0 has more than 2 dimensions/,
    );
    expect(() =>
      decodeEmbeddingList('{"data":[{"embedding":[1,2]},{"embedding":"AAAAAAAAAAAAAAAAAAAAAA=="}]}'),
    ).toThrow(/embedding 1 has 4 dimensions, expected 2/);
    expect(() => decodeEmbeddingList('{"data":[{"embedding":[1,"x"]}]}')).toThrow(/expected a number/);
  });
});
