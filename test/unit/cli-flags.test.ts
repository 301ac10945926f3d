import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * argv -> options for every command and every flag, with each command's core mocked: the call the
 * core receives is recorded in `call`, and each row names the values it expects there by path.
 */
let call: Record<string, unknown> = {};

vi.mock('../../src/pipeline/ingest-job.js', () => ({
  ingestJob: vi.fn(async (options: Record<string, unknown>) => {
    call.config = options.config;
    call.options = options;
    return { summary: { interrupted: false, skipped: 0, failed: 0, duplicates: 0 }, fatal: undefined };
  }),
}));
vi.mock('../../src/pipeline/reindex.js', () => ({
  reindexJob: vi.fn(async (options: Record<string, unknown>) => {
    call.config = options.config;
    call.options = options;
    return { summary: { interrupted: false, skipped: 0, failed: 0, duplicates: 0 }, fatal: undefined };
  }),
}));
vi.mock('../../src/pipeline/metrics-file.js', () => ({
  metricsFileFor: vi.fn(async (path: string) => {
    call.metricsFile = path;
    return { write: async () => {}, writeFailure: async () => {} };
  }),
}));
vi.mock('../../src/ui/ingest-view.js', () => ({
  createIngestView: vi.fn((output: unknown, mode: string) => {
    call.output = output;
    call.progress = mode;
    return { events: {}, stop: () => {} };
  }),
  renderIngestSummary: vi.fn(),
}));
vi.mock('../../src/search/search.js', () => ({
  runSearch: vi.fn(async (config: unknown, options: unknown) => {
    call.config = config;
    call.options = options;
    return {};
  }),
}));
vi.mock('../../src/ui/search-report.js', () => ({
  renderSearchResult: vi.fn((_output: unknown, _result: unknown, options: unknown) => {
    call.render = options;
  }),
}));
vi.mock('../../src/collections/create.js', () => ({
  createCollection: vi.fn(async (config: unknown, options: unknown) => {
    call.config = config;
    call.options = options;
    return { kind: 'outcome', outcome: { action: 'up-to-date', name: 'x' } };
  }),
}));
vi.mock('../../src/qdrant/client.js', () => ({
  Qdrant: class {
    constructor(readonly config: unknown) {}
  },
}));
vi.mock('../../src/qdrant/collections.js', () => ({
  describeCollection: vi.fn(async (qdrant: { config: unknown }, name: string) => {
    call.qdrant = qdrant.config;
    call.name = name;
    return {};
  }),
  deleteExistingCollection: vi.fn(async (qdrant: { config: unknown }, name: string) => {
    call.qdrant = qdrant.config;
    call.name = name;
  }),
}));
vi.mock('../../src/ui/collection-report.js', () => ({
  renderCreateResult: vi.fn(),
  renderCollectionInfo: vi.fn(),
  renderDeleted: vi.fn(),
}));
vi.mock('../../src/bench/run-bench.js', () => ({
  runBench: vi.fn(async (config: unknown, plan: unknown) => {
    call.config = config;
    call.plan = plan;
    const result = {
      version: 1,
      taboot_version: '0',
      started_at: '',
      machine: { cpus: 1, node: 'v' },
      settings: {},
    };
    return { result, kept: [] };
  }),
  finishBench: vi.fn(async (_result: unknown, options: unknown) => {
    call.finish = options;
    return undefined;
  }),
}));
vi.mock('../../src/bench/baseline.js', () => ({
  readBaseline: vi.fn(async (path: string) => {
    call.baselineRead = path;
    return { from: path };
  }),
}));
vi.mock('../../src/ui/bench-report.js', () => ({
  createBenchProgress: vi.fn(() => ({ phase() {}, progress() {}, warn() {}, stop() {} })),
  printBenchResult: vi.fn((_output: unknown, printed: unknown) => {
    call.render = printed;
  }),
}));
vi.mock('../../src/gpu/gpu-status.js', () => ({
  GpuStatusProbe: class {
    constructor(config: unknown, options: unknown) {
      call.config = config;
      call.options = options;
    }
    async collect() {
      // A --watch loop runs until Ctrl-C: send it after the first report.
      if ((call.options as { watch?: boolean }).watch !== false) queueMicrotask(() => process.emit('SIGINT'));
      return { healthy: true };
    }
    async close() {}
  },
}));
vi.mock('../../src/ui/gpu-status-report.js', () => ({
  renderGpuStatus: vi.fn((_output: unknown, _result: unknown, options: unknown) => {
    call.render = options;
  }),
}));

