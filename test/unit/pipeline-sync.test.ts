import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import type { Embedder, EmbedderInfo, EmbedResult } from '../../src/embed/embedder.js';
import { TabootError } from '../../src/errors.js';
import { type IngestEvents, type IngestOutcome, runIngest } from '../../src/pipeline/ingest.js';
import { SyncState } from '../../src/pipeline/sync-state.js';
import type { SourceProblem } from '../../src/sources/document.js';
import { MemoryQdrant } from '../support/memory-qdrant.js';

/** Deterministic 8-dimensional vectors from the text, so that collections can be compared exactly. */
class HashEmbedder implements Embedder {
  readonly warnings: string[] = [];
  requests = 0;
  texts = 0;
  constructor(
    private readonly model = 'test/hash-embedder',
    private readonly reject: (text: string) => boolean = () => false,
  ) {}
  async describe(): Promise<EmbedderInfo> {
    return {
      modelId: this.model,
      limits: { maxInputs: 8, maxTokens: 100_000, maxBytes: 1 << 20 },
      maxInputTokens: 10_000,
      route: 'test',
    };
  }
  async dimensions(): Promise<number> {
    return 8;
  }
  async close(): Promise<void> {}
  async embed(texts: readonly string[]): Promise<EmbedResult> {
    this.requests += 1;
    this.texts += texts.length;
    const { ServiceError } = await import('../../src/errors.js');
    if (texts.some(this.reject)) {
      throw new ServiceError('tei', 'test', 'answered 422: refused', { code: '422', rejectedInput: true });
    }
    return {
      vectors: texts.map((text) => {
        const digest = createHash('sha256').update(text).digest();
        return Float32Array.from({ length: 8 }, (_, index) => digest[index]! / 255);
      }),
      tokens: undefined,
      queueMs: undefined,
      inferenceMs: undefined,
    };
  }
}

