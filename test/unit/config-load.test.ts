import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { redactConfig, redactText } from '../../src/config/redact.js';
import { ConfigError } from '../../src/errors.js';

function projectWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'taboot-config-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('loadConfig', () => {
  it('gives the seed defaults when there is no config file', async () => {
    const { config, filepath } = await loadConfig({ cwd: projectWith({}), env: {} });
    expect(filepath).toBeUndefined();
    expect(config.qdrant.url).toBe('http://localhost:6334');
    expect(config.collection).toMatchObject({
      name: 'technical_docs',
      vectorSize: 1024,
      distance: 'Cosine',
      hnsw: { m: 32, efConstruct: 256, fullScanThreshold: 10_000 },
      quantization: { type: 'int8', quantile: 0.99, alwaysRam: true },
      optimizers: { defaultSegmentNumber: 2, maxSegmentSizeKb: 500_000, indexingThresholdKb: 20_000 },
    });
    expect(config.ingest).toMatchObject({ batchSize: 500, parallel: 4, wait: false });
    expect(config.search).toMatchObject({ hnswEf: 128, limit: 20, rescore: true, oversampling: 2 });
    expect(Object.keys(config.collection.payloadIndexes)).toEqual([
      'doc_id',
      'source',
      'service_name',
      'section',
      'tags',
      'created_at',
      'chunk_index',
    ]);
  });

  it.each([
    ['taboot.config.json', '{"collection": {"name": "from_json"}}'],
    ['.tabootrc', '{"collection": {"name": "from_json"}}'],
    ['.tabootrc.json', '{"collection": {"name": "from_json"}}'],
    ['.tabootrc.yaml', 'collection:\n  name: from_json\n'],
    ['package.json', '{"name": "x", "taboot": {"collection": {"name": "from_json"}}}'],
  ])('reads %s', async (file, content) => {
    const dir = projectWith({ [file]: content });
    const { config, filepath } = await loadConfig({ cwd: dir, env: {} });
    expect(config.collection.name).toBe('from_json');
    expect(filepath).toBe(join(dir, file));
  });

  it('reads an explicit --config path', async () => {
    const dir = projectWith({ 'custom.json': '{"ingest": {"batchSize": 64}}' });
    const { config } = await loadConfig({ configPath: join(dir, 'custom.json'), cwd: dir, env: {} });
    expect(config.ingest.batchSize).toBe(64);
  });

  it('applies flags over environment over file', async () => {
    const dir = projectWith({
      'taboot.config.json': JSON.stringify({
        qdrant: { url: 'http://file:6334' },
        collection: { name: 'file' },
      }),
    });
    const env = {
      TABOOT_QDRANT_URL: 'http://env:6334',
      TABOOT_COLLECTION: 'env',
      TABOOT_TEI_URL: 'http://tei:80',
    };
    const fromEnv = await loadConfig({ cwd: dir, env });
    expect(fromEnv.config.qdrant.url).toBe('http://env:6334');
    expect(fromEnv.config.collection.name).toBe('env');
    expect(fromEnv.config.tei.url).toBe('http://tei:80');
    const fromFlags = await loadConfig({ cwd: dir, env, overrides: { collection: { name: 'flag' } } });
    expect(fromFlags.config.collection.name).toBe('flag');
    expect(fromFlags.config.qdrant.url).toBe('http://env:6334');
  });

  it("lets a TEI url from a flag or the environment replace the file's tei.urls", async () => {
    const cwd = projectWith({
      'taboot.config.json': JSON.stringify({ tei: { urls: ['http://a:8080', 'http://b:8080'] } }),
    });
    const fromFile = await loadConfig({ cwd, env: {} });
    expect(fromFile.config.tei.urls).toEqual(['http://a:8080', 'http://b:8080']);
    const fromFlag = await loadConfig({ cwd, env: {}, overrides: { tei: { url: 'http://c:8080' } } });
    expect(fromFlag.config.tei.url).toBe('http://c:8080');
    expect(fromFlag.config.tei.urls).toBeUndefined();
    const fromEnv = await loadConfig({ cwd, env: { TABOOT_TEI_URL: 'http://d:8080' } });
    expect(fromEnv.config.tei.url).toBe('http://d:8080');
    expect(fromEnv.config.tei.urls).toBeUndefined();
  });

  it('ignores flags that were not given', async () => {
    const dir = projectWith({ 'taboot.config.json': '{"collection": {"hnsw": {"m": 48}}}' });
    const { config } = await loadConfig({
      cwd: dir,
      env: {},
      overrides: { collection: { hnsw: { m: undefined } } },
    });
    expect(config.collection.hnsw.m).toBe(48);
  });

  it('interpolates ${VAR} in string values and reads API keys from the environment', async () => {
    const dir = projectWith({ 'taboot.config.json': '{"tei": {"url": "http://${TEI_HOST}:8080"}}' });
    const { config } = await loadConfig({
      cwd: dir,
      env: { TEI_HOST: 'gpu-box', QDRANT_API_KEY: 'qdrant-secret-key', TEI_API_KEY: 'tei-secret-key' },
    });
    expect(config.tei.url).toBe('http://gpu-box:8080');
    expect(config.qdrant.apiKey).toBe('qdrant-secret-key');
    expect(config.tei.apiKey).toBe('tei-secret-key');
  });

  it('names an unset ${VAR} with its config path', async () => {
    const dir = projectWith({ 'taboot.config.json': '{"qdrant": {"apiKey": "${MISSING_KEY}"}}' });
    const error = await configError(loadConfig({ cwd: dir, env: {} }));
    expect(error.problems).toEqual(['qdrant.apiKey: environment variable MISSING_KEY is not set']);
    expect(error.exitCode).toBe(2);
  });

  it('takes tei.concurrency as a number or auto (the default), and names it when it is neither', async () => {
    expect((await loadConfig({ cwd: projectWith({}), env: {} })).config.tei.concurrency).toBe('auto');
    const fixed = projectWith({ 'taboot.config.json': '{"tei": {"concurrency": 8}}' });
    expect((await loadConfig({ cwd: fixed, env: {} })).config.tei.concurrency).toBe(8);
    const wrong = projectWith({ 'taboot.config.json': '{"tei": {"concurrency": "fast"}}' });
    const error = await configError(loadConfig({ cwd: wrong, env: {} }));
    expect(error.problems.some((line) => line.startsWith('tei.concurrency: '))).toBe(true);
  });

  it('reports one line per problem, each naming its path', async () => {
    const dir = projectWith({
      'taboot.config.json': JSON.stringify({
        qdrant: { url: 'localhost:6334' },
        collection: { vectorSize: 0, distance: 'cosine', hnsw: { m: -1 } },
        ingest: { batchSize: 'big' },
        colection: {},
      }),
    });
    const error = await configError(loadConfig({ cwd: dir, env: {} }));
    expect(error.problems).toContain('qdrant.url: expected a URL starting with http:// or https://');
    expect(error.problems.some((line) => line.startsWith('collection.vectorSize: '))).toBe(true);
    expect(error.problems.some((line) => line.startsWith('collection.distance: '))).toBe(true);
    expect(error.problems.some((line) => line.startsWith('collection.hnsw.m: '))).toBe(true);
    expect(error.problems.some((line) => line.startsWith('ingest.batchSize: '))).toBe(true);
    expect(error.problems).toContain('colection: unknown key');
    expect(error.message).toContain(join(dir, 'taboot.config.json'));
  });

  it('rejects a bad URL given in the environment', async () => {
    const error = await configError(
      loadConfig({ cwd: projectWith({}), env: { TABOOT_TEI_URL: 'tei:8080' } }),
    );
    expect(error.problems).toEqual(['tei.url: expected a URL starting with http:// or https://']);
  });

  it('reports a config file that is not valid JSON and a --config that does not exist', async () => {
    const dir = projectWith({ 'taboot.config.json': '{"qdrant": ' });
    const broken = await configError(loadConfig({ cwd: dir, env: {} }));
    expect(broken.problems).toEqual([
      `${join(dir, 'taboot.config.json')}:1:12: Unexpected end of JSON input`,
    ]);
    const missing = await configError(loadConfig({ configPath: join(dir, 'nope.json'), env: {} }));
    expect(missing.problems).toEqual([`${join(dir, 'nope.json')}: file not found`]);
  });
});

describe('redaction', () => {
  it('masks the credentials of a URL in any text', () => {
    expect(redactText('TEI at https://bot:s3cr3t@tei.example:8080 answered 429')).toBe(
      'TEI at https://***@tei.example:8080 answered 429',
    );
    expect(redactText('user@example.com and http://tei:8080')).toBe('user@example.com and http://tei:8080');
  });

  it('masks secret keys wherever config is shown, and scrubs registered secrets from text', async () => {
    const { config } = await loadConfig({ cwd: projectWith({}), env: { QDRANT_API_KEY: 'sk-live-123456' } });
    expect(JSON.stringify(redactConfig(config))).not.toContain('sk-live-123456');
    expect(redactConfig(config).qdrant.apiKey).toBe('***');
    expect(redactText('header api-key: sk-live-123456 was refused')).toBe('header api-key: *** was refused');
  });
});