const { main, buildProgram } = await import('../../src/cli.js');

type Row = [command: string, args: string[], expected: Record<string, unknown>];

const ingestRows: Row[] = [
  ['ingest', ['docs', 'notes.jsonl'], { 'options.paths': ['docs', 'notes.jsonl'], progress: 'auto' }],
  [
    'ingest',
    ['docs', '--include', '*.md', '--include', '*.txt'],
    { 'config.ingest.include': ['*.md', '*.txt'] },
  ],
  ['ingest', ['docs', '--exclude', 'drafts/**'], { 'config.ingest.exclude': ['drafts/**'] }],
  ['ingest', ['docs', '--text-field', 'body'], { 'config.ingest.textField': 'body' }],
  ['ingest', ['docs', '--id-field', 'uuid'], { 'config.ingest.idField': 'uuid' }],
  ['ingest', ['docs', '--max-line-bytes', '1024'], { 'config.ingest.maxLineBytes': 1024 }],
  ['ingest', ['docs', '--chunk-tokens', '256'], { 'config.ingest.chunkTokens': 256 }],
  ['ingest', ['docs', '--chunk-overlap', '0'], { 'config.ingest.chunkOverlap': 0 }],
  ['ingest', ['docs', '--min-chunk-tokens', '32'], { 'config.ingest.minChunkTokens': 32 }],
  ['ingest', ['docs', '--embed-concurrency', '8'], { 'config.tei.concurrency': 8 }],
  ['ingest', ['docs', '--embed-concurrency', 'auto'], { 'config.tei.concurrency': 'auto' }],
  ['ingest', ['docs', '--max-client-batch-size', '16'], { 'config.tei.maxClientBatchSize': 16 }],
  ['ingest', ['docs', '--max-batch-tokens', '4096'], { 'config.tei.maxBatchTokens': 4096 }],
  ['ingest', ['docs', '--batch-size', '100'], { 'config.ingest.batchSize': 100 }],
  ['ingest', ['docs', '--batch-bytes', '1048576'], { 'config.ingest.batchBytes': 1_048_576 }],
  ['ingest', ['docs', '--parallel', '2'], { 'config.ingest.parallel': 2 }],
  ['ingest', ['docs', '--read-workers', '0'], { 'config.ingest.readWorkers': 0 }],
  ['ingest', ['docs', '--wait'], { 'config.ingest.wait': true }],
  ['ingest', ['docs'], { 'config.ingest.wait': false, 'options.dryRun': false, 'options.onError': 'skip' }],
  ['ingest', ['docs', '--max-retries', '0'], { 'config.ingest.maxRetries': 0 }],
  ['ingest', ['docs', '--dry-run'], { 'options.dryRun': true }],
  ['ingest', ['docs'], { 'options.prune': false, 'options.reembed': false, 'options.bulk': false }],
  ['ingest', ['docs', '--prune'], { 'options.prune': true }],
  ['ingest', ['docs', '--reembed'], { 'options.reembed': true }],
  ['ingest', ['docs', '--bulk'], { 'options.bulk': true }],
  [
    'ingest',
    ['docs', '--dry-run', '--chunks-out', 'c.jsonl'],
    { 'options.chunkReport': { path: 'c.jsonl' } },
  ],
  ['ingest', ['docs', '--metrics-file', 'm.prom'], { metricsFile: 'm.prom' }],
  ['ingest', ['docs', '--on-error', 'fail'], { 'options.onError': 'fail', 'config.ingest.onError': 'fail' }],
  ['ingest', ['docs', '--failed-out', 'failed.jsonl'], { 'options.failedOut': 'failed.jsonl' }],
  ['ingest', ['docs', '--progress', 'ndjson'], { progress: 'ndjson' }],
  ['ingest', ['docs', '--qdrant-url', 'http://q:6334'], { 'config.qdrant.url': 'http://q:6334' }],
  ['ingest', ['docs', '--tei-url', 'http://t:8080'], { 'config.tei.url': 'http://t:8080' }],
  ['ingest', ['docs', '--collection', 'docs'], { 'config.collection.name': 'docs' }],
  ['ingest', ['docs', '-c', 'notes'], { 'config.collection.name': 'notes' }],
];

