import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/bench/vectors.js';
import type { DiscoveredFile } from '../../src/sources/discovered-file.js';
import type { ReadEvent, SourceDocument, SourceProblem } from '../../src/sources/document.js';
import { displayPath, formatProblem } from '../../src/sources/document.js';
import { readJsonlFile } from '../../src/sources/jsonl-reader.js';
import {
  forEachLine,
  type ReadInto,
  type SegmentOptions,
  segmentLines,
} from '../../src/sources/line-splitter.js';

const fixtures = path.resolve(import.meta.dirname, '../../fixtures/sources');

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'taboot-jsonl-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fileAt(root: string, relative: string): DiscoveredFile {
  return { root, absolute: path.join(root, relative), relative, size: 0 };
}

async function writeTemp(name: string, content: string | Buffer): Promise<DiscoveredFile> {
  await writeFile(path.join(dir, name), content);
  return fileAt(dir, name);
}

async function collect(
  events: AsyncIterable<ReadEvent>,
): Promise<{ documents: SourceDocument[]; problems: SourceProblem[] }> {
  const documents: SourceDocument[] = [];
  const problems: SourceProblem[] = [];
  for await (const event of events) {
    if (event.kind === 'document') documents.push(event.document);
    else problems.push(event.problem);
  }
  return { documents, problems };
}

