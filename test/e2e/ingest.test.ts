import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code } from '@connectrpc/connect';
import { QdrantClient } from '@qdrant/js-client-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestSummary } from '../../src/pipeline/summary.js';
import { skipOnReal } from '../support/real-servers.js';
import { runCli } from '../support/run-cli.js';
import { startIngest } from '../support/slow-ingest.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';
import { embeddingSize } from '../support/tei-server/client.js';

const corpus = new URL('../../fixtures/prometheus-docs/', import.meta.url).pathname;
let stack: TestStack;
let cwd: string;
/** The size of the embeddings the TEI under test makes: 1024 from the test server. */
let dimensions: number;

beforeAll(async () => {
  stack = await startStack();
  cwd = mkdtempSync(join(tmpdir(), 'taboot-ingest-'));
  dimensions = await embeddingSize(stack.teiUrl);
});
afterAll(async () => {
  await stack?.close();
});

function envFor(collection: string): Record<string, string> {
  return { TABOOT_QDRANT_URL: stack.qdrantUrl, TABOOT_TEI_URL: stack.teiUrl, TABOOT_COLLECTION: collection };
}

/** Sized for the TEI under test (a real one may serve any model) unless `flags` size it. */
async function createCollection(env: Record<string, string>, ...flags: string[]) {
  const size = flags.includes('--vector-size') ? [] : ['--vector-size', String(dimensions)];
  const created = await runCli(['collection', 'create', ...size, ...flags], { env, cwd });
  expect(created.code, created.stderr).toBe(0);
}

async function ingest(args: string[], env: Record<string, string>) {
  const result = await runCli(['ingest', ...args, '--json'], { env, cwd, timeoutMs: 120_000 });
  let summary: IngestSummary | undefined;
  try {
    summary = JSON.parse(result.stdout) as IngestSummary;
  } catch {
    summary = undefined;
  }
  return { ...result, summary };
}

function official() {
  return new QdrantClient({ url: stack.qdrantUrl, checkCompatibility: false, compression: false });
}

async function allPoints(collection: string) {
  const points: Array<{ id: string; payload: Record<string, unknown> }> = [];
  let offset: { pointIdOptions: { case: 'uuid'; value: string } } | undefined;
  do {
    const page = await official()
      .api('points')
      .scroll({
        collectionName: collection,
        limit: 256,
        offset,
        withPayload: { selectorOptions: { case: 'enable', value: true } },
      });
    for (const point of page.result) {
      const payload: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(point.payload)) payload[key] = value.kind.value;
      points.push({ id: String(point.id?.pointIdOptions.value), payload });
    }
    const next = page.nextPageOffset?.pointIdOptions;
    offset = next?.case === 'uuid' ? { pointIdOptions: { case: 'uuid', value: next.value } } : undefined;
  } while (offset);
  return points;
}

async function pointCount(collection: string): Promise<number> {
  const response = await official().api('points').count({ collectionName: collection, exact: true });
  return Number(response.result?.count ?? 0n);
}