const globalRows: Row[] = [
  ['ingest', ['docs'], { 'output.json': false, 'output.quiet': false, 'output.debug': false }],
  ['ingest', ['--json', 'docs'], { 'output.json': true }],
  ['ingest', ['-q', 'docs'], { 'output.quiet': true }],
  ['ingest', ['docs', '--quiet'], { 'output.quiet': true }],
  ['ingest', ['--debug', 'docs'], { 'output.debug': true }],
  ['ingest', ['--no-color', 'docs'], { 'output.c.level': 0, 'output.err.level': 0 }],
  ['ingest', ['--config', '{dir}/other.json', 'docs'], { 'config.collection.name': 'from_flag_file' }],
];

const searchRows: Row[] = [
  [
    'search',
    ['scrape intervals'],
    {
      'options.query': 'scrape intervals',
      'options.limit': 20,
      'options.filters': [],
      'options.rescore': true,
      'options.rerank': false,
      'render.verbose': false,
    },
  ],
  ['search', ['q', '--limit', '5'], { 'options.limit': 5, 'config.search.limit': 5 }],
  ['search', ['q', '-l', '3'], { 'options.limit': 3 }],
  [
    'search',
    ['q', '--filter', 'kind=article', '-f', 'tags=a,b'],
    { 'options.filters': ['kind=article', 'tags=a,b'] },
  ],
  ['search', ['q', '--score-threshold', '-0.5'], { 'options.scoreThreshold': -0.5 }],
  ['search', ['q', '--hnsw-ef', '256'], { 'options.hnswEf': 256 }],
  ['search', ['q', '--exact'], { 'options.exact': true }],
  ['search', ['q', '--no-rescore'], { 'options.rescore': false }],
  ['search', ['q', '--oversampling', '3.5'], { 'options.oversampling': 3.5 }],
  ['search', ['q', '--with-payload', 'title, doc_id,'], { 'options.withPayload': ['title', 'doc_id'] }],
  ['search', ['q'], { 'options.withPayload': undefined, 'options.scoreThreshold': undefined }],
  ['search', ['q', '--rerank'], { 'options.rerank': true, 'options.rerankRequired': false }],
  ['search', ['q', '--rerank-required'], { 'options.rerankRequired': true }],
  ['search', ['q', '--verbose'], { 'render.verbose': true }],
  ['search', ['q', '-v'], { 'render.verbose': true }],
  ['search', ['q', '--qdrant-url', 'http://q:6334'], { 'config.qdrant.url': 'http://q:6334' }],
  ['search', ['q', '--tei-url', 'http://t:8080'], { 'config.tei.url': 'http://t:8080' }],
  ['search', ['q', '-c', 'docs'], { 'config.collection.name': 'docs' }],
  ['search', ['q', '--collection', 'docs2'], { 'config.collection.name': 'docs2' }],
];