describe('readJsonlFile', () => {
  it('reads ids, text or content, vectors and the remaining fields as metadata', async () => {
    const { documents, problems } = await collect(
      readJsonlFile(fileAt(`${fixtures}/docs`, 'data/records.jsonl')),
    );
    expect(problems).toEqual([]);
    expect(documents.map((document) => [document.docId, document.line, document.text])).toEqual([
      ['rec-1', 1, 'First record about alerting.'],
      ['42', 2, 'Second record, text under content.'],
      ['data/records.jsonl#3', 3, 'Third record without an id.'],
    ]);
    expect(documents[0]!.source).toBe('docs');
    expect(documents[0]!.file).toBe('data/records.jsonl');
    expect(documents[0]!.metadata).toEqual({ service_name: 'alertmanager', created_at: 1704164645 });
    expect(documents[1]!.metadata).toEqual({ date: 1700000000, created_at: 1700000000 });
    expect(documents[2]!.vector).toEqual(new Float32Array([0.5, -0.25, 1]));
    expect(documents[2]!.metadata).toEqual({});
    expect(documents[0]!.vector).toBeUndefined();
    expect(documents[0]!.docHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reports bad lines as file:line and goes on reading', async () => {
    const file = fileAt(`${fixtures}/bad`, 'lines.jsonl');
    const { documents, problems } = await collect(readJsonlFile(file));
    expect(documents.map((document) => document.docId)).toEqual(['ok-1', 'ok-2']);
    expect(documents[1]!.line).toBe(7);
    const display = displayPath(file.absolute);
    expect(display).toBe('fixtures/sources/bad/lines.jsonl');
    const lines = problems.map(formatProblem);
    expect(lines[0]).toMatch(new RegExp(`^${display}:3: invalid JSON: `));
    expect(lines.slice(1)).toEqual([
      `${display}:4: expected a JSON object, got an array`,
      `${display}:5: no \`text\` or \`content\` field`,
      `${display}:6: \`vector[1]\` must be a finite number, got the string "two"`,
    ]);
    expect(problems.map((problem) => [problem.field, problem.severity])).toEqual([
      [undefined, 'error'],
      [undefined, 'error'],
      ['text', 'error'],
      ['vector', 'error'],
    ]);
  });

  it('strips a BOM, reads CRLF lines and skips blank ones', async () => {
    const file = await writeTemp(
      'crlf.jsonl',
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('{"id":"a","text":"one\\r\\ntwo"}\r\n\r\n  \r\n{"id":"b","text":"three"}\r\n'),
      ]),
    );
    const { documents, problems } = await collect(readJsonlFile(file));
    expect(problems).toEqual([]);
    expect(documents.map((document) => [document.docId, document.line, document.text])).toEqual([
      ['a', 1, 'one\ntwo'],
      ['b', 4, 'three'],
    ]);
  });

  it('reads a last line without a newline', async () => {
    const file = await writeTemp('tail.jsonl', '{"text":"a"}\n{"text":"b"}');
    const { documents } = await collect(readJsonlFile(file));
    expect(documents.map((document) => document.text)).toEqual(['a', 'b']);
  });

  it('decodes invalid UTF-8 with replacement characters and warns once for the line', async () => {
    const file = await writeTemp(
      'latin1.jsonl',
      Buffer.concat([Buffer.from('{"id":"x","text":"caf'), Buffer.from([0xe9, 0xff]), Buffer.from('"}\n')]),
    );
    const { documents, problems } = await collect(readJsonlFile(file));
    expect(documents[0]!.text).toBe('caf\uFFFD\uFFFD');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      line: 1,
      severity: 'warning',
      reason: 'invalid UTF-8; decoded with replacement characters',
    });
  });

  it('skips a line over maxLineBytes without keeping it, then reads the next line', async () => {
    const long = Buffer.alloc(20 * 1024 * 1024, 'a'.charCodeAt(0));
    const file = await writeTemp(
      'long.jsonl',
      Buffer.concat([
        Buffer.from('{"id":"before","text":"x"}\n{"text":"'),
        long,
        Buffer.from('"}\n{"id":"after","text":"y"}\n'),
      ]),
    );
    const { documents, problems } = await collect(readJsonlFile(file, { maxLineBytes: 1024 * 1024 }));
    expect(documents.map((document) => [document.docId, document.line])).toEqual([
      ['before', 1],
      ['after', 3],
    ]);
    expect(problems).toEqual([
      {
        file: displayPath(file.absolute),
        line: 2,
        reason: `line is ${long.length + 11} bytes, over maxLineBytes (1048576); skipped`,
        severity: 'error',
      },
    ]);
  });

  it('uses the configured text and id fields', async () => {
    const file = await writeTemp(
      'fields.jsonl',
      '{"key":"k1","body":"hello","text":"kept as metadata"}\n{"body":"no key"}\n',
    );
    const { documents } = await collect(readJsonlFile(file, { textField: 'body', idField: 'key' }));
    expect(documents.map((document) => [document.docId, document.text])).toEqual([
      ['k1', 'hello'],
      ['fields.jsonl#2', 'no key'],
    ]);
    expect(documents[0]!.metadata).toEqual({ text: 'kept as metadata' });
  });

  it('rejects a configured text field that is missing, without falling back to content', async () => {
    const file = await writeTemp('body.jsonl', '{"content":"not used"}\n');
    const { documents, problems } = await collect(readJsonlFile(file, { textField: 'body' }));
    expect(documents).toEqual([]);
    expect(problems[0]).toMatchObject({ field: 'body', reason: 'no `body` field', severity: 'error' });
  });

  it('reports text, id and vector of the wrong type', async () => {
    const file = await writeTemp(
      'types.jsonl',
      [
        '{"text": 5}',
        '{"text": "x", "id": {"a": 1}}',
        '{"text": "x", "vector": "0.1,0.2"}',
        '{"text": "x", "vector": []}',
        '{"text": "x", "vector": [1e39]}',
        '{"text": null}',
      ].join('\n'),
    );
    const { documents, problems } = await collect(readJsonlFile(file));
    expect(documents).toEqual([]);
    expect(
      problems.map((problem) => [problem.line, problem.field, problem.severity, problem.reason]),
    ).toEqual([
      [1, 'text', 'error', '`text` must be a string, got number 5'],
      [2, 'id', 'error', '`id` must be a non-blank string or an integer, got an object'],
      [
        3,
        'vector',
        'error',
        '`vector` must be an array of numbers or base64 float32, got a string that is not base64',
      ],
      [4, 'vector', 'error', '`vector` is empty'],
      [5, 'vector', 'error', '`vector[0]` is out of float32 range: 1e+39'],
      [6, 'text', 'error', '`text` must be a string, got null'],
    ]);
  });

  it('reads an empty or blank text as an empty document that keeps its id and fields', async () => {
    const file = await writeTemp(
      'empty-text.jsonl',
      '{"id": "gone", "text": "", "tag": "a"}\n{"id": "blank", "content": " \\n\\t "}\n',
    );
    const { documents, problems } = await collect(readJsonlFile(file));
    expect(problems).toEqual([]);
    expect(documents.map((document) => [document.docId, document.text, document.metadata])).toEqual([
      ['gone', '', { tag: 'a' }],
      ['blank', '', {}],
    ]);
  });

  it('takes integer ids exactly, names a line by its number when the id is null, and skips ids it cannot keep', async () => {
    const file = await writeTemp(
      'ids.jsonl',
      [
        '{"id": 42, "text": "a"}',
        '{"id": null, "text": "b"}',
        '{"id": 12345678901234567890, "text": "c"}',
        '{"id": 1.5, "text": "d"}',
        '{"id": "  ", "text": "e"}',
        '{"id": true, "text": "f"}',
        '{"id": -7, "text": "g"}',
      ].join('\n'),
    );
    const { documents, problems } = await collect(readJsonlFile(file));
    expect(documents.map((document) => [document.line, document.docId])).toEqual([
      [1, '42'],
      [2, 'ids.jsonl#2'],
      [7, '-7'],
    ]);
    expect(
      problems.map((problem) => [problem.line, problem.field, problem.severity, problem.reason]),
    ).toEqual([
      [
        3,
        'id',
        'error',
        '`id` is an integer over 2^53, which JSON numbers cannot hold exactly; write it as a string',
      ],
      [4, 'id', 'error', '`id` must be a non-blank string or an integer, got number 1.5'],
      [5, 'id', 'error', '`id` must be a non-blank string or an integer, got the string "  "'],
      [6, 'id', 'error', '`id` must be a non-blank string or an integer, got boolean true'],
    ]);
  });

  it('reads a vector given as base64 little-endian float32, as TEI and OpenAI encode it', async () => {
    const values = new Float32Array([0.5, -0.25, 1, 3.5e-8]);
    const base64 = Buffer.from(values.buffer).toString('base64');
    const odd = Buffer.from([1, 2, 3, 4, 5, 6]).toString('base64');
    const file = await writeTemp(
      'base64.jsonl',
      [JSON.stringify({ text: 'a', vector: base64 }), JSON.stringify({ text: 'b', vector: odd })].join('\n'),
    );
    const { documents, problems } = await collect(readJsonlFile(file));
    expect(documents[0]!.vector).toEqual(values);
    expect(problems).toMatchObject([
      { line: 2, field: 'vector', reason: '`vector` in base64 must hold whole float32 values, got 6 bytes' },
    ]);
  });

  it('yields nothing for an empty file and skips a binary one as an error', async () => {
    const empty = await writeTemp('empty.jsonl', '');
    const blank = await writeTemp('blank.jsonl', '\n  \n\r\n');
    const binary = await writeTemp('blob.jsonl', Buffer.from([0x7b, 0x00, 0x01, 0x02, 0x0a]));
    expect(await collect(readJsonlFile(empty))).toEqual({ documents: [], problems: [] });
    expect(await collect(readJsonlFile(blank))).toEqual({ documents: [], problems: [] });
    expect(await collect(readJsonlFile(binary))).toEqual({
      documents: [],
      problems: [
        { file: displayPath(binary.absolute), reason: 'binary file (NUL bytes); skipped', severity: 'error' },
      ],
    });
  });

  it('reads a failed-chunks file back: its extra fields land in metadata', async () => {
    const file = await writeTemp(
      'failed.jsonl',
      `${JSON.stringify({ id: 'doc-7', text: 'chunk text', chunk_index: 3, section: 'A > B', failure: { reason: 'x' } })}\n`,
    );
    const { documents } = await collect(readJsonlFile(file));
    expect(documents[0]).toMatchObject({ docId: 'doc-7', text: 'chunk text' });
    expect(documents[0]!.metadata).toEqual({ chunk_index: 3, section: 'A > B', failure: { reason: 'x' } });
  });

  it('gives the same docHash for the same content and a different one when a field changes', async () => {
    const file = await writeTemp(
      'hash.jsonl',
      '{"id":"a","text":"t","x":1,"y":2}\n{"id":"a","y":2,"x":1,"text":"t"}\n{"id":"a","text":"t","x":1,"y":3}\n{"id":"a","text":"t","x":1,"y":2,"vector":[1]}\n',
    );
    const { documents } = await collect(readJsonlFile(file));
    const hashes = documents.map((document) => document.docHash);
    expect(hashes[0]).toBe(hashes[1]);
    expect(new Set(hashes).size).toBe(3);
  });
});

