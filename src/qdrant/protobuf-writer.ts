/**
 * Protobuf wire primitives for the two-pass point encoder: a sizing pass records the length of every
 * length-delimited field into a flat table (pre-order), and the writing pass replays that table, so
 * nothing is sized twice and the output is allocated exactly once.
 *
 * State is module-level because encoding is synchronous: one message is sized and written at a time.
 */

/** Lengths recorded by the sizing pass, consumed in the same order by the writing pass. */
let table = new Int32Array(4096);
let tableLength = 0;
let tableCursor = 0;

export const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Start a sizing pass. */
export function resetSizes(): void {
  tableLength = 0;
}

/** Reserve the next slot of the length table; fill it with `setSize` once the length is known. */
export function reserveSize(): number {
  if (tableLength === table.length) {
    const grown = new Int32Array(table.length * 2);
    grown.set(table);
    table = grown;
  }
  return tableLength++;
}

export function setSize(slot: number, size: number): void {
  if (size > 0x7fffffff) throw new RangeError(`protobuf message too large: ${size} bytes`);
  table[slot] = size;
}

/** UTF-8 byte length of `text`, recorded for the writing pass. */
export function sizeString(text: string): number {
  const length = text.length > 64 ? Buffer.byteLength(text, 'utf8') : utf8Length(text);
  // Reserve first: reserving may replace `table`.
  const slot = reserveSize();
  table[slot] = length;
  return length;
}

/**
 * UTF-8 length counted in JS: for short strings (keys, tags) it beats the native call. Lone
 * surrogates count 3 bytes, the U+FFFD that Buffer#write puts in their place.
 */
function utf8Length(text: string): number {
  const n = text.length;
  let length = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) length += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 2; // a pair: 4 bytes for 2 units
        i++;
      } else length += 2;
    } else length += 2;
  }
  return length;
}

/** Bytes of a varint holding a non-negative integer below 2^35. */
export function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** Bytes of a varint holding a non-negative safe integer (up to 2^53 - 1). */
export function uintSize(value: number): number {
  if (value < 0x10000000) return varintSize(value);
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** Bytes of a varint holding a 64-bit value split into unsigned 32-bit halves. */
export function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varintSize(lo);
  let size = 1;
  while (hi > 0 || lo > 0x7f) {
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
    size++;
  }
  return size;
}

/** Bytes a length-delimited field's prefix plus its `length` bytes of content take (tag excluded). */
export function delimitedSize(length: number): number {
  return varintSize(length) + length;
}

/** The output of one writing pass: a buffer allocated once at its exact final size. */
export class ExactWriter {
  readonly bytes: Buffer;
  readonly view: DataView;
  pos = 0;

  /** `into`, when given, must hold at least `size` bytes; the message is written at its start. */
  constructor(size: number, into?: Uint8Array) {
    if (into !== undefined && into.byteLength < size) {
      throw new RangeError(`output buffer of ${into.byteLength} bytes cannot hold ${size}`);
    }
    // Every byte is written before the buffer is returned, so it need not be zero-filled.
    this.bytes = into ? Buffer.from(into.buffer, into.byteOffset, size) : Buffer.allocUnsafeSlow(size);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, size);
    tableCursor = 0;
  }

  /** The next length recorded by the sizing pass. */
  nextSize(): number {
    return table[tableCursor++]!;
  }

  byte(value: number): void {
    this.bytes[this.pos++] = value;
  }

  /** A varint below 2^31 (tags, lengths). */
  varint(value: number): void {
    const bytes = this.bytes;
    let pos = this.pos;
    while (value > 0x7f) {
      bytes[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    bytes[pos++] = value;
    this.pos = pos;
  }

  /** A varint of a non-negative safe integer. */
  uint(value: number): void {
    if (value < 0x80000000) {
      this.varint(value);
      return;
    }
    while (value > 0x7f) {
      this.bytes[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.pos++] = value;
  }

  /** A varint of a 64-bit value given as unsigned 32-bit halves. */
  varint64(lo: number, hi: number): void {
    while (hi > 0 || lo > 0x7f) {
      this.bytes[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.bytes[this.pos++] = lo;
  }

  /** `length` is the UTF-8 byte length recorded by `sizeString`. */
  string(text: string, length: number): void {
    if (length === text.length && length < 48) {
      // Pure ASCII (one byte per UTF-16 unit): a loop beats the native call for short keys.
      const bytes = this.bytes;
      let pos = this.pos;
      for (let i = 0; i < length; i++) bytes[pos++] = text.charCodeAt(i);
      this.pos = pos;
      return;
    }
    // One byte per unit means ASCII, which latin1 copies without transcoding.
    this.pos += this.bytes.write(text, this.pos, length, length === text.length ? 'latin1' : 'utf8');
  }

  double(value: number): void {
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** Raw little-endian float32 values, as a packed `repeated float` field stores them. */
  floats(vector: Float32Array): void {
    if (hostIsLittleEndian) {
      this.bytes.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), this.pos);
      this.pos += vector.byteLength;
      return;
    }
    for (let i = 0; i < vector.length; i++) {
      this.view.setFloat32(this.pos, vector[i]!, true);
      this.pos += 4;
    }
  }
}

/** Split a uint64 (`0 <= value < 2^64`) into unsigned 32-bit halves. */
export function splitUint64(value: number | bigint): [lo: number, hi: number] {
  if (typeof value === 'bigint') {
    return [Number(value & 0xffffffffn), Number((value >> 32n) & 0xffffffffn)];
  }
  const hi = Math.floor(value / 0x100000000);
  return [value - hi * 0x100000000, hi];
}

/** Two's-complement halves of a negative safe integer, as int64 varints carry it. */
export function splitNegativeInt64(value: number): [lo: number, hi: number] {
  const hi = Math.floor(value / 0x100000000);
  return [(value - hi * 0x100000000) >>> 0, hi >>> 0];
}
