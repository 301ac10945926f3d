/**
 * Decoders for embedding responses (TEI's `/embed`, OpenAI-shaped `/v1/embeddings` lists) that go
 * straight from the response bytes to Float32Arrays, with no array of JS numbers in between. All throw
 * an `Error` naming the byte offset on malformed input, and on a dimension that differs from
 * `expectedDim` or between rows.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const EQUALS = 0x3d;

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Exact powers of ten as doubles (10^22 is the largest exactly representable one). */
const powersOfTen = Array.from({ length: 23 }, (_, i) => 10 ** i);

function toBytes(body: Buffer | string): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

function fail(what: string, reason: string, at: number): never {
  throw new Error(`${what}: ${reason} at byte ${at}`);
}

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function skipWhitespace(bytes: Buffer, pos: number): number {
  while (pos < bytes.length && isWhitespace(bytes[pos]!)) pos++;
  return pos;
}

function checkDim(what: string, row: number, dim: number, expected: number | undefined): void {
  if (expected !== undefined && dim !== expected) {
    throw new Error(`${what}: embedding ${row} has ${dim} dimensions, expected ${expected}`);
  }
}

const MATRIX = 'embedding response (/embed)';

/**
 * Parse `/embed`'s `[[f32, ...], ...]` into one Float32Array per row. Every JSON number form is read
 * exactly as `JSON.parse` reads it (then rounded to float32): short decimals take an exact fast path,
 * anything longer goes through `Number()`. Rows must all have the same length (`expectedDim` when given).
 */
export function parseFloatMatrix(body: Buffer | string, expectedDim?: number): Float32Array[] {
  const bytes = toBytes(body);
  const rows: Float32Array[] = [];
  let dim = expectedDim;
  let pos = skipWhitespace(bytes, 0);
  if (bytes[pos] !== OPEN_BRACKET) fail(MATRIX, 'expected `[`', pos);
  pos = skipWhitespace(bytes, pos + 1);
  if (bytes[pos] === CLOSE_BRACKET) pos++;
  else {
    for (;;) {
      const { vector, end } = readFloatRow(bytes, pos, MATRIX, rows.length, dim);
      dim = vector.length;
      rows.push(vector);
      pos = skipWhitespace(bytes, end);
      const next = bytes[pos];
      if (next === COMMA) pos = skipWhitespace(bytes, pos + 1);
      else if (next === CLOSE_BRACKET) {
        pos++;
        break;
      } else fail(MATRIX, 'expected `,` or `]` after an embedding', pos);
    }
  }
  pos = skipWhitespace(bytes, pos);
  if (pos !== bytes.length) fail(MATRIX, 'unexpected data after the matrix', pos);
  return rows;
}

/** A row whose length is not known yet is read here, then copied out at its exact length. */
let scratch = new Float32Array(1024);

/**
 * Parse the JSON array of numbers at `open` into a Float32Array of exactly its length; with `dim`,
 * the row is written straight into an array of that size and must have that length. `row` numbers
 * the embedding in messages.
 */
function readFloatRow(
  bytes: Buffer,
  open: number,
  what: string,
  row: number,
  dim: number | undefined,
): { vector: Float32Array; end: number } {
  if (bytes[open] !== OPEN_BRACKET) fail(what, 'expected `[` opening an embedding', open);
  let pos = skipWhitespace(bytes, open + 1);
  let out = dim === undefined ? scratch : new Float32Array(dim);
  let count = 0;
  if (bytes[pos] === CLOSE_BRACKET) pos++;
  else {
    for (;;) {
      if (count === out.length) {
        if (dim !== undefined) throw new Error(`${what}: embedding ${row} has more than ${dim} dimensions`);
        const grown = new Float32Array(out.length * 2);
        grown.set(out);
        out = scratch = grown;
      }
      pos = parseNumber(bytes, pos, out, count++, what);
      pos = skipWhitespace(bytes, pos);
      const next = bytes[pos];
      if (next === COMMA) pos = skipWhitespace(bytes, pos + 1);
      else if (next === CLOSE_BRACKET) {
        pos++;
        break;
      } else fail(what, 'expected `,` or `]` after a number', pos);
    }
  }
  checkDim(what, row, count, dim);
  return { vector: dim === undefined ? out.slice(0, count) : out, end: pos };
}