const collectionRows: Row[] = [
  [
    'collection create',
    [],
    {
      'config.collection.name': 'technical_docs',
      'options.mode': 'create',
      'options.dryRun': false,
      'options.autoVectorSize': false,
    },
  ],
  ['collection create', ['docs'], { 'config.collection.name': 'docs' }],
  ['collection create', ['--vector-size', '768'], { 'config.collection.vectorSize': 768 }],
  [
    'collection create',
    ['--vector-size', 'auto'],
    { 'options.autoVectorSize': true, 'config.collection.vectorSize': 1024 },
  ],
  ['collection create', ['--distance', 'euclid'], { 'config.collection.distance': 'Euclid' }],
  ['collection create', ['--m', '0'], { 'config.collection.hnsw.m': 0 }],
  ['collection create', ['--ef-construct', '100'], { 'config.collection.hnsw.efConstruct': 100 }],
  ['collection create', ['--quantization', 'none'], { 'config.collection.quantization.type': 'none' }],
  ['collection create', ['--on-disk'], { 'config.collection.onDisk': true }],
  ['collection create', ['--shards', '3'], { 'config.collection.shards': 3 }],
  ['collection create', ['--replication-factor', '2'], { 'config.collection.replicationFactor': 2 }],
  ['collection create', ['--write-consistency', '2'], { 'config.collection.writeConsistencyFactor': 2 }],
  ['collection create', ['--update'], { 'options.mode': 'update' }],
  ['collection create', ['--recreate', '--yes'], { 'options.mode': 'recreate' }],
  ['collection create', ['--recreate', '-y'], { 'options.mode': 'recreate' }],
  ['collection create', ['--dry-run'], { 'options.dryRun': true }],
  ['collection create', ['--qdrant-url', 'http://q:6334'], { 'config.qdrant.url': 'http://q:6334' }],
  ['collection create', ['--tei-url', 'http://t:8080'], { 'config.tei.url': 'http://t:8080' }],
  ['collection info', [], { name: 'technical_docs' }],
  [
    'collection info',
    ['docs', '--qdrant-url', 'http://q:6334'],
    { name: 'docs', 'qdrant.url': 'http://q:6334' },
  ],
  ['collection delete', ['scratch', '--yes'], { name: 'scratch' }],
  [
    'collection delete',
    ['scratch', '-y', '--qdrant-url', 'http://q:6334'],
    { 'qdrant.url': 'http://q:6334' },
  ],
];

/** Rows every bench subcommand shares: report formats, the baseline gate. */
function finishRows(command: string, positional: string[] = []): Row[] {
  return [
    [
      command,
      positional,
      {
        'render.format': 'table',
        'finish.maxRegression': 0.1,
        'finish.baseline': undefined,
        baselineRead: undefined,
      },
    ],
    [command, [...positional, '--markdown'], { 'render.format': 'markdown' }],
    [command, ['--json', ...positional], { 'render.format': 'json' }],
    [command, [...positional, '--report', 'out/bench.html'], { 'finish.reportHtml': 'out/bench.html' }],
    [
      command,
      [...positional, '--baseline', 'b.json'],
      { baselineRead: 'b.json', 'finish.baseline': { from: 'b.json' } },
    ],
    [command, [...positional, '--max-regression', '0.25'], { 'finish.maxRegression': 0.25 }],
    [command, [...positional, '--save-baseline', 's.json'], { 'finish.saveBaseline': 's.json' }],
  ];
}

