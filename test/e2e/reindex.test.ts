import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QdrantClient } from '@qdrant/js-client-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestSummary } from '../../src/pipeline/summary.js';
import { skipOnReal } from '../support/real-servers.js';
import { runCli } from '../support/run-cli.js';
import { startIngest } from '../support/slow-ingest.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';
import { embeddingSize } from '../support/tei-server/client.js';

let stack: TestStack;
let cwd: string;

beforeAll(async () => {
  stack = await startStack();
  cwd = mkdtempSync(join(tmpdir(), 'taboot-reindex-'));
  // Collections sized for the TEI under test (a real one may serve any model): reindex creates its
  // generations from the config.
  const vectorSize = await embeddingSize(stack.teiUrl);
  writeFileSync(join(cwd, 'taboot.config.json'), JSON.stringify({ collection: { vectorSize } }));
});
afterAll(async () => {
  await stack?.close();
});

function envFor(collection: string): Record<string, string> {
  return { TABOOT_QDRANT_URL: stack.qdrantUrl, TABOOT_TEI_URL: stack.teiUrl, TABOOT_COLLECTION: collection };
}

function client() {
  return new QdrantClient({ url: stack.qdrantUrl, checkCompatibility: false, compression: false });
}

async function run(args: string[], env: Record<string, string>) {
  const result = await runCli([...args, '--json'], { env, cwd, timeoutMs: 120_000 });
  let summary: IngestSummary | undefined;
  try {
    summary = JSON.parse(result.stdout) as IngestSummary;
  } catch {
    summary = undefined;
  }
  return { ...result, summary };
}

async function aliasTarget(alias: string): Promise<string | undefined> {
  const response = await client().api('collections').listAliases({});
  return response.aliases.find((entry) => entry.aliasName === alias)?.collectionName;
}

async function collections(): Promise<string[]> {
  const response = await client().api('collections').list({});
  return response.collections.map((entry) => entry.name);
}

const page = (title: string, sections: number) =>
  `# ${title}\n\n${Array.from(
    { length: sections },
    (_, n) => `## Part ${n}\n\n${`${title} answers questions about alerting rules, part ${n}. `.repeat(8)}\n`,
  ).join('\n')}`;

function folder(pages: number, title: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'taboot-reindex-docs-'));
  for (let n = 0; n < pages; n += 1) writeFileSync(join(dir, `p${n}.md`), page(`${title} ${n}`, 3));
  return dir;
}

describe('taboot reindex (built binary, test servers)', () => {
  it('builds a new collection and switches the alias; searches through the alias never fail meanwhile', async () => {
    const alias = uniqueName('docs');
    const env = envFor(alias);
    const first = await run(['reindex', folder(6, 'Alpha')], env);
    expect(first.code, first.stderr).toBe(0);
    const firstCollection = first.summary!.reindex!.collection;
    expect(first.summary!.reindex).toMatchObject({ alias, switched: true, previous: null });
    expect(await aliasTarget(alias)).toBe(firstCollection);
    const search = await runCli(['search', 'alerting rules', '--json', '--limit', '3'], { env, cwd });
    expect(search.code, search.stderr).toBe(0);
    expect(JSON.parse(search.stdout).length).toBe(3);

    // A second generation while searches run through the alias: each one succeeds and finds hits.
    let searching = true;
    let searches = 0;
    const failures: unknown[] = [];
    const loop = (async () => {
      const points = client().api('points');
      while (searching) {
        try {
          const response = await points.count({ collectionName: alias, exact: true });
          if (Number(response.result?.count ?? 0n) === 0) failures.push('empty');
          searches += 1;
        } catch (error) {
          failures.push(error);
        }
      }
    })();
    const second = await run(['reindex', folder(4, 'Beta')], env);
    searching = false;
    await loop;
    expect(second.code, second.stderr).toBe(0);
    expect(failures).toEqual([]);
    expect(searches).toBeGreaterThan(0);
    expect(second.summary!.reindex).toMatchObject({ switched: true, previous: firstCollection, deleted: [] });
    expect(await aliasTarget(alias)).toBe(second.summary!.reindex!.collection);
    expect(second.summary!.index_seconds).toBeGreaterThanOrEqual(0);

    // --keep 0: the earlier generations go once the alias has moved on.
    const third = await run(['reindex', folder(2, 'Gamma'), '--keep', '0'], env);
    expect(third.code, third.stderr).toBe(0);
    expect(third.summary!.reindex!.deleted.sort()).toEqual(
      [firstCollection, second.summary!.reindex!.collection].sort(),
    );
    const left = (await collections()).filter((name) => name.startsWith(`${alias}_`));
    expect(left).toEqual([third.summary!.reindex!.collection]);
  }, 120_000);

  it('refuses a name that is a collection rather than an alias, with exit 2', async () => {
    const name = uniqueName('plain');
    const env = envFor(name);
    expect((await runCli(['collection', 'create'], { env, cwd })).code).toBe(0);
    const result = await run(['reindex', folder(1, 'Delta')], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${name} is a collection, not an alias`);
  });

  it('ingest --bulk defers indexing during the load, restores it and waits for the index; a killed bulk load is restored by the next run', async (context) => {
    skipOnReal(context, 'qdrant', "slowing upserts down needs the test server's latency injection");
    const name = uniqueName('bulk');
    const env = envFor(name);
    expect((await runCli(['collection', 'create'], { env, cwd })).code).toBe(0);
    const threshold = () =>
      Number(stack.qdrant!.collection(name)!.info().config?.optimizerConfig?.indexingThreshold ?? -1n);
    const configured = threshold();
    expect(configured).toBeGreaterThan(0);
    stack.qdrant!.faults.latencyByMethod.set('Points/Upsert', 200);
    try {
      const killed = startIngest([folder(20, 'Epsilon'), '--bulk', '--batch-size', '8', '--parallel', '1'], {
        env,
        cwd,
      });
      await killed.waitForProgress((event) => event.vectors_upserted > 0);
      expect(threshold()).toBe(0);
      killed.child.kill('SIGKILL');
      await killed.done;
      stack.qdrant!.faults.latencyByMethod.delete('Points/Upsert');

      const next = await run(['ingest', folder(3, 'Zeta')], env);
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toContain('an interrupted --bulk run had switched indexing off');
      expect(threshold()).toBe(configured);

      const bulk = await run(['ingest', folder(4, 'Eta'), '--bulk'], env);
      expect(bulk.code, bulk.stderr).toBe(0);
      expect(bulk.summary!.index_seconds).toBeGreaterThanOrEqual(0);
      expect(threshold()).toBe(configured);
      const info = stack.qdrant!.collection(name)!.info();
      expect(info.config?.metadata?.['taboot.bulk']).toBeUndefined();
    } finally {
      stack.qdrant!.faults.reset();
    }
  }, 120_000);
});