/** A stream served in the given parts, one (or, if it does not fit, part of one) per read. */
function partsReader(...parts: Array<string | Buffer>): ReadInto {
  const queue = parts.map((part) => Buffer.from(part));
  return async (into, offset, length) => {
    const next = queue[0];
    if (!next) return 0;
    const n = Math.min(length, next.length);
    into.set(next.subarray(0, n), offset);
    if (n === next.length) queue.shift();
    else queue[0] = next.subarray(n);
    return n;
  };
}

/** Segments as `[line, text]` per line, `[line, 'too long <n>']` and `'binary'`. */
async function splitAll(read: ReadInto, options: SegmentOptions): Promise<Array<[number, string] | string>> {
  const out: Array<[number, string] | string> = [];
  for await (const segment of segmentLines(read, options)) {
    if (segment.kind === 'binary') out.push('binary');
    else if (segment.kind === 'too-long') out.push([segment.line, `too long ${segment.length}`]);
    else forEachLine(segment, (bytes, line) => out.push([line, bytes.toString()]));
  }
  return out;
}

describe('segmentLines', () => {
  it('joins a line spread over several reads and numbers lines from 1', async () => {
    expect(
      await splitAll(partsReader('ab', 'c\nd', 'e\n\nf'), { maxLineBytes: 100, segmentBytes: 64 }),
    ).toEqual([
      [1, 'abc'],
      [2, 'de'],
      [3, ''],
      [4, 'f'],
    ]);
  });

  it('reports a line over the limit by its length, across reads, then reads the next line', async () => {
    expect(await splitAll(partsReader('12345', '6789\nok'), { maxLineBytes: 8, segmentBytes: 64 })).toEqual([
      [1, 'too long 9'],
      [2, 'ok'],
    ]);
  });

  it('reports a long line inside one read between the lines around it, and a long last line', async () => {
    const read = partsReader('a\n0123456789\nb\ncdefghijklmn');
    expect(await splitAll(read, { maxLineBytes: 5, segmentBytes: 64 })).toEqual([
      [1, 'a'],
      [2, 'too long 10'],
      [3, 'b'],
      [4, 'too long 12'],
    ]);
  });

  it('grows past segmentBytes for a line that is long but within the limit', async () => {
    const long = 'x'.repeat(50);
    const read = partsReader(`${long}\nshort\n${long}y`);
    expect(await splitAll(read, { maxLineBytes: 100, segmentBytes: 8 })).toEqual([
      [1, long],
      [2, 'short'],
      [3, `${long}y`],
    ]);
  });

  it('yields only `binary` for a NUL in the head, even when it arrives in a later read', async () => {
    const read = partsReader('{"a":1}\n', 'ab\0c\n');
    expect(await splitAll(read, { maxLineBytes: 100, segmentBytes: 4, sniffBytes: 64 })).toEqual(['binary']);
    const late = partsReader(`${'{"a":1}\n'.repeat(4)}`, '\0\n');
    expect(await splitAll(late, { maxLineBytes: 100, segmentBytes: 64, sniffBytes: 8 })).toEqual([
      [1, '{"a":1}'],
      [2, '{"a":1}'],
      [3, '{"a":1}'],
      [4, '{"a":1}'],
      [5, '\0'],
    ]);
  });

  it('cuts any stream into the lines a plain split finds, whatever the read and segment sizes', async () => {
    const random = mulberry32(5);
    for (let round = 0; round < 200; round += 1) {
      const maxLineBytes = 1 + Math.floor(random() * 12);
      const lines = Array.from({ length: Math.floor(random() * 12) }, () =>
        'abcdefghijklmnopqrstuvwxyz'.slice(0, Math.floor(random() * 20)),
      );
      const text = lines.join('\n') + (random() < 0.5 ? '\n' : '');
      const expected = text === '' ? [] : text.split('\n');
      if (text.endsWith('\n')) expected.pop();
      const parts: string[] = [];
      for (let at = 0; at < text.length; ) {
        const size = 1 + Math.floor(random() * 9);
        parts.push(text.slice(at, at + size));
        at += size;
      }
      const segmentBytes = 1 + Math.floor(random() * 16);
      const got = await splitAll(partsReader(...parts), { maxLineBytes, segmentBytes });
      expect(got).toEqual(
        expected.map((line, index) =>
          line.length > maxLineBytes ? [index + 1, `too long ${line.length}`] : [index + 1, line],
        ),
      );
    }
  });
});
