import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QdrantClient } from '@qdrant/js-client-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestSummary } from '../../src/pipeline/summary.js';
import { payloadToJson } from '../../src/qdrant/payload-json.js';
import { skipSuiteOnReal } from '../support/real-servers.js';
import { runCli } from '../support/run-cli.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';
import { startTeiServer } from '../support/tei-server/index.js';

/**
 * Precomputed vectors (JSONL with `vector`) through the built binary and the Qdrant test server,
 * whose counters tell what the run cost the server: calls per method and points scanned.
 */
skipSuiteOnReal('qdrant', "counts the server's calls and scanned points, which only the test server keeps");

const dim = 32;
let stack: TestStack;
let cwd: string;

beforeAll(async () => {
  stack = await startStack();
  cwd = mkdtempSync(join(tmpdir(), 'taboot-precomputed-'));
});
afterAll(async () => {
  await stack?.close();
});

function envFor(collection: string): Record<string, string> {
  return { TABOOT_QDRANT_URL: stack.qdrantUrl, TABOOT_TEI_URL: stack.teiUrl, TABOOT_COLLECTION: collection };
}

/** Creates the collection from a folder (a new one unless `dir`), with `config` as its taboot.config.json. */
async function createCollection(collection: string, config?: object, dir = mkdtempSync(join(cwd, 'run-'))) {
  if (config) writeFileSync(join(dir, 'taboot.config.json'), JSON.stringify(config));
  const created = await runCli(['collection', 'create', '--vector-size', String(dim)], {
    env: envFor(collection),
    cwd: dir,
  });
  expect(created.code, created.stderr).toBe(0);
  return dir;
}

async function ingest(collection: string, dir: string, args: string[]) {
  const result = await runCli(['ingest', ...args, '--json', '--progress', 'none'], {
    env: envFor(collection),
    cwd: dir,
    timeoutMs: 180_000,
  });
  let summary: IngestSummary | undefined;
  try {
    summary = JSON.parse(result.stdout) as IngestSummary;
  } catch {
    summary = undefined;
  }
  return { ...result, summary };
}

