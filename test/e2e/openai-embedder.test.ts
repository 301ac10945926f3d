import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchJson } from '../../src/bench/result.js';
import type { IngestSummary } from '../../src/pipeline/summary.js';
import { runCli } from '../support/run-cli.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';
import { embeddingSize } from '../support/tei-server/client.js';
import { startTeiServer, type TeiTestServer } from '../support/tei-server/index.js';

/**
 * `tei.kind: "openai"` end to end, through the built binary: `collection create --vector-size auto`,
 * `ingest`, `search` and `bench embed` against the test server as an OpenAI-compatible embedding
 * server (vLLM's routes, no `/info`, no `/embed`). Against a real TEI (TABOOT_TEST_TEI_URL), its own
 * `/v1/embeddings` stands in, which ignores the model name.
 */
const MODEL = 'qwen3-embedding';
const concepts = new URL('../../fixtures/prometheus-docs/docs/concepts/', import.meta.url).pathname;
let stack: TestStack;
let cwd: string;
let env: Record<string, string>;

function configFor(dir: string, tei: Record<string, unknown>): void {
  writeFileSync(
    join(dir, 'taboot.config.json'),
    JSON.stringify({ tei: { kind: 'openai', model: MODEL, ...tei } }),
  );
}

beforeAll(async () => {
  stack = await startStack({ tei: { flavor: 'openai', servedModelName: MODEL } });
  cwd = mkdtempSync(join(tmpdir(), 'taboot-openai-'));
  configFor(cwd, { url: `${stack.teiUrl}/v1` });
  env = { TABOOT_QDRANT_URL: stack.qdrantUrl, TABOOT_COLLECTION: uniqueName('openai') };
});
afterAll(async () => {
  await stack?.close();
});

describe('an OpenAI-compatible embedding server (built binary, test servers)', () => {
  it('sizes the collection, ingests, searches and benchmarks through /v1/embeddings', async () => {
    const created = await runCli(['collection', 'create', '--vector-size', 'auto'], { env, cwd });
    expect(created.code, created.stderr).toBe(0);
    const size = await embeddingSize(stack.teiUrl, { model: MODEL });
    // A real server answers with the name of the model it serves, whatever the request named.
    const served = stack.tei ? MODEL : '\\S+';
    expect(created.stdout).toMatch(new RegExp(`\\(vector size ${size} from ${served}\\)`));

    const ingested = await runCli(['ingest', concepts, '--json', '--progress', 'none'], {
      env,
      cwd,
      timeoutMs: 120_000,
    });
    expect(ingested.code, ingested.stderr).toBe(0);
    const summary = JSON.parse(ingested.stdout) as IngestSummary;
    expect(summary.documents).toBe(4);
    expect(summary.embedded).toBe(summary.chunks);
    expect(summary.vectors).toBe(summary.chunks);
    expect(summary.failed + summary.skipped).toBe(0);
    // Token counts come from the answers' usage.prompt_tokens: this server sends no x-compute-tokens.
    expect(summary.tokens_counted).toBeGreaterThan(summary.chunks);
    if (stack.tei) {
      expect(stack.tei.stats.requests['/info']).toBeUndefined();
      expect(stack.tei.stats.requests['/embed']).toBeUndefined();
      expect(stack.tei.stats.inputsEmbedded).toBeGreaterThanOrEqual(summary.chunks);
    }

    // Words of the "Counter" section of metric_types.md.
    const query = 'cumulative metric monotonically increasing counter value reset to zero on restart';
    const searched = await runCli(['search', query, '--json', '--limit', '3'], { env, cwd });
    expect(searched.code, searched.stderr).toBe(0);
    const hits = JSON.parse(searched.stdout) as Array<{ payload: Record<string, unknown> }>;
    expect(hits[0]!.payload.doc_id).toBe('metric_types.md');
    expect(String(hits[0]!.payload.section)).toContain('Counter');

    const bench = await runCli(['bench', 'embed', '--docs', '40', '--concurrency', '1,2', '--json'], {
      env,
      cwd,
      timeoutMs: 120_000,
    });
    expect(bench.code, bench.stderr).toBe(0);
    const { embed } = JSON.parse(bench.stdout) as BenchJson;
    if (stack.tei) expect(embed!.model).toBe(MODEL);
    expect(embed!.levels.map((level) => level.concurrency)).toEqual([1, 2]);
    for (const level of embed!.levels) {
      expect(level.docs_per_second).toBeGreaterThan(0);
      expect(level.tokens_per_second).toBeGreaterThan(level.docs_per_second);
    }
    // Tokens/s from usage.prompt_tokens, not from taboot's estimate.
    expect(bench.stderr).not.toContain("taboot's estimate");
  });
});

describe('an OpenAI-compatible server that refuses the key (built binary)', () => {
  let locked: TeiTestServer;
  let dir: string;
  beforeAll(async () => {
    locked = await startTeiServer({ flavor: 'openai', servedModelName: MODEL, apiKey: 'the-right-key' });
    dir = mkdtempSync(join(tmpdir(), 'taboot-openai-key-'));
    configFor(dir, { url: `${locked.url}/v1` });
  });
  afterAll(async () => {
    await locked?.close();
  });

  it('exits 1 naming the server and the setting to check, never the key', async () => {
    const result = await runCli(['search', 'counter', '--json'], {
      env: { ...env, TEI_API_KEY: 'a-wrong-secret-key' },
      cwd: dir,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `OpenAI-compatible server at ${locked.url}/v1: /v1/embeddings answered 401: Incorrect API key provided.`,
    );
    expect(result.stderr).toContain('tei.apiKey');
    expect(result.stderr).not.toContain('a-wrong-secret-key');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
