import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { PointStructSchema } from '@qdrant/js-client-grpc';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TabootError } from '../../src/errors.js';
import { fingerprint } from '../../src/pipeline/fingerprint.js';
import { precomputedItem } from '../../src/pipeline/precomputed/prepared.js';
import { readSources } from '../../src/pipeline/precomputed/read-sources.js';
import { ReaderThreads } from '../../src/pipeline/precomputed/reader-threads.js';
import { toPoint } from '../../src/pipeline/work-item.js';
import { payloadToJson } from '../../src/qdrant/payload-json.js';
import type { DiscoveredFile } from '../../src/sources/discovered-file.js';
import type { ReadEvent, SourceDocument } from '../../src/sources/document.js';
import { readJsonlFile } from '../../src/sources/jsonl-reader.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'taboot-threads-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const noChunking = { chunkTokens: 0, chunkOverlap: 0, minChunkTokens: 0, model: '' };

function base64(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('base64');
}

/**
 * Every kind of line a reader meets: base64 and array vectors, text without a vector, a chunk read
 * back from --failed-out (with its vector), bad JSON, a missing text, a bad vector, a NaN, a blank
 * line, a line over the limit, CRLF and invalid UTF-8.
 */
function corpusLines(count: number): string[] {
  const lines: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const vector = [index / 7, -index / 11, 0.5, 1 / (index + 1)];
    const text = `Record ${index} about ${['scrape', 'alert', 'rule', 'storage'][index % 4]} ${'x'.repeat(index % 50)}`;
    switch (index % 13) {
      case 1:
        lines.push(
          JSON.stringify({ id: `r${index}`, text, vector, title: `Title ${index}`, tags: ['a', 'b'] }),
        );
        break;
      case 2:
        lines.push(JSON.stringify({ id: `r${index}`, content: text, created_at: '2024-01-02' }));
        break;
      case 3:
        lines.push(`{"id": "r${index}", "text": "broken`);
        break;
      case 4:
        lines.push(JSON.stringify({ id: `r${index}`, vector: base64(vector) }));
        break;
      case 5:
        lines.push(JSON.stringify({ id: `r${index}`, text, vector: 'not base64!' }));
        break;
      case 6:
        lines.push('');
        break;
      case 7:
        lines.push(
          JSON.stringify({ id: `r${index}`, text: `long ${'y'.repeat(3000)}`, vector: base64(vector) }),
        );
        break;
      case 8:
        lines.push(
          JSON.stringify({
            id: `r${index}`,
            text,
            vector: base64(vector),
            chunk_index: 2,
            chunk_count: 3,
            doc_hash: 'abc',
            failure: { stage: 'upsert', reason: 'refused', at: 'x.jsonl:1' },
          }),
        );
        break;
      case 9:
        lines.push(
          `${JSON.stringify({ id: `r${index}`, text, vector: base64(vector), source_url: 'https://x' })}\r`,
        );
        break;
      case 10:
        lines.push(
          JSON.stringify({ id: `r${index}`, text: `${text} \udc00`, vector: base64([Number.NaN, 1, 2, 3]) }),
        );
        break;
      default:
        lines.push(
          JSON.stringify({ id: `r${index}`, text, vector: base64(vector), service_name: 'prometheus' }),
        );
    }
  }
  return lines;
}

async function writeCorpus(name: string, count: number): Promise<DiscoveredFile> {
  const body = Buffer.concat([
    Buffer.from(`${corpusLines(count).join('\n')}\n`),
    Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), // {"text":"\xff"}
  ]);
  await writeFile(path.join(dir, name), body);
  return { root: dir, absolute: path.join(dir, name), relative: name, size: body.length };
}

