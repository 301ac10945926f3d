import { isUtf8 } from 'node:buffer';
import { errorMessage } from '../errors.js';
import {
  computeDocHash,
  emptyIfBlank,
  normaliseText,
  type ReadEvent,
  type SourceProblem,
} from './document.js';
import { describeValue, normaliseMetadata, readDocId } from './metadata.js';

/** Where a JSONL line came from and how to read it. */
export interface JsonlLineContext {
  source: string;
  /** Path relative to the ingest root (POSIX), for the document. */
  relative: string;
  /** Path as the user names it, for problems. */
  display: string;
  line: number;
  /** Field holding the text; when it is `text` (the default) and absent, `content` is tried. */
  textField: string;
  idField: string;
  /**
   * Where a vector is decoded; by default a new array. A reader that is done with each vector
   * before the next line (it encodes it at once) passes a buffer it reuses.
   */
  vectorArray?: ((length: number) => Float32Array) | undefined;
}

/**
 * Turns one JSONL line (its bytes, without `\n`) into a document and/or problems. A blank line gives
 * nothing. Skipped with an error: invalid JSON, a non-object, a missing, `null` or non-string text,
 * a bad id or vector. Warned about: invalid UTF-8 (decoded with U+FFFD), unreadable dates. An empty
 * or blank text string is an empty document (text `''`). `docId` is the id field (a non-blank
 * string, or an integer that JSON carries exactly), else `<relative>#<line>` when the id is absent
 * or `null`.
 */
export function parseJsonlLine(bytes: Buffer, context: JsonlLineContext): ReadEvent[] {
  const events: ReadEvent[] = [];
  const problem = (reason: string, severity: SourceProblem['severity'], field?: string): void => {
    const entry: SourceProblem = { file: context.display, line: context.line, reason, severity };
    if (field !== undefined) entry.field = field;
    events.push({ kind: 'problem', problem: entry });
  };

  let body = bytes;
  if (context.line === 1 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  if (body.length > 0 && body[body.length - 1] === 13) body = body.subarray(0, body.length - 1);
  if (!isUtf8(body)) problem('invalid UTF-8; decoded with replacement characters', 'warning');
  const raw = body.toString('utf8');
  if (raw.trim() === '') return events;

  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    problem(`invalid JSON: ${errorMessage(error)}`, 'error');
    return events;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problem(`expected a JSON object, got ${describeValue(value)}`, 'error');
    return events;
  }
  const record = value as Record<string, unknown>;

  const textField = context.textField === 'text' && record.text === undefined ? 'content' : context.textField;
  const text = record[textField];
  if (text === undefined) {
    const names =
      context.textField === 'text' ? '`text` or `content` field' : `\`${context.textField}\` field`;
    problem(`no ${names}`, 'error', context.textField);
    return events;
  }
  if (typeof text !== 'string') {
    problem(`\`${textField}\` must be a string, got ${describeValue(text)}`, 'error', textField);
    return events;
  }

  let docId = `${context.relative}#${context.line}`;
  const id = readDocId(record[context.idField]);
  if (id && 'reason' in id) {
    problem(`\`${context.idField}\` ${id.reason}`, 'error', context.idField);
    return events;
  }
  if (id) docId = id.id;

  let vector: Float32Array | undefined;
  if (record.vector !== undefined && record.vector !== null) {
    const parsed = parseVector(record.vector, context.vectorArray ?? newArray);
    if (typeof parsed === 'string') {
      problem(parsed, 'error', 'vector');
      return events;
    }
    vector = parsed;
  }

  const fields: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(record)) {
    if (key !== textField && key !== context.idField && key !== 'vector') fields[key] = inner;
  }
  const { metadata, problems } = normaliseMetadata(fields);
  for (const entry of problems) problem(entry.reason, 'warning', entry.field);

  const normalised = emptyIfBlank(normaliseText(text));
  const document: Extract<ReadEvent, { kind: 'document' }>['document'] = {
    docId,
    source: context.source,
    file: context.relative,
    line: context.line,
    text: normalised,
    format: 'markdown',
    metadata,
    docHash: computeDocHash(normalised, metadata, vector),
  };
  if (typeof metadata.title === 'string' && metadata.title.trim() !== '')
    document.title = metadata.title.trim();
  if (vector) document.vector = vector;
  events.push({ kind: 'document', document });
  return events;
}

/**
 * A Float32Array, or the reason the value is not a usable vector. Two forms: an array of numbers,
 * or a base64 string of little-endian float32 (what TEI and OpenAI answer with
 * `encoding_format: "base64"`), which an embedding cache can store compactly and which decodes
 * far faster than a JSON array of floats.
 */
const newArray = (length: number) => new Float32Array(length);

function parseVector(value: unknown, allocate: (length: number) => Float32Array): Float32Array | string {
  if (typeof value === 'string') return parseBase64Vector(value, allocate);
  if (!Array.isArray(value)) return `\`vector\` must be an array of numbers, got ${describeValue(value)}`;
  if (value.length === 0) return '`vector` is empty';
  const vector = allocate(value.length);
  for (let index = 0; index < value.length; index++) {
    const element: unknown = value[index];
    if (typeof element !== 'number' || !Number.isFinite(element)) {
      return `\`vector[${index}]\` must be a finite number, got ${describeValue(element)}`;
    }
    vector[index] = element;
    if (!Number.isFinite(vector[index]!)) return `\`vector[${index}]\` is out of float32 range: ${element}`;
  }
  return vector;
}

function parseBase64Vector(value: string, allocate: (length: number) => Float32Array): Float32Array | string {
  if (value.length === 0) return '`vector` is empty';
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  const expectedBytes = (value.length / 4) * 3 - padding;
  if (value.length % 4 !== 0 || expectedBytes % 4 !== 0) return notBase64(value, expectedBytes);
  // Decoded straight into the vector's own (aligned) memory: no intermediate buffer. Node skips
  // characters that are not base64 instead of failing, so a short write means a bad string.
  const vector = allocate(expectedBytes / 4);
  const written = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).write(value, 'base64');
  if (written !== expectedBytes) return notBase64(value, expectedBytes);
  if (!littleEndian) {
    const bytes = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
    for (let index = 0; index < vector.length; index++) vector[index] = bytes.readFloatLE(index * 4);
  }
  // A NaN or an infinity anywhere makes the sum one too: one pass of additions, then, only when it
  // is not finite, a second pass to name the first bad value.
  let sum = 0;
  for (let index = 0; index < vector.length; index++) sum += vector[index]!;
  if (Number.isFinite(sum)) return vector;
  for (let index = 0; index < vector.length; index++) {
    if (!Number.isFinite(vector[index]!))
      return `\`vector[${index}]\` must be a finite number, got ${vector[index]}`;
  }
  return vector;
}

function notBase64(value: string, expectedBytes: number): string {
  if (value.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    return `\`vector\` in base64 must hold whole float32 values, got ${expectedBytes} bytes`;
  }
  return '`vector` must be an array of numbers or base64 float32, got a string that is not base64';
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