const config = configSchema.parse({
  collection: { name: 'docs', vectorSize: 8 },
  ingest: { chunkTokens: 48, chunkOverlap: 0, batchSize: 4, parallel: 2 },
  tei: { concurrency: 2 },
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'taboot-sync-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const paragraph = (topic: string, n: number) =>
  `${`${topic} keeps its samples in blocks and answers queries about them, part ${n}. `.repeat(4)}\n`;
/** A page of `sections` sections: about one chunk per section at 48 tokens. */
const page = (title: string, sections: number) =>
  `# ${title}\n\n${Array.from({ length: sections }, (_, n) => `## Part ${n}\n\n${paragraph(title, n)}`).join('\n')}`;

function write(name: string, text: string): void {
  writeFileSync(join(dir, name), text);
}

interface Run {
  outcome: IngestOutcome;
  problems: SourceProblem[];
  embedder: HashEmbedder;
}

async function ingest(
  qdrant: MemoryQdrant,
  options: { embedder?: HashEmbedder; reembed?: boolean; prune?: boolean; root?: string } = {},
): Promise<Run> {
  const embedder = options.embedder ?? new HashEmbedder();
  const problems: SourceProblem[] = [];
  const events: IngestEvents = {
    onProblem: (problem) => problems.push(problem),
    onFailure: () => {},
    onRetry: () => {},
  };
  const outcome = await runIngest(
    {
      paths: [options.root ?? dir],
      config,
      onError: 'skip',
      failedOut: undefined,
      reembed: options.reembed,
      prune: options.prune,
      signal: new AbortController().signal,
    },
    {
      embedder,
      sink: qdrant,
      store: qdrant,
      dimensions: 8,
      startedEmpty: qdrant.points.size === 0,
      syncState: new SyncState(qdrant.metadata, (entries) => qdrant.writeMetadata(entries)),
    },
    events,
  );
  return { outcome, problems, embedder };
}

/** The collection a clean ingest of the folder as it is now gives. */
async function cleanSnapshot() {
  const fresh = new MemoryQdrant();
  const run = await ingest(fresh);
  expect(run.outcome.fatal).toBeUndefined();
  return fresh.snapshot();
}

describe('sync', () => {
  it('embeds and upserts nothing when nothing changed', async () => {
    write('a.md', page('Alpha', 4));
    write('b.md', page('Beta', 3));
    write('c.jsonl', `${JSON.stringify({ id: 'c1', text: 'one line' })}\n`);
    const qdrant = new MemoryQdrant();
    const first = await ingest(qdrant);
    expect(first.outcome.stats.vectorsUpserted).toBeGreaterThan(7);
    const upserts = qdrant.calls.upsert;

    const second = await ingest(qdrant);
    expect(second.embedder.requests).toBe(0);
    expect(qdrant.calls.upsert).toBe(upserts);
    expect(second.outcome.stats.documentsUnchanged).toBe(3);
    expect(second.outcome.stats.vectorsUpserted).toBe(0);
  });

  it('after edits, deletions, an emptied and an added file, rewrites only those and ends equal to a clean ingest', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) write(`${name}.md`, page(name.toUpperCase(), 3));
    const qdrant = new MemoryQdrant();
    await ingest(qdrant);

    write('a.md', page('A', 5)); // grew
    write('b.md', page('B', 1)); // shrank
    write('c.md', page('C', 3).replace('Part 1', 'Part one')); // same size, other text
    unlinkSync(join(dir, 'd.md'));
    unlinkSync(join(dir, 'e.md'));
    write('f.md', '---\ntitle: F\n---\n'); // front matter only
    write('h.md', page('H', 2));
    const sync = await ingest(qdrant, { prune: true });
    const { stats } = sync.outcome;
    expect(sync.outcome.fatal).toBeUndefined();
    expect(stats.documentsUnchanged).toBe(1); // g
    expect(stats.documentsChanged).toBe(3);
    expect(stats.documentsNew).toBe(1);
    expect(stats.documentsPruned).toBe(2);
    // Only the chunks of a, b, c and h went to the embedder.
    const expected = await cleanSnapshot();
    const rewritten = [...expected.values()].filter((point) =>
      ['a.md', 'b.md', 'c.md', 'h.md'].includes(String(point.payload.doc_id)),
    ).length;
    expect(sync.embedder.texts).toBe(rewritten);
    expect(qdrant.snapshot()).toEqual(expected);
  });

  it('marks a stored document before writing its new chunks, and writes chunk 0 after the surplus is deleted', async () => {
    write('a.md', page('A', 6));
    const qdrant = new MemoryQdrant();
    await ingest(qdrant);
    qdrant.log.length = 0;
    write('a.md', page('A', 3).replace('Part 0', 'Part zero'));
    await ingest(qdrant);
    const kinds = qdrant.log.map((entry) => entry.kind).filter((kind) => kind !== 'metadata');
    expect(kinds[0]).toBe('mark');
    const chunk0 = qdrant.log.findIndex(
      (entry) =>
        entry.kind === 'upsert' && entry.ids.some((id) => qdrant.points.get(id)?.payload.chunk_index === 0),
    );
    const lastDelete = qdrant.log.findLastIndex((entry) => entry.kind === 'delete');
    const lastSibling = qdrant.log.findLastIndex(
      (entry, index) => entry.kind === 'upsert' && index !== chunk0,
    );
    expect(lastDelete).toBeGreaterThan(lastSibling);
    expect(chunk0).toBeGreaterThan(lastDelete);
  });

  it('deletes every chunk of a document that became empty', async () => {
    write('a.md', page('A', 3));
    write('b.md', page('B', 2));
    const qdrant = new MemoryQdrant();
    await ingest(qdrant);
    write('a.md', '   \n');
    const run = await ingest(qdrant);
    expect(run.outcome.stats.documentsEmpty).toBe(1);
    expect([...qdrant.points.values()].some((point) => point.payload.doc_id === 'a.md')).toBe(false);
    expect(qdrant.snapshot()).toEqual(await cleanSnapshot());
  });

  it('reports a document id read twice, and keeps the last occurrence', async () => {
    write(
      'a.jsonl',
      `${JSON.stringify({ id: 'dup', text: 'the first version' })}\n${JSON.stringify({ id: 'other', text: 'x' })}\n${JSON.stringify({ id: 'dup', text: 'the second version' })}\n`,
    );
    const qdrant = new MemoryQdrant();
    const run = await ingest(qdrant);
    expect(run.outcome.stats.duplicates).toBe(1);
    // Both places named as every other problem names its file: as the user would type it.
    const file = join(dir, 'a.jsonl');
    expect(run.problems).toEqual([
      expect.objectContaining({
        file,
        line: 3,
        reason: expect.stringContaining(`duplicate document id "dup" (first at ${file}:1)`),
      }),
    ]);
    const dup = [...qdrant.points.values()].filter((point) => point.payload.doc_id === 'dup');
    expect(dup.map((point) => point.payload.content)).toEqual(['the second version']);
  });

  it('writes chunk 0 without its fingerprint when another chunk failed, so the next run rewrites the document', async () => {
    write('a.md', page('A', 3));
    const qdrant = new MemoryQdrant();
    const refusing = new HashEmbedder('test/hash-embedder', (text) => text.includes('part 2'));
    const first = await ingest(qdrant, { embedder: refusing });
    expect(first.outcome.stats.failed).toBeGreaterThan(0);
    expect(
      [...qdrant.points.values()].find((point) => point.payload.chunk_index === 0)?.payload.doc_hash,
    ).toBe('');
    const second = await ingest(qdrant);
    expect(second.outcome.stats.documentsChanged).toBe(1);
    expect(qdrant.snapshot()).toEqual(await cleanSnapshot());
  });

  it('refuses another embedding model with exit 2 unless told to re-embed', async () => {
    write('a.md', page('A', 2));
    const qdrant = new MemoryQdrant();
    await ingest(qdrant);
    write('a.md', page('A', 3));
    const refused = await ingest(qdrant, { embedder: new HashEmbedder('test/other-model') });
    expect(refused.outcome.fatal).toBeInstanceOf(TabootError);
    expect((refused.outcome.fatal as TabootError).exitCode).toBe(2);
    expect((refused.outcome.fatal as Error).message).toContain('test/other-model');

    const reembedded = await ingest(qdrant, {
      embedder: new HashEmbedder('test/other-model'),
      reembed: true,
    });
    expect(reembedded.outcome.fatal).toBeUndefined();
    expect(qdrant.metadata['taboot.model']).toMatchObject({ id: 'test/other-model' });
  });

  it('after a crash at any write, the next run leaves the collection equal to a clean ingest', async () => {
    const original = () => {
      write('a.md', page('A', 5));
      write('b.md', page('B', 2));
      write('c.md', page('C', 4));
      write('d.jsonl', `${JSON.stringify({ id: 'd1', text: 'short' })}\n`);
    };
    const changed = () => {
      write('a.md', page('A', 2)); // shrinks
      write('b.md', page('B', 6)); // grows
      write('c.md', '\n'); // empties
      write('e.md', page('E', 3)); // new, several chunks
      write('d.jsonl', `${JSON.stringify({ id: 'd1', text: 'longer now' })}\n`);
    };
    original();
    const reference = new MemoryQdrant();
    await ingest(reference);
    const writesBefore = reference.log.length;
    changed();
    await ingest(reference);
    const writesOfSync = reference.log.length - writesBefore;
    const expected = reference.snapshot();
    expect(writesOfSync).toBeGreaterThan(5);

    // Deletes are batched by time as well as by count, so runs can differ by a request or two:
    // crash at every write until a run gets through without meeting the crash.
    for (let crashAt = 0; crashAt < writesOfSync * 2; crashAt += 1) {
      rmSync(dir, { recursive: true, force: true });
      dir = mkdtempSync(join(tmpdir(), 'taboot-sync-'));
      original();
      const qdrant = new MemoryQdrant();
      await ingest(qdrant);
      changed();
      qdrant.crashAfter(crashAt);
      const crashed = await ingest(qdrant);
      if (crashed.outcome.fatal === undefined) {
        expect(crashAt, 'the run made as many writes as the reference').toBeGreaterThanOrEqual(
          writesOfSync - 2,
        );
        break;
      }
      qdrant.recover();
      const rerun = await ingest(qdrant);
      expect(rerun.outcome.fatal).toBeUndefined();
      const snapshot = qdrant.snapshot();
      expect([...snapshot.keys()], `crash after ${crashAt} writes`).toEqual([...expected.keys()]);
      expect(snapshot, `crash after ${crashAt} writes`).toEqual(
        new Map(
          [...expected].map(([id, point]) => [
            id,
            { ...point, payload: { ...point.payload, source: snapshot.get(id)?.payload.source } },
          ]),
        ),
      );
    }
  });

  it("keeps the user's section, source and title, and refuses a line that sets a key taboot computes", async () => {
    const vector = Buffer.from(new Float32Array(8).fill(0.5).buffer).toString('base64');
    const lines = [
      { id: 'a', text: 'alpha', section: 'Install > Linux' },
      { id: 'b', text: 'beta', source: 'github' },
      { id: 'c', text: 'gamma', title: 'Gamma' },
      { id: 'd', text: 'delta', doc_id: 'd' },
      { id: 'e', text: 'epsilon', doc_id: 'another' },
      { id: 'f', text: 'zeta', chunk_index: 3 },
      { id: 'g', text: 'eta', chunk_count: 3 },
      { id: 'h', text: 'theta', doc_hash: 'abc' },
      { id: 'i', text: 'iota', content: 'something else' },
      { id: 'j', text: 'kappa', content: 'kappa' },
      { id: 'k', text: 'lambda', vector, section: 'Reference' },
    ];
    write('keys.jsonl', `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    const qdrant = new MemoryQdrant();
    const run = await ingest(qdrant);
    const byDoc = new Map([...qdrant.points.values()].map((point) => [point.payload.doc_id, point.payload]));
    expect(byDoc.get('a')?.section).toBe('Install > Linux');
    expect(byDoc.get('b')?.source).toBe('github');
    expect(byDoc.get('c')?.title).toBe('Gamma');
    expect(byDoc.get('d')?.doc_id).toBe('d');
    expect(byDoc.get('j')?.content).toBe('kappa');
    expect(byDoc.get('k')?.section).toBe('Reference');
    for (const refused of ['e', 'f', 'g', 'h', 'i']) expect(byDoc.has(refused), refused).toBe(false);
    expect(run.problems.map((problem) => [problem.line, problem.field, problem.severity])).toEqual([
      [5, 'doc_id', 'error'],
      [6, 'chunk_index', 'error'],
      [7, 'chunk_count', 'error'],
      [8, 'doc_hash', 'error'],
      [9, 'content', 'error'],
    ]);
    expect(run.outcome.stats.skipped).toBe(5);
  });

  it('reports precomputed vectors as such: nothing embedded, no tokens, the embedder never asked', async () => {
    const vector = Buffer.from(new Float32Array(8).fill(0.25).buffer).toString('base64');
    const lines = Array.from({ length: 20 }, (_, index) =>
      JSON.stringify({ id: `v${index}`, text: `t ${index}`, vector }),
    );
    write('vectors.jsonl', `${lines.join('\n')}\n`);
    const qdrant = new MemoryQdrant();
    const run = await ingest(qdrant);
    const { stats } = run.outcome;
    expect(stats.chunksPrecomputed).toBe(20);
    expect(stats.chunksEmbedded).toBe(0);
    expect(stats.tokensEstimated).toBe(0);
    expect(run.embedder.requests).toBe(0);
    expect(qdrant.calls.delete).toBe(0);
  });

  it('after a crash, --prune finds the chunks of a new document whose chunk 0 was never written and whose file is gone', async () => {
    write('keep.md', page('Keep', 2));
    write('lost.md', page('Lost', 4));
    // The first crash point at which the new document has chunks in Qdrant but no chunk 0.
    let qdrant = new MemoryQdrant();
    for (let crashAt = 1; ; crashAt += 1) {
      qdrant = new MemoryQdrant();
      qdrant.crashAfter(crashAt);
      const crashed = await ingest(qdrant);
      expect(crashed.outcome.fatal, 'the run ends before the crash point').toBeDefined();
      const lost = [...qdrant.points.values()].filter((point) => point.payload.doc_id === 'lost.md');
      if (lost.length > 0 && !lost.some((point) => point.payload.chunk_index === 0)) break;
    }
    qdrant.recover();
    expect(qdrant.metadata[`taboot.sync.${dir.split('/').pop()}`]).toMatchObject({ state: 'running' });

    unlinkSync(join(dir, 'lost.md'));
    const pruned = await ingest(qdrant, { prune: true });
    expect(pruned.outcome.fatal).toBeUndefined();
    expect([...qdrant.points.values()].some((point) => point.payload.doc_id === 'lost.md')).toBe(false);
    expect(qdrant.metadata[`taboot.sync.${dir.split('/').pop()}`]).toMatchObject({ state: 'clean' });
    expect(qdrant.snapshot()).toEqual(await cleanSnapshot());
  });

  it('keeps a source left over from a crash marked as such when the next run is interrupted', async () => {
    write('a.md', page('A', 2));
    const qdrant = new MemoryQdrant();
    const source = dir.split('/').pop()!;
    qdrant.metadata[`taboot.sync.${source}`] = { state: 'running' };
    await ingest(qdrant);
    expect(qdrant.metadata[`taboot.sync.${source}`]).toMatchObject({ state: 'clean' });

    qdrant.metadata[`taboot.sync.${source}`] = { state: 'running' };
    const controller = new AbortController();
    controller.abort();
    const interrupted = await runIngest(
      { paths: [dir], config, onError: 'skip', failedOut: undefined, signal: controller.signal },
      {
        embedder: new HashEmbedder(),
        sink: qdrant,
        store: qdrant,
        dimensions: 8,
        syncState: new SyncState(qdrant.metadata, (entries) => qdrant.writeMetadata(entries)),
      },
      { onProblem: () => {}, onFailure: () => {}, onRetry: () => {} },
    );
    expect(interrupted.interrupted).toBe(true);
    expect(qdrant.metadata[`taboot.sync.${source}`]).toMatchObject({ state: 'running' });
  });
});
