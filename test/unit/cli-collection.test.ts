import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CreateCollectionOptions, CreateCollectionResult } from '../../src/collections/create.js';
import type { Config } from '../../src/config/schema.js';

const calls: Array<{ config: Config; options: CreateCollectionOptions }> = [];
let nextResult: CreateCollectionResult | undefined;

vi.mock('../../src/collections/create.js', () => ({
  createCollection: vi.fn(async (config: Config, options: CreateCollectionOptions) => {
    calls.push({ config, options });
    return nextResult;
  }),
}));
vi.mock('../../src/ui/collection-report.js', () => ({ renderCreateResult: vi.fn() }));

const { main } = await import('../../src/cli.js');

let stderr = '';
let cwd = '';
beforeEach(() => {
  calls.length = 0;
  nextResult = {
    kind: 'outcome',
    spec: {} as never,
    outcome: { action: 'up-to-date', name: 'x' },
    vectorSizeFrom: undefined,
  };
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  cwd = mkdtempSync(join(tmpdir(), 'taboot-cli-'));
  vi.spyOn(process, 'cwd').mockReturnValue(cwd);
  for (const name of [
    'TABOOT_QDRANT_URL',
    'TABOOT_TEI_URL',
    'TABOOT_COLLECTION',
    'QDRANT_API_KEY',
    'TEI_API_KEY',
  ])
    vi.stubEnv(name, '');
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('taboot collection create: argv to options', () => {
  it.each([
    [
      [],
      {
        name: 'technical_docs',
        vectorSize: 1024,
        distance: 'Cosine',
        m: 32,
        efConstruct: 256,
        quantization: 'int8',
      },
    ],
    [['docs'], { name: 'docs' }],
    [['--vector-size', '768', '--distance', 'dot'], { vectorSize: 768, distance: 'Dot' }],
    [['--m', '16', '--ef-construct', '100'], { m: 16, efConstruct: 100 }],
    [['--m', '0'], { m: 0 }],
    [['--quantization', 'none', '--on-disk'], { quantization: 'none', onDisk: true }],
    [
      ['--shards', '3', '--replication-factor', '2', '--write-consistency', '2'],
      { shards: 3, replicationFactor: 2, writeConsistencyFactor: 2 },
    ],
  ])('%j', async (argv, expected) => {
    expect(await main(['collection', 'create', ...argv])).toBe(0);
    const collection = calls[0]!.config.collection;
    const actual = {
      name: collection.name,
      vectorSize: collection.vectorSize,
      distance: collection.distance,
      m: collection.hnsw.m,
      efConstruct: collection.hnsw.efConstruct,
      quantization: collection.quantization.type,
      onDisk: collection.onDisk,
      shards: collection.shards,
      replicationFactor: collection.replicationFactor,
      writeConsistencyFactor: collection.writeConsistencyFactor,
    };
    expect(actual).toMatchObject(expected);
  });

  it.each([
    [[], { mode: 'create', dryRun: false, autoVectorSize: false }],
    [['--update'], { mode: 'update' }],
    [['--recreate', '--yes'], { mode: 'recreate' }],
    [['--dry-run'], { dryRun: true }],
    [['--vector-size', 'auto'], { autoVectorSize: true }],
  ])('%j sets the mode', async (argv, expected) => {
    expect(await main(['collection', 'create', ...argv])).toBe(0);
    expect(calls[0]!.options).toMatchObject(expected);
  });

  it('takes connection flags over the environment', async () => {
    vi.stubEnv('TABOOT_QDRANT_URL', 'http://env-host:6334');
    expect(await main(['collection', 'create', '--qdrant-url', 'http://flag-host:6334'])).toBe(0);
    expect(calls[0]!.config.qdrant.url).toBe('http://flag-host:6334');
  });

  it.each([
    [['--m', 'x'], 'Expected `--m` to be a non-negative integer, got `x`'],
    [['--vector-size', '0'], 'Expected `--vector-size` to be a positive integer, got `0`'],
    [
      ['--distance', 'hamming'],
      'Expected `--distance` to be one of Cosine, Dot, Euclid, Manhattan, got `hamming`',
    ],
    [['--quantization', 'int4'], 'int4'],
    [['--recreate'], '--recreate deletes every point in the collection; add --yes to confirm'],
    [['--update', '--recreate', '--yes'], "option '--update' cannot be used with option '--recreate'"],
    [['--bogus'], "unknown option '--bogus'"],
  ])('rejects %j with exit 2', async (argv, message) => {
    expect(await main(['collection', 'create', ...argv])).toBe(2);
    expect(stderr).toContain(message);
    expect(calls).toHaveLength(0);
  });

  it('exits 1 when the collection differs', async () => {
    nextResult = {
      kind: 'outcome',
      spec: {} as never,
      outcome: {
        action: 'differs',
        name: 'x',
        differences: [{ path: 'hnsw.m', current: '32', desired: '16', updatable: true }],
      },
      vectorSizeFrom: undefined,
    };
    expect(await main(['collection', 'create', '--m', '16'])).toBe(1);
  });

  it('exits 2 naming the key of a bad config file', async () => {
    writeFileSync(join(cwd, 'taboot.config.json'), '{"collection": {"hnsw": {"m": "many"}}}');
    expect(await main(['collection', 'create'])).toBe(2);
    expect(stderr).toContain('collection.hnsw.m:');
    expect(calls).toHaveLength(0);
  });

  it('refuses collection delete without --yes', async () => {
    expect(await main(['collection', 'delete', 'docs'])).toBe(2);
    expect(stderr).toContain('add --yes to confirm');
  });
});