/** Parse one JSON number at `start` into `out[index]`; returns the position after it. */
function parseNumber(bytes: Buffer, start: number, out: Float32Array, index: number, what: string): number {
  let pos = start;
  let byte = bytes[pos];
  const negative = byte === MINUS;
  if (negative) byte = bytes[++pos];
  let mantissa = 0;
  let digits = 0; // significant digits taken into the mantissa
  let scale = 0;
  if (byte === ZERO) {
    byte = bytes[++pos];
  } else if (byte !== undefined && byte > ZERO && byte <= NINE) {
    do {
      mantissa = mantissa * 10 + (byte - ZERO);
      digits++;
      byte = bytes[++pos];
    } while (byte !== undefined && byte >= ZERO && byte <= NINE);
  } else fail(what, 'expected a number', start);
  if (byte === DOT) {
    byte = bytes[++pos];
    if (byte === undefined || byte < ZERO || byte > NINE) fail(what, 'expected a digit after `.`', pos);
    do {
      mantissa = mantissa * 10 + (byte - ZERO);
      if (mantissa !== 0) digits++;
      scale--;
      byte = bytes[++pos];
    } while (byte !== undefined && byte >= ZERO && byte <= NINE);
  }
  let exponent = 0;
  if (byte === 0x65 || byte === 0x45) {
    byte = bytes[++pos];
    let exponentNegative = false;
    if (byte === MINUS || byte === PLUS) {
      exponentNegative = byte === MINUS;
      byte = bytes[++pos];
    }
    if (byte === undefined || byte < ZERO || byte > NINE) fail(what, 'expected a digit in the exponent', pos);
    do {
      if (exponent < 100_000) exponent = exponent * 10 + (byte - ZERO);
      byte = bytes[++pos];
    } while (byte !== undefined && byte >= ZERO && byte <= NINE);
    if (exponentNegative) exponent = -exponent;
  }
  const power = scale + exponent;
  let value: number;
  if (digits <= 15 && power >= -22 && power <= 22) {
    // Clinger's fast path: an integer below 2^53 times or divided by an exact power of ten is one
    // correctly rounded operation, so it equals what JSON.parse returns.
    value = power < 0 ? mantissa / powersOfTen[-power]! : mantissa * powersOfTen[power]!;
    if (negative) value = -value;
  } else {
    value = Number(bytes.toString('latin1', start, pos));
  }
  out[index] = value;
  return pos;
}

const OPENAI = 'embedding response (/v1/embeddings)';

/**
 * Decode `/v1/embeddings` with `encoding_format: "base64"` (OpenAI shape,
 * `{"data": [{"embedding": "<base64 little-endian float32>", "index": 0}, ...], ...}`) into one
 * Float32Array per input, ordered by `index`. The base64 text is decoded straight into each array's
 * memory; other fields are skipped without being parsed into objects.
 */
export function decodeBase64Embeddings(json: Buffer | string, expectedDim?: number): Float32Array[] {
  return decodeList(json, expectedDim, false).vectors;
}

/**
 * Decode an OpenAI embedding list whatever its encoding: base64 strings as `decodeBase64Embeddings`
 * does, float arrays (a server that ignores `encoding_format`, or `"float"` asked) as
 * `parseFloatMatrix` reads numbers. `promptTokens` is `usage.prompt_tokens` when the server sent it.
 */
export function decodeEmbeddingList(
  json: Buffer | string,
  expectedDim?: number,
): { vectors: Float32Array[]; promptTokens: number | undefined } {
  return decodeList(json, expectedDim, true);
}

