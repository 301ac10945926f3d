import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QdrantClient } from '@qdrant/js-client-grpc';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pointId } from '../../src/qdrant/point-id.js';
import type { QdrantTestServer } from '../support/qdrant-server/index.js';
import { skipSuiteOnReal } from '../support/real-servers.js';
import { runCli } from '../support/run-cli.js';
import {
  applyLatencyProfile,
  InFlightRecorder,
  type IngestRun,
  type LatencyProfile,
  startIngest,
  upsertMethod,
  writeMarkdownCorpus,
  writeVectorJsonl,
} from '../support/slow-ingest.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';

/**
 * While ingest awaits a surplus-chunk delete every 256 documents, reading stops and the upserts in
 * flight run out: with one-point JSONL documents that gate, not Qdrant's latency, sets the pace.
 * The tests of that input wait for the delete to leave the read path.
 */

const parallel = 4;
const batch = 100;
/** Upserts take 400-2000 ms (mean 1.2 s): long next to what a request costs this machine. */
const profile: LatencyProfile = { minMs: 400, maxMs: 2000 };

describe('taboot ingest against a slow Qdrant (built binary, test servers)', () => {
  skipSuiteOnReal('qdrant', 'latency injection and the in-flight gauge exist only in the test server');
  let stack: TestStack;
  let qdrant: QdrantTestServer;
  let cwd: string;
  let stopLatency: (() => void) | undefined;
  let recorder: InFlightRecorder | undefined;
  let run: IngestRun | undefined;

  beforeAll(async () => {
    stack = await startStack();
    // Against a real Qdrant every test skips (see above); the stack still starts, for its TEI.
    qdrant = stack.qdrant!;
    cwd = mkdtempSync(join(tmpdir(), 'taboot-slow-'));
  });
  afterEach(async () => {
    if (!stack.qdrant) return;
    run?.child.kill('SIGKILL');
    run = undefined;
    stopLatency?.();
    stopLatency = undefined;
    recorder?.dispose();
    recorder = undefined;
    qdrant.faults.reset();
    await stack.tei!.faults.reset();
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function prepare(prefix: string, config: object = {}) {
    const collection = uniqueName(prefix);
    const dir = mkdtempSync(join(cwd, `${prefix}-`));
    writeFileSync(join(dir, 'taboot.config.json'), JSON.stringify(config));
    const env = {
      TABOOT_QDRANT_URL: stack.qdrantUrl,
      TABOOT_TEI_URL: stack.teiUrl,
      TABOOT_COLLECTION: collection,
    };
    const created = await runCli(['collection', 'create'], { env, cwd: dir });
    expect(created.code, created.stderr).toBe(0);
    return { collection, dir, env };
  }

  /** Ingest under `latency`, recording the server's upserts in flight. */
  async function ingestSlowly(
    setup: { dir: string; env: Record<string, string> },
    args: string[],
    latency: LatencyProfile,
  ) {
    recorder = new InFlightRecorder(qdrant);
    stopLatency = applyLatencyProfile(qdrant, latency);
    run = startIngest([...args, '--batch-size', String(batch), '--parallel', String(parallel)], {
      env: setup.env,
      cwd: setup.dir,
    });
    const result = await run.done;
    stopLatency();
    return { result, report: recorder.report() };
  }

  /** Every (doc_id, chunk_index) once, and nothing else, in the collection. */
  function expectExactly(collection: string, expected: ReadonlyArray<[docId: string, chunks: number]>) {
    const points = qdrant.collection(collection)!.points;
    const keys = points.map((point) => `${point.payload.doc_id}#${point.payload.chunk_index}`);
    const wanted = expected.flatMap(([docId, chunks]) =>
      Array.from({ length: chunks }, (_, i) => `${docId}#${i}`),
    );
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(wanted.sort());
    for (const [docId, chunks] of expected.slice(0, 5)) {
      for (let i = 0; i < chunks; i += 1)
        expect(qdrant.collection(collection)!.point(pointId(docId, i))).toBeDefined();
    }
  }

  /**
   * Measured on the server, which the client cannot misreport: from the first acknowledgement to
   * the last upsert's start (no input left after it), upserts in flight average at least 70% of
   * `parallel`, which is 70% of `parallel x batch / latency` in throughput, and never all end
   * with nothing sent after them for a second.
   */
  function expectBusy(report: ReturnType<InFlightRecorder['report']>) {
    const where = JSON.stringify(report);
    expect(report.meanInFlight, where).toBeGreaterThanOrEqual(0.7 * parallel);
    expect(report.longestIdleMs, where).toBeLessThan(1000);
    expect(report.maxInFlight, where).toBeLessThanOrEqual(parallel);
  }

  const pages = 80;
  const sections = 50;
  /** One chunk per section: --sections chunks per page, and no page count near the 256-document surplus batch. */
  const markdownArgs = (dir: string) => [dir, '--chunk-tokens', '64', '--chunk-overlap', '0'];

  it('keeps `parallel` upserts in flight through TEI while every upsert takes 0.4-2 s, each chunk stored once', async () => {
    const setup = await prepare('slowmd');
    const docs = join(setup.dir, 'pages');
    const names = writeMarkdownCorpus(docs, pages, sections);
    const { result, report } = await ingestSlowly(setup, markdownArgs(docs), profile);
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary).toMatchObject({
      documents: pages,
      chunks: pages * sections,
      vectors: pages * sections,
    });
    expectExactly(
      setup.collection,
      names.map((name) => [name, sections]),
    );
    expectBusy(report);
  }, 120_000);

  it('retries and counts upserts that outlive their deadline (every 10th takes 15x the mean) and stays busy', async () => {
    // 18 s spikes, a 4 s deadline: each spiked upsert is cancelled and sent again.
    const setup = await prepare('spikes', { qdrant: { timeoutMs: 4000 } });
    const docs = join(setup.dir, 'pages');
    const names = writeMarkdownCorpus(docs, pages, sections);
    const { result, report } = await ingestSlowly(setup, markdownArgs(docs), {
      ...profile,
      spikeEvery: 10,
      spikeMs: 15 * 1200,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary!.vectors).toBe(pages * sections);
    // At least one upsert per spike outlived the deadline and was sent again.
    expect(result.summary!.retries).toBeGreaterThanOrEqual(Math.floor(report.calls / 10) - 1);
    expect(result.summary!.retries).toBeGreaterThan(0);
    expectExactly(
      setup.collection,
      names.map((name) => [name, sections]),
    );
    expectBusy(report);
  }, 120_000);

  it('keeps `parallel` upserts in flight for precomputed JSONL vectors while every upsert takes 0.4-2 s', async () => {
    const setup = await prepare('slowjsonl');
    const file = join(setup.dir, 'vectors.jsonl');
    const ids = await writeVectorJsonl(file, 4000);
    const { result, report } = await ingestSlowly(setup, [file], profile);
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary).toMatchObject({ documents: 4000, vectors: 4000, retries: 0 });
    expectExactly(
      setup.collection,
      ids.map((id) => [id, 1]),
    );
    expectBusy(report);
  }, 120_000);

  it('deletes the chunks shrunk documents no longer have and stays busy while every upsert takes 0.4-2 s', async () => {
    const setup = await prepare('shrink');
    const file = join(setup.dir, 'vectors.jsonl');
    const ids = await writeVectorJsonl(file, 2000);
    await seedEarlierChunks(setup.collection, ids, 3);
    const { result, report } = await ingestSlowly(setup, [file], profile);
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary).toMatchObject({ documents: 2000, vectors: 2000 });
    expectExactly(
      setup.collection,
      ids.map((id) => [id, 1]),
    );
    expectBusy(report);
  }, 120_000);

  it('on SIGTERM while TEI hangs, cancels what is in flight after the drain time, prints the JSON summary and exits 130', async () => {
    // The drain time is qdrant.timeoutMs (3 s); TEI's own deadline stays 60 s.
    const setup = await prepare('sigterm', { qdrant: { timeoutMs: 3000 } });
    const docs = join(setup.dir, 'pages');
    writeMarkdownCorpus(docs, pages, sections);
    stopLatency = applyLatencyProfile(qdrant, profile);
    run = startIngest(
      [...markdownArgs(docs), '--batch-size', String(batch), '--parallel', String(parallel)],
      {
        env: setup.env,
        cwd: setup.dir,
      },
    );
    await run.waitForProgress((event) => event.vectors_upserted >= batch);
    stack.tei!.faults.latencyMs = 600_000;
    // One more progress event: the embed requests sent since then hang.
    const seen = run.progress.length;
    await run.waitForProgress(() => run!.progress.length > seen);
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.summary, result.stdout).toBeDefined();
    expect(result.summary!.interrupted).toBe(true);
    expect(result.summary!.vectors).toBeGreaterThanOrEqual(batch);
    expect(result.summary!.vectors).toBeLessThan(pages * sections);
    // What the summary counts as upserted is what Qdrant holds.
    expect(qdrant.collection(setup.collection)!.points.length).toBe(result.summary!.vectors);
    expect(result.stderr).toContain('drain time is up');
    expect(result.stderr).toContain('interrupted by SIGTERM');
  }, 120_000);

  it('quits at once, by the signal and without a summary, on a second SIGTERM', async () => {
    const setup = await prepare('twice');
    const file = join(setup.dir, 'vectors.jsonl');
    await writeVectorJsonl(file, 1000);
    qdrant.faults.latencyByMethod.set(upsertMethod, 600_000);
    run = startIngest([file, '--batch-size', String(batch), '--parallel', String(parallel)], {
      env: setup.env,
      cwd: setup.dir,
    });
    const child = run.child;
    await run.waitForProgress((event) => event.documents > 0);
    child.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        if (!chunk.toString().includes('finishing the requests in flight')) return;
        child.stderr!.off('data', onData);
        resolve();
      };
      child.stderr!.on('data', onData);
    });
    child.kill('SIGTERM');
    const result = await run.done;
    expect(result.signal).toBe('SIGTERM');
    expect(result.stdout).toBe('');
  }, 60_000);

  /** Points for chunks 1..count-1 of each document, as an earlier, longer version left them. */
  /** An earlier version of each document, with `count` chunks and its manifest on chunk 0. */
  async function seedEarlierChunks(collection: string, docIds: readonly string[], count: number) {
    const client = new QdrantClient({ url: stack.qdrantUrl, checkCompatibility: false, compression: false });
    const vector = Array.from({ length: 1024 }, (_, i) => ((i % 5) + 1) / 5);
    for (let start = 0; start < docIds.length; start += 250) {
      const points = docIds.slice(start, start + 250).flatMap((docId) =>
        Array.from({ length: count }, (_, i) => ({
          id: { pointIdOptions: { case: 'uuid' as const, value: pointId(docId, i) } },
          vectors: { vectorsOptions: { case: 'vector' as const, value: { data: vector } } },
          payload: {
            doc_id: { kind: { case: 'stringValue' as const, value: docId } },
            chunk_index: { kind: { case: 'integerValue' as const, value: BigInt(i) } },
            chunk_count: { kind: { case: 'integerValue' as const, value: BigInt(count) } },
            doc_hash: { kind: { case: 'stringValue' as const, value: 'an earlier version' } },
          },
        })),
      );
      await client.api('points').upsert({ collectionName: collection, wait: true, points } as never);
    }
  }
});