/** Generated data and the upload (`bench upsert`, `search`, `all`). */
function dataRows(command: string): Row[] {
  return [
    [
      command,
      [],
      {
        'plan.collection': undefined,
        'plan.keep': false,
        'plan.data': {
          count: 100_000,
          dim: 1024,
          distribution: 'uniform',
          seed: 1,
          batchSize: 500,
          batchBytes: 16 * 1024 * 1024,
          parallel: 4,
          wait: false,
          indexTimeoutMs: 600_000,
        },
      },
    ],
    [command, ['--collection', 'b1'], { 'plan.collection': 'b1' }],
    [command, ['-c', 'b2'], { 'plan.collection': 'b2' }],
    [command, ['--keep'], { 'plan.keep': true }],
    [command, ['--count', '1000'], { 'plan.data.count': 1000 }],
    [command, ['--dim', '64'], { 'plan.data.dim': 64 }],
    [command, ['--distribution', 'clustered'], { 'plan.data.distribution': 'clustered' }],
    [command, ['--batch-size', '50'], { 'plan.data.batchSize': 50, 'config.ingest.batchSize': 50 }],
    [command, ['--parallel', '8'], { 'plan.data.parallel': 8 }],
    [command, ['--wait'], { 'plan.data.wait': true }],
    [command, ['--seed', '0'], { 'plan.data.seed': 0 }],
    [command, ['--index-timeout', '1.5'], { 'plan.data.indexTimeoutMs': 1500 }],
    [command, ['--qdrant-url', 'http://q:6334'], { 'config.qdrant.url': 'http://q:6334' }],
  ];
}

/** Search levels (`bench search`, `all`). */
function searchLevelRows(command: string): Row[] {
  return [
    [
      command,
      [],
      {
        'plan.search': { queries: 200, concurrency: [1, 4, 16], hnswEf: [64, 128, 256], k: 10, filters: [] },
      },
    ],
    [command, ['--queries', '50'], { 'plan.search.queries': 50 }],
    [command, ['--concurrency', '2,8'], { 'plan.search.concurrency': [2, 8] }],
    [command, ['--hnsw-ef', '32,64'], { 'plan.search.hnswEf': [32, 64] }],
    [command, ['--k', '5'], { 'plan.search.k': 5 }],
    [command, ['-k', '3'], { 'plan.search.k': 3 }],
    [
      command,
      ['--filter', 'bucket<10', '-f', 'bucket>2'],
      { 'plan.search.filters': ['bucket<10', 'bucket>2'] },
    ],
  ];
}

const benchRows: Row[] = [
  ['bench upsert', [], { 'plan.scenarios': ['upsert'] }],
  ...dataRows('bench upsert'),
  ...finishRows('bench upsert'),
  ['bench search', [], { 'plan.scenarios': ['search'] }],
  ...dataRows('bench search'),
  ...searchLevelRows('bench search'),
  ...finishRows('bench search'),
  [
    'bench embed',
    [],
    {
      'plan.scenarios': ['embed'],
      'plan.embed': { corpus: undefined, docs: 1000, concurrency: [1, 4, 16], batchSize: undefined },
      'plan.data.seed': 1,
    },
  ],
  ['bench embed', ['--corpus', 'docs'], { 'plan.embed.corpus': 'docs' }],
  ['bench embed', ['--docs', '10'], { 'plan.embed.docs': 10 }],
  ['bench embed', ['--concurrency', '2'], { 'plan.embed.concurrency': [2] }],
  // In `bench embed`, --batch-size is texts per TEI request, not points per upsert.
  ['bench embed', ['--batch-size', '8'], { 'plan.embed.batchSize': 8, 'config.ingest.batchSize': 500 }],
  ['bench embed', ['--seed', '7'], { 'plan.data.seed': 7 }],
  ['bench embed', ['--tei-url', 'http://t:8080'], { 'config.tei.url': 'http://t:8080' }],
  ...finishRows('bench embed'),
  [
    'bench ingest',
    ['docs'],
    { 'plan.scenarios': ['ingest'], 'plan.ingest.paths': ['docs'], 'plan.keep': false },
  ],
  [
    'bench ingest',
    ['docs', '--batch-size', '64'],
    { 'config.ingest.batchSize': 64, 'plan.data.batchSize': 64 },
  ],
  ['bench ingest', ['docs', '--parallel', '2'], { 'config.ingest.parallel': 2 }],
  ['bench ingest', ['docs', '--embed-concurrency', '6'], { 'config.tei.concurrency': 6 }],
  ['bench ingest', ['docs', '--keep'], { 'plan.keep': true }],
  ['bench ingest', ['docs', '--index-timeout', '30'], { 'plan.data.indexTimeoutMs': 30_000 }],
  ['bench ingest', ['docs', '--qdrant-url', 'http://q:6334'], { 'config.qdrant.url': 'http://q:6334' }],
  ['bench ingest', ['docs', '--tei-url', 'http://t:8080'], { 'config.tei.url': 'http://t:8080' }],
  ...finishRows('bench ingest', ['docs']),
  ['bench all', [], { 'plan.scenarios': ['upsert', 'search', 'embed'] }],
  ...dataRows('bench all'),
  ...searchLevelRows('bench all'),
  ['bench all', ['--corpus', 'docs'], { 'plan.embed.corpus': 'docs' }],
  ['bench all', ['--docs', '20'], { 'plan.embed.docs': 20 }],
  // In `bench all`, --concurrency is the search levels and --embed-concurrency the embed levels.
  [
    'bench all',
    ['--concurrency', '3', '--embed-concurrency', '5,6'],
    { 'plan.search.concurrency': [3], 'plan.embed.concurrency': [5, 6], 'config.tei.concurrency': 'auto' },
  ],
  ['bench all', ['--embed-batch-size', '4'], { 'plan.embed.batchSize': 4 }],
  ['bench all', ['--tei-url', 'http://t:8080'], { 'config.tei.url': 'http://t:8080' }],
  ...finishRows('bench all'),
];