function decodeList(
  json: Buffer | string,
  expectedDim: number | undefined,
  acceptFloats: boolean,
): { vectors: Float32Array[]; promptTokens: number | undefined } {
  const bytes = toBytes(json);
  const found: { index: number; vector: Float32Array }[] = [];
  let dim = expectedDim;
  let sawData = false;
  let promptTokens: number | undefined;
  let pos = skipWhitespace(bytes, 0);
  if (bytes[pos] !== OPEN_BRACE) fail(OPENAI, 'expected `{`', pos);
  const slab = new Slab();
  pos = readObject(bytes, pos, (keyAt, keyEnd, at) => {
    if (keyIs(bytes, keyAt, keyEnd, 'usage') && bytes[at] === OPEN_BRACE) {
      return readObject(bytes, at, (usageKeyAt, usageKeyEnd, valueAt) => {
        const after = skipValue(bytes, valueAt);
        if (keyIs(bytes, usageKeyAt, usageKeyEnd, 'prompt_tokens')) {
          const value = Number(bytes.toString('latin1', valueAt, after));
          if (Number.isSafeInteger(value) && value >= 0) promptTokens = value;
        }
        return after;
      });
    }
    if (!keyIs(bytes, keyAt, keyEnd, 'data')) return skipValue(bytes, at);
    sawData = true;
    if (bytes[at] !== OPEN_BRACKET) fail(OPENAI, '`data` is not an array', at);
    return readArray(bytes, at, (itemAt) => {
      if (bytes[itemAt] !== OPEN_BRACE) fail(OPENAI, 'expected an object in `data`', itemAt);
      let index: number | undefined;
      let vector: Float32Array | undefined;
      const end = readObject(bytes, itemAt, (keyAt, keyEnd, valueAt) => {
        if (keyIs(bytes, keyAt, keyEnd, 'index')) {
          const after = skipValue(bytes, valueAt);
          index = Number(bytes.toString('latin1', valueAt, after));
          if (!Number.isSafeInteger(index) || index < 0)
            fail(OPENAI, '`index` is not a non-negative integer', valueAt);
          return after;
        }
        if (!keyIs(bytes, keyAt, keyEnd, 'embedding')) return skipValue(bytes, valueAt);
        let after: number;
        if (acceptFloats && bytes[valueAt] === OPEN_BRACKET) {
          ({ vector, end: after } = readFloatRow(bytes, valueAt, OPENAI, found.length, dim));
        } else {
          if (bytes[valueAt] !== QUOTE) {
            fail(OPENAI, '`embedding` is not a base64 string (was encoding_format "base64" sent?)', valueAt);
          }
          after = skipString(bytes, valueAt);
          vector = decodeFloat32Base64(bytes, valueAt, after, slab);
          checkDim(OPENAI, found.length, vector.length, dim);
        }
        dim = vector.length;
        return after;
      });
      if (vector === undefined) fail(OPENAI, 'an item of `data` has no `embedding`', itemAt);
      found.push({ index: index ?? found.length, vector });
      return end;
    });
  });
  pos = skipWhitespace(bytes, pos);
  if (pos !== bytes.length) fail(OPENAI, 'unexpected data after the object', pos);
  if (!sawData) fail(OPENAI, 'no `data` field', 0);
  const ordered = new Array<Float32Array>(found.length);
  for (const { index, vector } of found) {
    if (index >= found.length || ordered[index] !== undefined) {
      throw new Error(
        `${OPENAI}: indexes are not 0..${found.length - 1} (got ${index} twice or out of range)`,
      );
    }
    ordered[index] = vector;
  }
  return { vectors: ordered, promptTokens };
}

/** Embeddings are views into slabs sized for the rest of the body: one allocation per batch. */
class Slab {
  floats = new Float32Array(0);
  bytes = Buffer.alloc(0);
  used = 0;

  /** Room for `length` floats; returns its float offset. `rowsLeft` bounds the embeddings to come. */
  reserve(length: number, rowsLeft: number): number {
    if (this.used + length > this.floats.length) {
      this.floats = new Float32Array(Math.max(1, rowsLeft) * length);
      this.bytes = Buffer.from(this.floats.buffer, this.floats.byteOffset, this.floats.byteLength);
      this.used = 0;
    }
    this.used += length;
    return this.used - length;
  }
}

/** Decode the base64 string whose quotes sit at `open` and `close - 1` into the slab. */
function decodeFloat32Base64(bytes: Buffer, open: number, close: number, slab: Slab): Float32Array {
  let text = bytes.toString('latin1', open + 1, close - 1);
  if (text.includes('\\')) {
    // Escaped (e.g. `\/`): rare; let JSON.parse unescape it.
    text = JSON.parse(bytes.toString('utf8', open, close)) as string;
  }
  let length = text.length;
  while (length > 0 && text.charCodeAt(length - 1) === EQUALS) length--;
  const byteLength = Math.floor((length * 3) / 4);
  if (byteLength % 4 !== 0)
    fail(OPENAI, `embedding of ${byteLength} bytes is not whole float32 values`, open);
  const floats = byteLength / 4;
  // Every embedding left takes at least as many bytes of the body as this one's base64 text.
  const start = slab.reserve(floats, Math.floor((bytes.length - open) / Math.max(1, close - open)));
  const written = slab.bytes.write(text, start * 4, byteLength, 'base64');
  // Node skips characters outside the alphabet, so invalid base64 decodes to fewer bytes.
  if (written !== byteLength) fail(OPENAI, 'embedding is not valid base64', open);
  const vector = slab.floats.subarray(start, start + floats);
  if (!hostIsLittleEndian) {
    const view = new DataView(vector.buffer, vector.byteOffset, byteLength);
    for (let i = 0; i < vector.length; i++) vector[i] = view.getFloat32(i * 4, true);
  }
  return vector;
}

