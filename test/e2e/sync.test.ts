import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestSummary } from '../../src/pipeline/summary.js';
import { lockName } from '../../src/qdrant/ingest-lock.js';
import { skipOnReal } from '../support/real-servers.js';
import { runCli } from '../support/run-cli.js';
import { startIngest } from '../support/slow-ingest.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';
import { embeddingSize } from '../support/tei-server/client.js';

let stack: TestStack;
let cwd: string;

beforeAll(async () => {
  // Writes acknowledged with wait=false become visible only at the next wait=true request: a count
  // right after exit is exact only because ingest ends with its barrier.
  stack = await startStack({ qdrant: { visibility: 'deferred', applyDelayMs: Number.POSITIVE_INFINITY } });
  cwd = mkdtempSync(join(tmpdir(), 'taboot-sync-e2e-'));
});
afterAll(async () => {
  await stack?.close();
});

function envFor(collection: string): Record<string, string> {
  return { TABOOT_QDRANT_URL: stack.qdrantUrl, TABOOT_TEI_URL: stack.teiUrl, TABOOT_COLLECTION: collection };
}

/** Sized for the TEI under test (a real one may serve any model). */
async function createCollection(env: Record<string, string>, ...flags: string[]) {
  const size = ['--vector-size', String(await embeddingSize(stack.teiUrl))];
  const created = await runCli(['collection', 'create', ...size, ...flags], { env, cwd });
  expect(created.code, created.stderr).toBe(0);
  return created;
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

/** Exact count of the collection's points, or of one document's. */
async function count(collection: string, docId?: string): Promise<number> {
  const { QdrantClient } = await import('@qdrant/js-client-grpc');
  const client = new QdrantClient({ url: stack.qdrantUrl, checkCompatibility: false, compression: false });
  const filter = docId
    ? {
        must: [
          {
            conditionOneOf: {
              case: 'field' as const,
              value: { key: 'doc_id', match: { matchValue: { case: 'keyword' as const, value: docId } } },
            },
          },
        ],
      }
    : undefined;
  const response = await client
    .api('points')
    .count({ collectionName: collection, exact: true, filter } as never);
  return Number(response.result?.count ?? 0n);
}

const page = (title: string, sections: number) =>
  `# ${title}\n\n${Array.from(
    { length: sections },
    (_, n) => `## Part ${n}\n\n${`${title} scrapes targets and keeps samples, part ${n}. `.repeat(10)}\n`,
  ).join('\n')}`;

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'taboot-sync-docs-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('taboot ingest as a cron job (built binary, test servers)', () => {
  it('leaves everything it counted searchable at exit, and makes no delete or upsert for unchanged files', async () => {
    const collection = uniqueName('barrier');
    const env = envFor(collection);
    await createCollection(env);
    const dir = folder({ 'a.md': page('Alpha', 4), 'b.md': page('Beta', 3), 'c.md': page('Gamma', 2) });
    const first = await ingest([dir, '--chunk-tokens', '64', '--chunk-overlap', '0'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(await count(collection)).toBe(first.summary!.vectors);

    stack.qdrant?.counters.reset();
    const second = await ingest([dir, '--chunk-tokens', '64', '--chunk-overlap', '0'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.summary).toMatchObject({ unchanged: 3, vectors: 0, embed_requests: 0, delete_requests: 0 });
    if (stack.qdrant) {
      expect(stack.qdrant.calls.get('Points/Upsert') ?? 0).toBe(0);
      expect(stack.qdrant.calls.get('Points/Delete') ?? 0).toBe(0);
    }
    expect(await count(collection)).toBe(first.summary!.vectors);
  });

  it('prunes documents removed from the folder, and only lists them with --dry-run', async () => {
    const collection = uniqueName('prune');
    const env = envFor(collection);
    await createCollection(env);
    const dir = folder({ 'keep.md': page('Keep', 2), 'gone.md': page('Gone', 3) });
    const first = await ingest([dir], env);
    expect(first.code, first.stderr).toBe(0);
    unlinkSync(join(dir, 'gone.md'));

    const listed = await ingest([dir, '--prune', '--dry-run'], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).toContain('would prune');
    expect(listed.stderr).toContain('gone.md');
    expect(await count(collection)).toBe(first.summary!.vectors);

    const pruned = await ingest([dir, '--prune'], env);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.summary!.pruned).toBe(1);
    expect(await count(collection, 'gone.md')).toBe(0);
    expect(await count(collection, 'keep.md')).toBeGreaterThan(0);
    expect(await count(collection)).toBe(await count(collection, 'keep.md'));
  });

  it('refuses to prune after a run that skipped input', async () => {
    const collection = uniqueName('noprune');
    const env = envFor(collection);
    await createCollection(env);
    const dir = folder({ 'keep.md': page('Keep', 2), 'gone.md': page('Gone', 2) });
    expect((await ingest([dir], env)).code).toBe(0);
    unlinkSync(join(dir, 'gone.md'));
    writeFileSync(join(dir, 'broken.jsonl'), '{"id": "x", "text": \n');
    const result = await ingest([dir, '--prune'], env);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('not pruning');
    expect(result.summary!.pruned).toBe(0);
  });

  it('refuses another embedding model with exit 2 and a hint, and re-embeds with --reembed', async () => {
    const collection = uniqueName('model');
    const env = envFor(collection);
    await createCollection(env);
    const dir = folder({ 'a.md': page('Alpha', 2) });
    expect((await ingest([dir], env)).code).toBe(0);
    const other = env;
    // The test TEI serves one model; a collection recorded with another stands for a model change.
    const { QdrantClient } = await import('@qdrant/js-client-grpc');
    const { jsonToValue } = await import('../../src/qdrant/payload-json.js');
    await new QdrantClient({ url: stack.qdrantUrl, checkCompatibility: false, compression: false })
      .api('collections')
      .update({
        collectionName: collection,
        metadata: {
          'taboot.model': jsonToValue({ id: 'old/model', dimensions: await embeddingSize(stack.teiUrl) }),
        },
      });
    const refused = await ingest([dir], other);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('old/model');
    expect(refused.stderr).toContain('--reembed');
    const reembedded = await ingest([dir, '--reembed'], other);
    expect(reembedded.code, reembedded.stderr).toBe(0);
    expect(reembedded.summary!.changed).toBe(1);
  });

  it('lets one of two overlapping runs write and stops the other with exit 4 naming the holder; takes over the lock of a killed run', async (context) => {
    skipOnReal(context, 'qdrant', "slowing upserts down needs the test server's latency injection");
    const collection = uniqueName('lock');
    const env = envFor(collection);
    await createCollection(env);
    const dir = folder(
      Object.fromEntries(Array.from({ length: 30 }, (_, n) => [`p${n}.md`, page(`Page ${n}`, 3)])),
    );
    stack.qdrant!.faults.latencyByMethod.set('Points/Upsert', 300);
    try {
      const first = startIngest([dir, '--batch-size', '8', '--parallel', '1'], { env, cwd });
      await first.waitForProgress((event) => event.vectors_upserted > 0);
      const second = await ingest([dir], env);
      expect(second.code, second.stderr).toBe(4);
      expect(second.stderr).toContain(`collection ${collection} is being written by another run`);
      expect(second.stderr).toContain(`pid ${first.child.pid}`);
      // kill -9: the lock stays behind, held by a process that no longer exists.
      first.child.kill('SIGKILL');
      await first.done;
      expect(stack.qdrant!.collectionNames()).toContain(lockName(collection));
      stack.qdrant!.faults.latencyByMethod.delete('Points/Upsert');
      const third = await ingest([dir], env);
      expect(third.code, third.stderr).toBe(0);
      expect(third.stderr).toContain('taking over the stale lock');
      expect(stack.qdrant!.collectionNames()).not.toContain(lockName(collection));
    } finally {
      stack.qdrant!.faults.reset();
    }
  }, 120_000);

  it('writes a metrics file for node_exporter, also when the collection is missing', async () => {
    const collection = uniqueName('metrics');
    const env = envFor(collection);
    const dir = folder({ 'a.md': page('Alpha', 2) });
    const metrics = join(dir, 'taboot.prom');
    const missing = await ingest([dir, '--metrics-file', metrics], env);
    expect(missing.code).toBe(1);
    expect(readFileSync(metrics, 'utf8')).toMatch(/^taboot_ingest_exit_code\{collection="[^"]+"\} 1$/m);
    await createCollection(env);
    const ok = await ingest([dir, '--metrics-file', metrics], env);
    expect(ok.code, ok.stderr).toBe(0);
    const text = readFileSync(metrics, 'utf8');
    expect(text).toMatch(/^taboot_ingest_exit_code\{collection="[^"]+"\} 0$/m);
    expect(text).toMatch(/^taboot_ingest_documents\{collection="[^"]+",status="new"\} 1$/m);
    expect(text).toMatch(/^taboot_ingest_last_success_timestamp_seconds\{collection="[^"]+"\} \d+$/m);
    rmSync(dir, { recursive: true, force: true });
  });

  it('warns when the collection has no payload index on the fields sync filters by', async () => {
    const collection = uniqueName('noindex');
    const env = envFor(collection);
    const config = join(cwd, `${collection}.json`);
    writeFileSync(config, JSON.stringify({ collection: { payloadIndexes: {} } }));
    const created = await createCollection(env, '--config', config);
    expect(created.stderr).toContain('has no payload index on doc_id, source, chunk_index');
    const dir = folder({ 'a.md': page('Alpha', 2) });
    const result = await ingest([dir, '--config', config], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('has no payload index on doc_id, source, chunk_index');
  });
});
