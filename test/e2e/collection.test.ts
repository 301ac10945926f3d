import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Distance, PayloadSchemaType, QdrantClient, QuantizationType } from '@qdrant/js-client-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';
import { embeddingSize } from '../support/tei-server/client.js';

let stack: TestStack;
let env: Record<string, string>;
let cwd: string;

beforeAll(async () => {
  stack = await startStack();
  env = { TABOOT_QDRANT_URL: stack.qdrantUrl, TABOOT_TEI_URL: stack.teiUrl };
  // A folder without a config file: the defaults are the seed's settings.
  cwd = mkdtempSync(join(tmpdir(), 'taboot-e2e-'));
});
afterAll(async () => {
  await stack?.close();
});

function official() {
  return new QdrantClient({ url: stack.qdrantUrl, checkCompatibility: false, compression: false });
}

describe('taboot collection create (built binary, test servers)', () => {
  it('creates the collection with the seed settings and every payload index', async () => {
    const name = uniqueName('docs');
    const result = await runCli(['collection', 'create', name], { env, cwd });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`created collection ${name}`);

    const info = (await official().api('collections').get({ collectionName: name })).result!;
    const params = info.config!.params!.vectorsConfig!.config;
    expect(params.case).toBe('params');
    if (params.case !== 'params') return;
    expect(params.value.size).toBe(1024n);
    expect(params.value.distance).toBe(Distance.Cosine);
    expect(info.config!.hnswConfig).toMatchObject({ m: 32n, efConstruct: 256n });
    const scalar = info.config!.quantizationConfig!.quantization;
    expect(scalar.case).toBe('scalar');
    if (scalar.case !== 'scalar') return;
    expect(scalar.value.type).toBe(QuantizationType.Int8);
    expect(scalar.value.quantile).toBeCloseTo(0.99, 6);
    expect(scalar.value.alwaysRam).toBe(true);
    expect(info.config!.optimizerConfig).toMatchObject({
      defaultSegmentNumber: 2n,
      maxSegmentSize: 500_000n,
      indexingThreshold: 20_000n,
    });
    const schema = Object.fromEntries(
      Object.entries(info.payloadSchema).map(([field, index]) => [field, index.dataType]),
    );
    expect(schema).toEqual({
      doc_id: PayloadSchemaType.Keyword,
      source: PayloadSchemaType.Keyword,
      service_name: PayloadSchemaType.Keyword,
      section: PayloadSchemaType.Keyword,
      tags: PayloadSchemaType.Keyword,
      created_at: PayloadSchemaType.Integer,
      chunk_index: PayloadSchemaType.Integer,
    });

    const again = await runCli(['collection', 'create', name], { env, cwd });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`collection ${name} is up to date`);

    const differs = await runCli(['collection', 'create', name, '--m', '16'], { env, cwd });
    expect(differs.code).toBe(1);
    expect(differs.stderr).toContain('hnsw.m 32 -> 16');
    expect(differs.stderr).not.toContain('quantile');

    const updated = await runCli(['collection', 'create', name, '--m', '16', '--update'], { env, cwd });
    expect(updated.code).toBe(0);
    expect(updated.stdout).toContain('hnsw.m 32 -> 16');
    expect(
      (await official().api('collections').get({ collectionName: name })).result!.config!.hnswConfig!.m,
    ).toBe(16n);

    const size = await runCli(['collection', 'create', name, '--m', '16', '--vector-size', '768'], {
      env,
      cwd,
    });
    expect(size.code).toBe(1);
    expect(size.stderr).toContain('vectorSize 1024 -> 768 (needs --recreate --yes)');
  });

  it('learns the vector size from TEI with --vector-size auto', async () => {
    const name = uniqueName('auto');
    const result = await runCli(['collection', 'create', name, '--vector-size', 'auto', '--json'], {
      env,
      cwd,
    });
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { action: string; spec: { vectorSize: number } };
    // 1024 from the test TEI; a real one says what its model makes.
    expect(output).toMatchObject({
      action: 'created',
      spec: { vectorSize: await embeddingSize(stack.teiUrl) },
    });
  });

  it('prints the request with --dry-run and sends nothing', async () => {
    const name = uniqueName('dry');
    const result = await runCli(['collection', 'create', name, '--dry-run', '--json'], { env, cwd });
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout) as { requests: { create: { collectionName: string } } };
    expect(plan.requests.create.collectionName).toBe(name);
    expect(
      (await official().api('collections').collectionExists({ collectionName: name })).result?.exists,
    ).toBe(false);
  });

  it('shows info as JSON, recreates with --yes and deletes', async () => {
    const name = uniqueName('info');
    expect((await runCli(['collection', 'create', name], { env, cwd })).code).toBe(0);
    const info = await runCli(['collection', 'info', name, '--json'], { env, cwd });
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({
      name,
      status: 'green',
      points: 0,
      config: { vectorSize: 1024 },
    });
    expect(
      (await runCli(['collection', 'create', name, '--recreate', '--yes'], { env, cwd })).stdout,
    ).toContain('recreated');
    expect((await runCli(['collection', 'delete', name, '--yes'], { env, cwd })).code).toBe(0);
    const missing = await runCli(['collection', 'info', name], { env, cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`collection ${name} does not exist`);
    expect(missing.stderr).toContain(`taboot collection create ${name}`);
  });
});

describe('taboot errors (built binary)', () => {
  it('exits 2 naming the key of a bad config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taboot-e2e-bad-'));
    writeFileSync(
      join(dir, 'taboot.config.json'),
      JSON.stringify({ qdrant: { url: 'localhost:6334' }, collection: { hnsw: { m: 'x' } } }),
    );
    const result = await runCli(['collection', 'create'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('qdrant.url: expected a URL starting with http:// or https://');
    expect(result.stderr).toContain('collection.hnsw.m:');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 naming the URL when Qdrant is unreachable (a hang would meet the run limit)', async () => {
    const result = await runCli(['collection', 'create'], {
      cwd,
      env: { TABOOT_QDRANT_URL: 'http://127.0.0.1:9' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Qdrant at http://127.0.0.1:9');
    expect(result.stderr).toContain('cannot connect');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('never prints an API key, --debug included', async () => {
    const secret = 'sk-test-4f9d2c7e1b';
    for (const args of [
      ['collection', 'create', '--debug'],
      ['collection', 'info', '--debug', '--json'],
      ['collection', 'create', '--dry-run', '--debug'],
    ]) {
      const result = await runCli(args, {
        cwd,
        env: { TABOOT_QDRANT_URL: 'http://127.0.0.1:9', QDRANT_API_KEY: secret, TEI_API_KEY: secret },
      });
      expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
    }
  });

  it('prints a stack only with --debug for an unreachable service', async () => {
    const result = await runCli(['collection', 'info', '--debug'], {
      cwd,
      env: { TABOOT_QDRANT_URL: 'http://127.0.0.1:9' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\n\s+at /);
  });
});
