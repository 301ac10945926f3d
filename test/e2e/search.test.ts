import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterSyntaxHelp } from '../../src/qdrant/filter-syntax.js';
import { skipOnReal } from '../support/real-servers.js';
import { embedTimeout, runCli } from '../support/run-cli.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';
import { embeddingSize } from '../support/tei-server/client.js';
import { startTeiServer, type TeiTestServer } from '../support/tei-server/index.js';

const corpus = new URL('../../fixtures/prometheus-docs/', import.meta.url).pathname;
let stack: TestStack;
let reranker: TeiTestServer;
let cwd: string;
let env: Record<string, string>;
/** `collection create` sized for the TEI under test (a real one may serve any model). */
let sized: string[];

beforeAll(async () => {
  stack = await startStack();
  reranker = await startTeiServer({ reranker: 'reverse' });
  cwd = mkdtempSync(join(tmpdir(), 'taboot-search-'));
  const collection = uniqueName('search');
  env = { TABOOT_QDRANT_URL: stack.qdrantUrl, TABOOT_TEI_URL: stack.teiUrl, TABOOT_COLLECTION: collection };
  sized = ['collection', 'create', '--vector-size', String(await embeddingSize(stack.teiUrl))];
  expect((await runCli(sized, { env, cwd })).code).toBe(0);
  const ingested = await runCli(['ingest', corpus, '--progress', 'none', '--quiet'], {
    env,
    cwd,
    timeoutMs: 120_000,
  });
  expect(ingested.code, ingested.stderr).toBe(0);
}, embedTimeout(180_000));
afterAll(async () => {
  await Promise.all([stack?.close(), reranker?.close()]);
});

interface Hit {
  id: string;
  score: number;
  payload: Record<string, unknown>;
}

async function search(args: string[], extraEnv: Record<string, string> = {}, configFile?: string) {
  const config = configFile ? ['--config', configFile] : [];
  const result = await runCli([...config, 'search', ...args], { env: { ...env, ...extraEnv }, cwd });
  let hits: Hit[] | undefined;
  try {
    hits = JSON.parse(result.stdout) as Hit[];
  } catch {
    hits = undefined;
  }
  return { ...result, hits };
}

async function rerankConfig(url: string): Promise<string> {
  const { writeFileSync } = await import('node:fs');
  const path = join(mkdtempSync(join(tmpdir(), 'taboot-rerank-')), 'taboot.config.json');
  writeFileSync(path, JSON.stringify({ search: { reranker: { url, kind: 'tei' } } }));
  return path;
}

describe('taboot search (built binary, test servers)', () => {
  it('finds the section whose words the query uses, first', async () => {
    // Words from the "Labels" section of docs/practices/naming.md.
    const query =
      'differentiate request types stages labels redundancy aggregated away cardinality user IDs email addresses';
    const result = await search([query, '--json', '--limit', '5']);
    expect(result.code, result.stderr).toBe(0);
    const top = result.hits![0]!;
    expect(top.payload.doc_id).toBe('docs/practices/naming.md');
    expect(String(top.payload.section)).toContain('Labels');
  });

  it('answers a natural question with a scrape configuration first, not with pages about queries', async (context) => {
    skipOnReal(
      context,
      'tei',
      "ranks by the test TEI's handling of the Qwen3 query instruction; a real TEI ranks by its model",
    );
    // Sent as `Instruct: Given a web search query, retrieve relevant passages...\nQuery:how do I ...`:
    // the instruction must not make pages about "query" and "search" win, as with a real model.
    const result = await search(['how do I configure scrape intervals', '--json', '--limit', '3']);
    expect(result.code, result.stderr).toBe(0);
    const top = result.hits![0]!;
    expect(String(top.payload.content)).toContain('scrape_configs');
    expect(String(top.payload.content)).toContain('scrape_interval');
    expect(`${top.payload.section} ${top.payload.content}`).toMatch(/configur/i);
    for (const hit of result.hits!)
      expect(`${hit.payload.doc_id} ${hit.payload.section}`).not.toMatch(/query/i);
  });

  it('filters with --filter kind=article to blog posts only', async () => {
    const result = await search(['prometheus release', '--filter', 'kind=article', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.hits!.length).toBeGreaterThan(0);
    for (const hit of result.hits!) expect(hit.payload.kind).toBe('article');
  });

  it('returns --limit hits, as JSON carrying content', async () => {
    const result = await search(['alertmanager', '--limit', '3', '--json']);
    expect(result.hits).toHaveLength(3);
    for (const hit of result.hits!) expect(typeof hit.payload.content).toBe('string');
  });

  it('reverses the order with --rerank when the reranker reverses', async () => {
    const config = await rerankConfig(reranker.url);
    const plain = await search(['storage retention', '--limit', '4', '--json'], {}, config);
    const reranked = await search(['storage retention', '--limit', '4', '--json', '--rerank'], {}, config);
    expect(reranked.code, reranked.stderr).toBe(0);
    const candidates = await search(['storage retention', '--limit', '8', '--json'], {}, config);
    // The reranker sees the top limit x 2 and puts the last first.
    expect(reranked.hits!.map((hit) => hit.id)).toEqual(
      candidates
        .hits!.map((hit) => hit.id)
        .reverse()
        .slice(0, 4),
    );
    expect(plain.hits![0]!.id).not.toBe(reranked.hits![0]!.id);
  });

  it('falls back to vector order with a warning when the reranker is down', async () => {
    const config = await rerankConfig('http://127.0.0.1:9');
    const result = await search(['storage retention', '--limit', '3', '--rerank'], {}, config);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('reranker failed, results are in vector order');
    expect(result.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(3);
    const required = await search(['storage retention', '--rerank', '--rerank-required'], {}, config);
    expect(required.code).toBe(1);
  });

  it('exits 2 naming a malformed filter, and warns about a field without an index', async () => {
    const bad = await search(['x', '--filter', 'kind==article']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('kind==article');
    const slow = await search(['x', '--filter', 'author_name=Brian Brazil', '--limit', '1']);
    expect(slow.code).toBe(0);
    expect(slow.stderr).toContain('no payload index');
  });

  it('says so when the collection is empty', async () => {
    const empty = uniqueName('empty');
    const emptyEnv = { TABOOT_COLLECTION: empty };
    expect((await runCli(sized, { env: { ...env, ...emptyEnv }, cwd })).code).toBe(0);
    const result = await search(['anything'], emptyEnv);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('is empty');
  });

  it('documents in --help the filter syntax the parser accepts', async () => {
    const help = await runCli(['search', '--help'], { cwd });
    // The very text the parser's tests hold to the syntax, every line of it.
    for (const line of filterSyntaxHelp.split('\n')) expect(help.stdout).toContain(line);
  });
});