/**
 * Visit each member of the object at `open`; `onMember` gets the key's position (its quotes
 * included) and returns the position after the value.
 */
function readObject(
  bytes: Buffer,
  open: number,
  onMember: (keyAt: number, keyEnd: number, valueAt: number) => number,
): number {
  let pos = skipWhitespace(bytes, open + 1);
  if (bytes[pos] === CLOSE_BRACE) return pos + 1;
  for (;;) {
    if (bytes[pos] !== QUOTE) fail(OPENAI, 'expected a key', pos);
    const keyEnd = skipString(bytes, pos);
    const keyAt = pos;
    pos = skipWhitespace(bytes, keyEnd);
    if (bytes[pos] !== COLON) fail(OPENAI, 'expected `:`', pos);
    pos = skipWhitespace(bytes, onMember(keyAt, keyEnd, skipWhitespace(bytes, pos + 1)));
    if (bytes[pos] === COMMA) pos = skipWhitespace(bytes, pos + 1);
    else if (bytes[pos] === CLOSE_BRACE) return pos + 1;
    else fail(OPENAI, 'expected `,` or `}`', pos);
  }
}

/** Whether the key between `keyAt` and `keyEnd` (quotes included) is `name`, without building a string. */
function keyIs(bytes: Buffer, keyAt: number, keyEnd: number, name: string): boolean {
  const length = keyEnd - keyAt - 2;
  if (length === name.length) {
    let i = 0;
    while (i < length && bytes[keyAt + 1 + i] === name.charCodeAt(i)) i++;
    if (i === length) return true;
  }
  // An escaped key (`"\u0064ata"`) may still spell the name.
  for (let i = keyAt + 1; i < keyEnd - 1; i++) {
    if (bytes[i] === BACKSLASH) return JSON.parse(bytes.toString('utf8', keyAt, keyEnd)) === name;
  }
  return false;
}

function readArray(bytes: Buffer, open: number, onItem: (itemAt: number) => number): number {
  let pos = skipWhitespace(bytes, open + 1);
  if (bytes[pos] === CLOSE_BRACKET) return pos + 1;
  for (;;) {
    pos = skipWhitespace(bytes, onItem(pos));
    if (bytes[pos] === COMMA) pos = skipWhitespace(bytes, pos + 1);
    else if (bytes[pos] === CLOSE_BRACKET) return pos + 1;
    else fail(OPENAI, 'expected `,` or `]`', pos);
  }
}

/** Position after the string whose opening quote is at `open`. */
function skipString(bytes: Buffer, open: number): number {
  let pos = open + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, pos);
    if (quote === -1) fail(OPENAI, 'unterminated string', open);
    // The quote is escaped when an odd number of backslashes precede it.
    let slashes = 0;
    while (bytes[quote - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    pos = quote + 1;
  }
}

/** Position after the JSON value at `at`, checked only as far as skipping needs. */
function skipValue(bytes: Buffer, at: number): number {
  const byte = bytes[at];
  if (byte === QUOTE) return skipString(bytes, at);
  if (byte === OPEN_BRACE) return readObject(bytes, at, (_, __, valueAt) => skipValue(bytes, valueAt));
  if (byte === OPEN_BRACKET) return readArray(bytes, at, (itemAt) => skipValue(bytes, itemAt));
  let pos = at;
  while (pos < bytes.length) {
    const c = bytes[pos]!;
    const scalar =
      (c >= ZERO && c <= NINE) ||
      c === MINUS ||
      c === PLUS ||
      c === DOT ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x45;
    if (!scalar) break;
    pos++;
  }
  if (pos === at) fail(OPENAI, 'expected a value', at);
  const literal = bytes.toString('latin1', at, pos);
  if (literal !== 'true' && literal !== 'false' && literal !== 'null' && Number.isNaN(Number(literal))) {
    fail(OPENAI, `invalid value \`${literal}\``, at);
  }
  return pos;
}