/** Seeded vectors as base64 float32, text long enough that the file spans several reads. */
function writeVectors(path: string, count: number, bad: Record<number, string> = {}): void {
  let state = 7;
  const random = () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  const lines: string[] = [];
  for (let line = 1; line <= count; line += 1) {
    const vector = Float32Array.from({ length: dim }, random);
    lines.push(
      bad[line] ??
        JSON.stringify({
          id: `doc-${line}`,
          text: `Document ${line}: ${'Prometheus scrapes targets and evaluates rules. '.repeat(3)}`,
          service_name: ['prometheus', 'alertmanager', 'grafana'][line % 3],
          tags: ['metrics', `t${line % 5}`],
          vector: Buffer.from(vector.buffer).toString('base64'),
        }),
    );
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

function official() {
  return new QdrantClient({ url: stack.qdrantUrl, checkCompatibility: false, compression: false });
}

/** Every point with its payload (as JSON) and vector, by id. */
async function collection(
  name: string,
): Promise<Map<string, { payload: Record<string, unknown>; vector: number[] }>> {
  const points = new Map<string, { payload: Record<string, unknown>; vector: number[] }>();
  let offset: { pointIdOptions: { case: 'uuid'; value: string } } | undefined;
  do {
    const page = await official()
      .api('points')
      .scroll({
        collectionName: name,
        limit: 1000,
        offset,
        withPayload: { selectorOptions: { case: 'enable', value: true } },
        withVectors: { selectorOptions: { case: 'enable', value: true } },
      });
    for (const point of page.result) {
      const options = point.vectors?.vectorsOptions;
      const vector = options?.case === 'vector' ? options.value.vector : undefined;
      points.set(String(point.id?.pointIdOptions.value), {
        payload: payloadToJson(point.payload),
        vector: vector?.case === 'dense' ? vector.value.data : [],
      });
    }
    const next = page.nextPageOffset?.pointIdOptions;
    offset = next?.case === 'uuid' ? { pointIdOptions: { case: 'uuid', value: next.value } } : undefined;
  } while (offset);
  return points;
}

function deletes(): number {
  return stack.qdrant!.calls.get('Points/Delete') ?? 0;
}

describe('taboot ingest of precomputed vectors (built binary, test Qdrant)', () => {
  it('writes the same collection on reader threads as on the main thread, deletes nothing and reports bad lines as file:line', async () => {
    const bad = {
      10: '{"id": "doc-10", "text": ',
      3001: JSON.stringify({ id: 'doc-3001', title: 'no text' }),
      5999: JSON.stringify({
        id: 'doc-5999',
        text: 'short',
        vector: Buffer.from(new Float32Array([1]).buffer).toString('base64'),
      }),
      // A good line naming its own source: the reader threads must write it as the main thread does.
      4000: JSON.stringify({
        id: 'doc-4000',
        text: 'A page of the handbook.',
        source: 'handbook',
        vector: Buffer.from(new Float32Array(dim).fill(0.1).buffer).toString('base64'),
      }),
    };
    const single = uniqueName('pre_single');
    const threaded = uniqueName('pre_threads');
    // One folder, so that both runs read the same source.
    const dir = await createCollection(single);
    await createCollection(threaded, undefined, dir);
    writeVectors(join(dir, 'vectors.jsonl'), 6000, bad);

    stack.qdrant!.counters.reset();
    const first = await ingest(single, dir, ['vectors.jsonl', '--read-workers', '0']);
    expect(first.code, first.stderr).toBe(3);
    expect(deletes()).toBe(0);
    stack.qdrant!.counters.reset();
    const second = await ingest(threaded, dir, ['vectors.jsonl', '--read-workers', '2']);
    expect(second.code, second.stderr).toBe(3);
    expect(deletes()).toBe(0);

    for (const run of [first, second]) {
      // The line whose vector has the wrong size is skipped as a malformed one is: no document.
      expect(run.summary).toMatchObject({ vectors: 5997, precomputed: 5997, skipped: 3, new: 5997 });
      expect(run.stderr).toMatch(/vectors\.jsonl:10\b.*invalid JSON/);
      expect(run.stderr).toMatch(/vectors\.jsonl:3001\b.*no `text` or `content` field/);
      expect(run.stderr).toMatch(/vectors\.jsonl:5999\b.*vector has 1 dimensions, the collection takes 32/);
    }
    const fromSingle = await collection(single);
    const fromThreads = await collection(threaded);
    expect(fromSingle.size).toBe(5997);
    expect(fromThreads).toEqual(fromSingle);
    const own = [...fromThreads.values()].find((point) => point.payload.doc_id === 'doc-4000');
    expect(own?.payload.source).toBe('handbook');
  });

  it('still deletes the surplus chunks of a document that shrank', async () => {
    const name = uniqueName('pre_shrink');
    const dir = await createCollection(name);
    writeVectors(join(dir, 'vectors.jsonl'), 50);
    const section = (n: number) =>
      `## Part ${n}\n\n${`Part ${n} of the guide explains scraping in detail. `.repeat(12)}\n`;
    writeFileSync(join(dir, 'guide.md'), `# Guide\n\n${[0, 1, 2, 3].map(section).join('\n')}`);
    const args = ['vectors.jsonl', 'guide.md', '--chunk-tokens', '128', '--chunk-overlap', '0'];
    // A TEI test server embeds the guide, with vectors of the collection's size.
    const tei = await startTeiServer({ dimensions: dim });
    try {
      const run = (args: string[]) =>
        runCli(['ingest', ...args, '--json', '--progress', 'none'], {
          env: { ...envFor(name), TABOOT_TEI_URL: tei.url },
          cwd: dir,
          timeoutMs: 120_000,
        });
      stack.qdrant!.counters.reset();
      const first = await run(args);
      expect(first.code, first.stderr).toBe(0);
      expect(deletes()).toBe(0);
      /** The guide's points, each as [chunk_index, chunk_count]. */
      const guide = async () =>
        [...(await collection(name)).values()]
          .map((point) => point.payload as { doc_id?: unknown; chunk_index?: unknown; chunk_count?: unknown })
          .filter((payload) => payload.doc_id === 'guide.md')
          .map((payload) => [payload.chunk_index, payload.chunk_count]);
      const before = await guide();
      expect(before.length).toBeGreaterThan(2);

      writeFileSync(join(dir, 'guide.md'), `# Guide\n\n${section(0)}`);
      stack.qdrant!.counters.reset();
      const second = await run(args);
      expect(second.code, second.stderr).toBe(0);
      expect(deletes()).toBeGreaterThan(0);
      const after = await guide();
      expect(after.length).toBeLessThan(before.length);
      expect(after.map(([, count]) => count)).toEqual(after.map(() => after.length));
    } finally {
      await tei.close();
    }
  });

  it('scans no more than twice the points it writes in a collection without payload indexes', async () => {
    const name = uniqueName('pre_noindex');
    const dir = await createCollection(name, { collection: { payloadIndexes: {} } });
    writeVectors(join(dir, 'vectors.jsonl'), 20_000);
    stack.qdrant!.counters.reset();
    const fresh = await ingest(name, dir, ['vectors.jsonl']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.summary!.vectors).toBe(20_000);
    expect(stack.qdrant!.counters.totals().scanned).toBeLessThanOrEqual(2 * 20_000);
    expect(deletes()).toBe(0);

    // Again, unchanged: the manifests are read by id, not found by scanning payloads.
    stack.qdrant!.counters.reset();
    const again = await ingest(name, dir, ['vectors.jsonl']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.summary).toMatchObject({ vectors: 0, unchanged: 20_000 });
    expect(stack.qdrant!.counters.totals().scanned).toBeLessThanOrEqual(2 * 20_000);
  });
});