const gpuStatusRows: Row[] = [
  [
    'gpu-status',
    [],
    {
      options: { timeoutMs: 2000, qdrantRestUrl: undefined, teiUrls: undefined, nvidiaSmi: undefined },
      render: undefined,
    },
  ],
  ['gpu-status', ['--qdrant-rest-url', 'http://q:16333'], { 'options.qdrantRestUrl': 'http://q:16333' }],
  ['gpu-status', ['--nvidia-smi', '/opt/nvidia-smi'], { 'options.nvidiaSmi': '/opt/nvidia-smi' }],
  ['gpu-status', ['--timeout', '500'], { 'options.timeoutMs': 500 }],

  ['gpu-status', ['--watch'], { 'render.watch.intervalSeconds': 2 }],
  ['gpu-status', ['-w', '0.5'], { 'render.watch.intervalSeconds': 0.5 }],
  ['gpu-status', ['--qdrant-url', 'http://q:6334'], { 'config.qdrant.url': 'http://q:6334' }],
  [
    'gpu-status',
    ['--tei-url', 'http://t:8080'],
    { 'config.tei.url': 'http://t:8080', 'options.teiUrls': ['http://t:8080'] },
  ],
  ['gpu-status', ['-c', 'docs'], { 'config.collection.name': 'docs' }],
  ['gpu-status', ['--collection', 'docs'], { 'config.collection.name': 'docs' }],
];

/** `reindex` takes ingest's flags but those that only make sense in place, plus `--keep`. */
const inPlaceOnly = ['--dry-run', '--prune', '--reembed', '--bulk', '--chunks-out'];
const reindexRows: Row[] = [
  ...ingestRows
    .filter(([, args]) => !args.some((arg) => inPlaceOnly.includes(arg)))
    .map(
      ([, args, expected]): Row => [
        'reindex',
        args,
        Object.fromEntries(
          Object.entries(expected).filter(
            ([path]) =>
              !['options.dryRun', 'options.prune', 'options.reembed', 'options.bulk'].includes(path),
          ),
        ),
      ],
    ),
  ['reindex', ['docs'], { 'options.keep': 1 }],
  ['reindex', ['docs', '--keep', '3'], { 'options.keep': 3 }],
];