describe('taboot ingest (built binary, test servers)', () => {
  it('ingests the Prometheus docs with full payloads, and a second run changes nothing', async () => {
    const collection = uniqueName('prom');
    const env = envFor(collection);
    await createCollection(env);
    const first = await ingest([corpus], env);
    expect(first.code, first.stderr).toBe(0);
    const summary = first.summary!;
    expect(summary.documents).toBeGreaterThan(100);
    expect(summary.vectors).toBe(summary.chunks);
    expect(summary.skipped + summary.failed).toBe(0);
    expect(await pointCount(collection)).toBe(summary.vectors);

    const points = await allPoints(collection);
    for (const point of points) {
      for (const key of [
        'doc_id',
        'source',
        'chunk_index',
        'chunk_count',
        'doc_hash',
        'content',
        'section',
      ]) {
        expect(point.payload, `${point.id} lacks ${key}`).toHaveProperty(key);
      }
    }
    const blogPosts = points.filter((point) => String(point.payload.doc_id).startsWith('blog/posts/'));
    expect(blogPosts.length).toBeGreaterThan(0);
    for (const post of blogPosts) expect(typeof post.payload.created_at).toBe('bigint');

    // Nothing changed: the second run skips every document before chunking or embedding.
    const second = await ingest([corpus], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.summary!.vectors).toBe(0);
    // Front-matter-only pages are empty documents, counted as such on every run.
    expect(second.summary!.unchanged + second.summary!.empty).toBe(summary.documents);
    expect(second.summary!.embed_requests).toBe(0);
    expect(await pointCount(collection)).toBe(summary.vectors);
  });

  it('reports each bad JSONL line as file:line, ingests every good one and exits 3', async () => {
    const collection = uniqueName('jsonl');
    const env = envFor(collection);
    await createCollection(env);
    const dir = mkdtempSync(join(tmpdir(), 'taboot-jsonl-'));
    const lines = [
      JSON.stringify({ id: 'good-1', text: 'Prometheus scrapes targets over HTTP.' }),
      '{"id": "broken", "text": ',
      JSON.stringify({ id: 'no-text', title: 'nothing to embed' }),
      JSON.stringify({
        id: 'short-vector',
        text: 'precomputed',
        vector: Array.from({ length: dimensions - 1 }, () => 0.01),
      }),
      JSON.stringify({ id: 'good-2', content: 'Alertmanager groups alerts.', service_name: 'alertmanager' }),
      JSON.stringify({
        id: 'good-3',
        text: 'With a vector',
        vector: Array.from({ length: dimensions }, (_, i) => (i % 7) / 7),
      }),
    ];
    writeFileSync(join(dir, 'mixed.jsonl'), `${lines.join('\n')}\n`);
    const result = await ingest([join(dir, 'mixed.jsonl')], env);
    expect(result.code).toBe(3);
    const reported = result.stderr.split('\n').filter((line) => /mixed\.jsonl:\d+/.test(line));
    expect(reported).toHaveLength(3);
    expect(result.stderr).toMatch(/mixed\.jsonl:2\b.*JSON/i);
    expect(result.stderr).toMatch(/mixed\.jsonl:3\b.*text/);
    expect(result.stderr).toMatch(new RegExp(`mixed\\.jsonl:4\\b.*${dimensions - 1}`));
    // A skipped line is no document: only the three good ones are counted, as new, and as chunks.
    expect(result.summary).toMatchObject({
      documents: 3,
      new: 3,
      chunks: 3,
      vectors: 3,
      failed: 0,
      skipped: 3,
    });
    const ids = (await allPoints(collection)).map((point) => point.payload.doc_id).sort();
    expect(ids).toEqual(['good-1', 'good-2', 'good-3']);

    // A bad vector in a later version of a stored document leaves that version as it was.
    const stored = (await allPoints(collection)).find((point) => point.payload.doc_id === 'good-3')!;
    const shorter = JSON.stringify({
      id: 'good-3',
      text: 'Changed',
      vector: Array(dimensions - 1).fill(0.5),
    });
    writeFileSync(join(dir, 'mixed.jsonl'), `${shorter}\n`);
    const again = await ingest([join(dir, 'mixed.jsonl')], env);
    expect(again.code).toBe(3);
    expect(again.summary).toMatchObject({ documents: 0, changed: 0, chunks: 0, skipped: 1 });
    const kept = (await allPoints(collection)).find((point) => point.payload.doc_id === 'good-3')!;
    expect(kept.payload).toEqual(stored.payload);
  });

  it('completes with every chunk exactly once while TEI and Qdrant shed every 5th request', async (context) => {
    if (!stack.tei || !stack.qdrant) {
      return skipOnReal(
        context,
        ['tei', 'qdrant'],
        'injects 429, 503 and UNAVAILABLE, which only the test servers can',
      );
    }
    const collection = uniqueName('faults');
    const env = envFor(collection);
    await createCollection(env);
    stack.tei.faults.failEvery(5, 429);
    stack.tei.faults.failEvery(7, 503);
    stack.qdrant.faults.failEvery(5, Code.Unavailable, undefined, { method: 'Points/Upsert' });
    try {
      const result = await ingest(
        [join(corpus, 'docs'), '--batch-size', '64', '--embed-concurrency', '2'],
        env,
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.summary!.retries).toBeGreaterThan(0);
      const points = await allPoints(collection);
      expect(points).toHaveLength(result.summary!.chunks);
      expect(
        new Set(points.map((point) => `${point.payload.doc_id}#${point.payload.chunk_index}`)).size,
      ).toBe(points.length);
    } finally {
      await stack.tei.faults.reset();
      stack.qdrant.faults.reset();
    }
  });

  it('stops before reading when the collection is missing or sizes differ', async () => {
    const missing = await ingest([corpus], envFor(uniqueName('missing')));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^error: collection \S+ does not exist in Qdrant at \S+\n {2}Create it first: taboot collection create \S+\n$/,
    );
    const exists = uniqueName('nowhere');
    await createCollection(envFor(exists));
    const nowhere = await ingest(['no/such/folder'], envFor(exists));
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toBe('error: path does not exist: no/such/folder\n');

    const small = uniqueName('small');
    const other = dimensions === 768 ? 512 : 768;
    await createCollection(envFor(small), '--vector-size', String(other));
    const mismatch = await ingest([corpus], envFor(small));
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain(`${dimensions}-dimensional embeddings`);
    expect(mismatch.stderr).toContain(`takes ${other}`);
  });

  it('exits 1 naming TEI when it is unreachable, and 2 for a path that does not exist', async () => {
    const collection = uniqueName('down');
    await createCollection(envFor(collection));
    const down = await ingest([corpus], { ...envFor(collection), TABOOT_TEI_URL: 'http://127.0.0.1:9' });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('TEI at http://127.0.0.1:9');
    const nowhere = await ingest([join(cwd, 'no-such-folder')], envFor(collection));
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('no-such-folder');
  });

  it('estimates without any server in --dry-run, and writes every chunk with --chunks-out', async () => {
    const chunksOut = join(mkdtempSync(join(tmpdir(), 'taboot-chunks-')), 'chunks.jsonl');
    const result = await ingest([corpus, '--dry-run', '--chunks-out', chunksOut], {
      TABOOT_QDRANT_URL: 'http://127.0.0.1:9',
      TABOOT_TEI_URL: 'http://127.0.0.1:9',
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.summary).toMatchObject({ dry_run: true, vectors: 0 });
    expect(result.summary!.chunks).toBeGreaterThan(100);
    const estimate = result.summary!.estimate!;
    expect(estimate.largest_chunks).toHaveLength(10);
    expect(estimate.collection.points).toBe(result.summary!.chunks);
    expect(estimate.chunks).toMatchObject({ count: result.summary!.chunks, headingOnly: 0, overBudget: 0 });
    expect(estimate.chunks.median).toBeGreaterThan(estimate.chunks.min);
    const records = readFileSync(chunksOut, 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { id: string; doc_id: string; section: string; tokens: number; text: string },
      );
    expect(records).toHaveLength(result.summary!.chunks);
    expect(new Set(records.map((record) => record.id)).size).toBe(records.length);
    // Sections come from real headings: never from a `#` line inside a fence or an HTML comment.
    for (const record of records) expect(record.section).not.toMatch(/<!--|```/);
    expect(records.some((record) => record.section.includes(' > '))).toBe(true);
  });

  it('writes chunks that failed to --failed-out, and ingesting that file puts them back', async (context) => {
    if (!stack.qdrant) return skipOnReal(context, 'qdrant', 'injects an INVALID_ARGUMENT into one upsert');
    const collection = uniqueName('failedout');
    const env = envFor(collection);
    await createCollection(env);
    const failedOut = join(mkdtempSync(join(tmpdir(), 'taboot-failed-')), 'failed.jsonl');
    stack.qdrant.faults.failNext(1, Code.InvalidArgument, 'Wrong input: injected', {
      method: 'Points/Upsert',
    });
    const first = await ingest(
      [
        join(corpus, 'docs', 'introduction'),
        '--batch-size',
        '1',
        '--parallel',
        '1',
        '--failed-out',
        failedOut,
      ],
      env,
    );
    expect(first.code).toBe(3);
    expect(first.summary!.failed).toBe(1);
    const failed = readFileSync(failedOut, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(failed).toHaveLength(1);
    expect(failed[0].failure.stage).toBe('upsert');
    const before = await pointCount(collection);
    const retry = await ingest([failedOut], env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(await pointCount(collection)).toBe(before + 1);
  });

  it('prints plain vec/s lines without escape codes when not on a terminal', async () => {
    const collection = uniqueName('plain');
    const env = envFor(collection);
    await createCollection(env);
    const result = await runCli(['ingest', corpus, '--progress', 'plain'], { env, cwd, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(`${result.stdout}${result.stderr}`).not.toContain('\u001b[');
    expect(result.stdout).toContain('vec/s');
    expect(result.stdout).toContain(`ingested into collection ${collection}`);
  });

  it('on SIGINT stops reading, drains what is in flight, prints the summary and exits 130', async (context) => {
    if (!stack.qdrant) {
      return skipOnReal(
        context,
        'qdrant',
        'slows upserts with injected latency so that SIGINT arrives mid-run',
      );
    }
    const collection = uniqueName('sigint');
    const env = envFor(collection);
    await createCollection(env);
    const dir = mkdtempSync(join(tmpdir(), 'taboot-sigint-'));
    const vector = Buffer.from(new Float32Array(dimensions).fill(0.03).buffer).toString('base64');
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ id: `n-${i}`, text: `note ${i}`, vector }),
    );
    writeFileSync(join(dir, 'notes.jsonl'), `${lines.join('\n')}\n`);
    stack.qdrant.faults.latencyByMethod.set('Points/Upsert', 150);
    try {
      // Signalled once the first batch is acknowledged, not after a fixed time: on a loaded
      // machine the run may not have started, or may have finished, by then.
      const run = startIngest([join(dir, 'notes.jsonl'), '--batch-size', '50', '--parallel', '2'], {
        env,
        cwd,
      });
      await run.waitForProgress((event) => event.vectors_upserted > 0);
      run.child.kill('SIGINT');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      const summary = result.summary!;
      expect(summary.interrupted).toBe(true);
      expect(summary.vectors).toBeGreaterThan(0);
      expect(summary.vectors).toBeLessThan(3000);
      expect(await pointCount(collection)).toBe(summary.vectors);
      expect(result.stderr).toContain('interrupted by SIGINT');
    } finally {
      stack.qdrant.faults.reset();
    }
  });

  it('spreads embedding over tei.urls and carries on when one endpoint is down', async (context) => {
    if (!stack.tei) return skipOnReal(context, 'tei', 'counts the inputs each test TEI embedded');
    const { startTeiServer } = await import('../support/tei-server/index.js');
    const second = await startTeiServer();
    const dead = 'http://127.0.0.1:9';
    try {
      const collection = uniqueName('multi');
      await createCollection(envFor(collection));
      // tei.urls from the config file: TABOOT_TEI_URL would name one TEI and replace them.
      const { TABOOT_TEI_URL: _one, ...env } = envFor(collection);
      const dir = mkdtempSync(join(tmpdir(), 'taboot-multi-'));
      const config = join(dir, 'taboot.config.json');
      writeFileSync(config, JSON.stringify({ tei: { urls: [stack.teiUrl, second.url, dead] } }));
      const before = { first: stack.tei.stats.inputsEmbedded, second: second.stats.inputsEmbedded };
      const result = await runCli(
        ['--config', config, 'ingest', join(corpus, 'docs'), '--json', '--progress', 'none'],
        {
          env,
          cwd,
          timeoutMs: 120_000,
        },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`TEI at ${dead}`);
      const summary = JSON.parse(result.stdout) as IngestSummary;
      expect(await pointCount(collection)).toBe(summary.chunks);
      expect(stack.tei.stats.inputsEmbedded).toBeGreaterThan(before.first);
      expect(second.stats.inputsEmbedded).toBeGreaterThan(before.second);
    } finally {
      await second.close();
    }
  });

  it('refuses a --failed-out that is an input or cannot be written, and paths that would share ids', async () => {
    const collection = uniqueName('guards');
    const env = envFor(collection);
    await createCollection(env);
    const dir = mkdtempSync(join(tmpdir(), 'taboot-guards-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, `${JSON.stringify({ id: 'a', text: 'alpha' })}\n`);
    const overwrite = await ingest([input, '--failed-out', input], env);
    expect(overwrite.code).toBe(2);
    expect(overwrite.stderr).toContain('is one of the files being ingested');
    expect(readFileSync(input, 'utf8')).toContain('alpha');
    const nowhere = await ingest([input, '--failed-out', join(dir, 'missing', 'f.jsonl')], env);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('cannot write');
    expect(nowhere.stderr).not.toMatch(/\n\s+at /);
    const { mkdirSync } = await import('node:fs');
    for (const team of ['team-a', 'team-b']) {
      mkdirSync(join(dir, team));
      writeFileSync(join(dir, team, 'README.md'), `# ${team}\n\nNotes of ${team}.\n`);
    }
    const clash = await ingest([join(dir, 'team-a'), join(dir, 'team-b')], env);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain('would get the same document id');
  });

  it('after a fatal error counts only what Qdrant acknowledged and keeps the rest in --failed-out', async (context) => {
    if (!stack.qdrant)
      return skipOnReal(context, 'qdrant', 'injects PERMISSION_DENIED into every 4th upsert');
    const collection = uniqueName('fatal');
    const env = envFor(collection);
    await createCollection(env);
    const failedOut = join(mkdtempSync(join(tmpdir(), 'taboot-fatal-')), 'failed.jsonl');
    stack.qdrant.faults.latencyByMethod.set('Points/Upsert', 20);
    // The 4th upsert is refused for good (not retryable): the run must stop.
    stack.qdrant.faults.failEvery(4, Code.PermissionDenied, 'Forbidden: injected', {
      method: 'Points/Upsert',
    });
    try {
      const result = await ingest(
        [join(corpus, 'docs'), '--batch-size', '16', '--parallel', '2', '--failed-out', failedOut],
        env,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('PERMISSION_DENIED');
      const summary = result.summary!;
      expect(await pointCount(collection)).toBe(summary.vectors);
      const kept = readFileSync(failedOut, 'utf8').trim().split('\n').filter(Boolean);
      expect(kept.length).toBe(summary.failed);
      expect(summary.failed).toBeGreaterThan(0);
      // Every chunk read is either in Qdrant or in --failed-out: none is lost without a word.
      expect(summary.vectors + summary.failed).toBe(summary.chunks);
    } finally {
      stack.qdrant.faults.reset();
    }
  });

  it('removes the chunks a document no longer has when it shrinks', async () => {
    const collection = uniqueName('shrink');
    const env = envFor(collection);
    await createCollection(env);
    const dir = mkdtempSync(join(tmpdir(), 'taboot-shrink-'));
    const section = (n: number) =>
      `## Part ${n}\n\n${'Prometheus scrapes targets and stores samples. '.repeat(12)}\n`;
    const page = (parts: number) =>
      `# Guide\n\n${Array.from({ length: parts }, (_, n) => section(n)).join('\n')}`;
    writeFileSync(join(dir, 'guide.md'), page(8));
    writeFileSync(join(dir, 'other.md'), page(3));
    const first = await ingest([dir, '--chunk-tokens', '64', '--chunk-overlap', '0'], env);
    expect(first.code, first.stderr).toBe(0);
    const before = (await allPoints(collection)).filter(
      (point) => point.payload.doc_id === 'guide.md',
    ).length;
    writeFileSync(join(dir, 'guide.md'), page(2));
    const second = await ingest([dir, '--chunk-tokens', '64', '--chunk-overlap', '0'], env);
    expect(second.code, second.stderr).toBe(0);
    const points = await allPoints(collection);
    const guide = points.filter((point) => point.payload.doc_id === 'guide.md');
    expect(before).toBeGreaterThan(guide.length);
    expect(guide.map((point) => Number(point.payload.chunk_index)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: guide.length }, (_, index) => index),
    );
    for (const point of guide) expect(Number(point.payload.chunk_count)).toBe(guide.length);
    // Only the changed document was rewritten; nothing else was added or left behind.
    expect(second.summary!.vectors).toBe(guide.length);
    expect(second.summary!.unchanged).toBe(1);
    expect(points).toHaveLength(first.summary!.vectors - before + guide.length);
  });
});