async function collect(events: AsyncIterable<ReadEvent>): Promise<ReadEvent[]> {
  const all: ReadEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

/** An event as plain data: documents with their vectors as arrays (and no point attached). */
function plain(event: ReadEvent): unknown {
  if (event.kind === 'problem') return event;
  const { vector, ...rest } = event.document;
  return { ...Object.fromEntries(Object.entries(rest)), vector: vector ? Array.from(vector) : undefined };
}

describe('ReaderThreads', () => {
  it('gives the events the single-threaded reader gives, in order, from segments spread over threads', async () => {
    const file = await writeCorpus('mixed.jsonl', 600);
    const options = { maxLineBytes: 2048 };
    const expected = await collect(readJsonlFile(file, options));
    const threads = new ReaderThreads({ ...options, threads: 3, segmentBytes: 4096 });
    try {
      const got = await collect(threads.read(file));
      expect(got.map(plain)).toEqual(expected.map(plain));
      // The corpus has every kind of line in it.
      const reasons = got.flatMap((event) => (event.kind === 'problem' ? [event.problem.reason] : []));
      expect(reasons.some((reason) => reason.startsWith('invalid JSON'))).toBe(true);
      expect(reasons.some((reason) => reason.includes('over maxLineBytes'))).toBe(true);
      expect(reasons.some((reason) => reason.includes('invalid UTF-8'))).toBe(true);
      expect(reasons.some((reason) => reason.includes('must be a finite number'))).toBe(true);
      // A second file through the same threads.
      const again = await collect(threads.read(file));
      expect(again.map(plain)).toEqual(expected.map(plain));
    } finally {
      await threads.close();
    }
  });

  it('encodes each precomputed point as the main thread would build it', async () => {
    const file = await writeCorpus('points.jsonl', 300);
    const threads = new ReaderThreads({ threads: 2, segmentBytes: 4096 });
    let prepared = 0;
    try {
      for await (const event of threads.read(file)) {
        if (event.kind !== 'document' || !event.document.vector) continue;
        const document = event.document as SourceDocument & { vector: Float32Array };
        const item = precomputedItem(document, fingerprint(document, noChunking));
        const bytes = item.encoded;
        // A chunk read back from --failed-out keeps its own identity: it takes the usual way.
        if (document.metadata.failure !== undefined) {
          expect(bytes).toBeUndefined();
          continue;
        }
        expect(bytes).toBeDefined();
        prepared += 1;
        // A copy with another payload (as a dry run makes to size the vectors alone) drops the bytes.
        const point = toPoint(item as typeof item & { vector: Float32Array });
        expect(point.encoded).toBe(bytes);
        expect({ ...point, payload: {} }.encoded).toBeUndefined();
        const struct = fromBinary(PointStructSchema, bytes!);
        const { vector: _vector, ...withoutVector } = document;
        const reference = toPoint(
          precomputedItem(
            { ...withoutVector, vector: Float32Array.from(document.vector) },
            item.payload.doc_hash as string,
          ) as never,
        );
        expect(struct.id?.pointIdOptions.value).toBe(reference.id);
        expect(payloadToJson(struct.payload)).toEqual(reference.payload);
        const options = struct.vectors?.vectorsOptions;
        const dense = options?.case === 'vector' ? options.value.vector : undefined;
        if (dense?.case !== 'dense') throw new Error('expected one dense vector');
        expect(Float32Array.from(dense.value.data)).toEqual(document.vector);
        // Reading the payload drops the bytes: the point is then encoded from it.
        expect(item.encoded).toBeUndefined();
      }
    } finally {
      await threads.close();
    }
    expect(prepared).toBeGreaterThan(100);
  });

  it('fails the read with an error naming the thread when a thread throws, instead of waiting', async () => {
    const file = await writeCorpus('crash.jsonl', 200);
    const entry = new URL('../support/reader-thread-faults.ts', import.meta.url);
    const threads = new ReaderThreads({ threads: 2, segmentBytes: 4096, entry });
    try {
      const reading = collect(threads.read(file));
      await expect(reading).rejects.toThrow(TabootError);
      await expect(reading).rejects.toThrow(/a JSONL reader thread failed: .*segment 2 is cursed/);
    } finally {
      await threads.close();
    }
  });

  it('fails the read when a thread exits under it', async () => {
    const file = await writeCorpus('exit.jsonl', 200);
    const entry = new URL('../support/reader-thread-faults.ts', import.meta.url);
    entry.searchParams.set('exit', '1');
    const threads = new ReaderThreads({ threads: 1, segmentBytes: 4096, entry });
    try {
      await expect(collect(threads.read(file))).rejects.toThrow(
        /a JSONL reader thread failed: it exited with code 3/,
      );
    } finally {
      await threads.close();
    }
  });
});

describe('readSources', () => {
  it('reads JSONL larger than a segment on threads and everything else here, in file order', async () => {
    const big = await writeCorpus('big.jsonl', 400);
    await writeFile(path.join(dir, 'note.md'), '# Note\n\nA short note.\n');
    const small = await writeCorpus('small.jsonl', 3);
    const note = { root: dir, absolute: path.join(dir, 'note.md'), relative: 'note.md', size: 22 };
    const files = [small, big, note];
    const single = await collect(readSources(files, { threads: 0 }));
    const threaded = await collect(readSources(files, { threads: 2, segmentBytes: 4096 }));
    expect(threaded.map(plain)).toEqual(single.map(plain));
    expect(threaded.filter((event) => event.kind === 'document').length).toBeGreaterThan(200);
  });
});