const rows: Row[] = [
  ...globalRows,
  ...ingestRows,
  ...reindexRows,
  ...searchRows,
  ...collectionRows,
  ...benchRows,
  ...gpuStatusRows,
];

let dir = '';
let stderr = '';
beforeEach(() => {
  call = {};
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  dir = mkdtempSync(join(tmpdir(), 'taboot-cli-flags-'));
  writeFileSync(join(dir, 'other.json'), JSON.stringify({ collection: { name: 'from_flag_file' } }));
  vi.spyOn(process, 'cwd').mockReturnValue(dir);
  for (const name of [
    'TABOOT_QDRANT_URL',
    'TABOOT_TEI_URL',
    'TABOOT_COLLECTION',
    'QDRANT_API_KEY',
    'TEI_API_KEY',
  ])
    vi.stubEnv(name, '');
  // Colour would be on without --no-color: the --no-color row is a real check.
  vi.stubEnv('FORCE_COLOR', '1');
  vi.stubEnv('NO_COLOR', '');
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function at(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) current = (current as Record<string, unknown> | undefined)?.[key];
  return current;
}

describe('argv -> options, every command and every flag', () => {
  it.each(rows)('taboot %s %j', async (command, args, expected) => {
    const argv = [...command.split(' '), ...args.map((arg) => arg.replace('{dir}', dir))];
    expect(await main(argv), stderr).toBe(0);
    const actual = Object.fromEntries(Object.keys(expected).map((path) => [path, at(call, path)]));
    expect(actual).toEqual(expected);
  });

  it('has a row for every flag of every command', () => {
    const missing: string[] = [];
    const visit = (command: Command, path: string) => {
      for (const option of command.options) {
        if (option.long === '--version') continue;
        const used = rows.some(
          ([rowCommand, args]) =>
            (path === '' || rowCommand === path) &&
            args.some((arg) => arg === option.long || arg === option.short),
        );
        if (!used) missing.push(`${path || 'taboot'} ${option.long}`);
      }
      for (const child of command.commands) visit(child, [path, child.name()].filter(Boolean).join(' '));
    };
    visit(buildProgram(), '');
    expect(missing).toEqual([]);
  });
});

describe('flags the parser refuses, exit 2 and nothing called', () => {
  it.each([
    ['ingest', ['docs', '--batch-size', '0'], 'Expected `--batch-size` to be a positive integer, got `0`'],
    ['ingest', ['docs', '--chunk-overlap', '-1'], 'Expected `--chunk-overlap` to be a non-negative integer'],
    [
      'ingest',
      ['docs', '--embed-concurrency', 'max'],
      'Expected `--embed-concurrency` to be a positive integer or `auto`, got `max`',
    ],
    ['ingest', ['docs', '--progress', 'fancy'], "argument 'fancy' is invalid"],
    ['ingest', ['docs', '--on-error', 'ignore'], "argument 'ignore' is invalid"],
    ['ingest', [], "missing required argument 'path'"],
    ['search', ['q', '--score-threshold', 'high'], 'Expected `--score-threshold` to be a number, got `high`'],
    ['search', ['q', '--oversampling', '0'], 'Expected `--oversampling` to be a positive number, got `0`'],
    ['bench search', ['--concurrency', '1,,4'], 'Expected `--concurrency` to be positive integers'],
    ['bench upsert', ['--max-regression', '-1'], 'Expected `--max-regression` to be a number >= 0'],
    ['bench upsert', ['--json', '--markdown'], '--json and --markdown both print the result on stdout'],
    ['gpu-status', ['--qdrant-rest-url', 'q:6333'], 'Expected `--qdrant-rest-url` to be a URL'],
    ['collection delete', ['scratch'], 'add --yes to confirm'],
  ])('taboot %s %j', async (command, args, message) => {
    expect(await main([...command.split(' '), ...args])).toBe(2);
    expect(stderr).toContain(message);
    expect(call.config).toBeUndefined();
  });
});
