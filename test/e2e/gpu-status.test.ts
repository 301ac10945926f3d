import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CollectionStatus, Distance, type PointStruct, QdrantClient } from '@qdrant/js-client-grpc';
import { CommanderError } from 'commander';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { registerGpuStatusCommand } from '../../src/commands/gpu-status.js';
import { isTabootError } from '../../src/errors.js';
import type { GpuStatusReport } from '../../src/gpu/report.js';
import { skipOnReal } from '../support/real-servers.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';
import { teiCall } from '../support/tei-server/client.js';

const fakeDir = fileURLToPath(new URL('../support/fake-nvidia-smi/', import.meta.url));

let stack: TestStack;
let collection: string;
let indexedCollection: string;
let cwd: string;
let emptyDir: string;

beforeAll(async () => {
  stack = await startStack();
  cwd = mkdtempSync(join(tmpdir(), 'taboot-gpu-status-'));
  emptyDir = mkdtempSync(join(tmpdir(), 'taboot-no-nvidia-smi-'));
  collection = uniqueName('gpu_status');
  indexedCollection = uniqueName('gpu_status_indexed');
  const client = new QdrantClient({ url: stack.qdrantUrl, checkCompatibility: false, compression: false });
  const points = Array.from(
    { length: 50 },
    (_, i) =>
      ({
        id: { pointIdOptions: { case: 'num', value: BigInt(i + 1) } },
        vectors: {
          vectorsOptions: {
            case: 'vector',
            value: {
              vector: {
                case: 'dense',
                value: { data: Array.from({ length: 8 }, (_, j) => Math.sin(i + j) + 1.5) },
              },
            },
          },
        },
        payload: {},
      }) as PointStruct,
  );
  // The second collection's 1 KB indexing_threshold makes Qdrant index even these 1,600 bytes,
  // kept in one segment (with two, the second one's 18 points would stay below it).
  for (const [name, optimizersConfig] of [
    [collection, undefined],
    [indexedCollection, { indexingThreshold: 1n, defaultSegmentNumber: 1n }],
  ] as const) {
    await client.api('collections').create({
      collectionName: name,
      vectorsConfig: { config: { case: 'params', value: { size: 8n, distance: Distance.Cosine } } },
      optimizersConfig,
    });
    await client.api('points').upsert({ collectionName: name, wait: true, points });
  }
  // A real Qdrant builds the index in the background: wait until it reports it done.
  for (;;) {
    const info = (await client.api('collections').get({ collectionName: indexedCollection })).result;
    if (info?.status === CollectionStatus.Green && info.indexedVectorsCount === 50n) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

let stdout = '';
let stderr = '';
beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process, 'cwd').mockReturnValue(cwd);
  vi.stubEnv('TABOOT_QDRANT_URL', stack.qdrantUrl);
  vi.stubEnv('TABOOT_TEI_URL', stack.teiUrl);
  vi.stubEnv('TABOOT_COLLECTION', collection);
  vi.stubEnv('NO_COLOR', '1');
  vi.stubEnv('FORCE_COLOR', undefined);
  vi.stubEnv('PATH', `${fakeDir}:${process.env.PATH}`);
  vi.stubEnv('FAKE_NVIDIA_SMI_CASE', 'one-gpu');
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await stack.tei?.faults.reset();
  if (stack.qdrant) stack.qdrant.faults.latencyMs = 0;
});

/** `taboot gpu-status ...` in this process, through the real program, with main()'s exit-code rules. */
async function gpuStatus(...args: string[]): Promise<number> {
  const program = buildProgram();
  if (!program.commands.some((command) => command.name() === 'gpu-status')) {
    registerGpuStatusCommand(program);
    program.commands.at(-1)!.exitOverride();
  }
  try {
    await program.parseAsync(['gpu-status', ...args], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (isTabootError(error)) {
      if (error.message) process.stderr.write(`error: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

async function jsonReport(...args: string[]): Promise<{ code: number; report: GpuStatusReport }> {
  const code = await gpuStatus('--json', ...args);
  return { code, report: JSON.parse(stdout) as GpuStatusReport };
}

describe('taboot gpu-status (test servers, recorded nvidia-smi)', () => {
  it('shows the GPU, its processes, TEI and the collection, and exits 0 when all is healthy', async () => {
    const code = await gpuStatus();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('GPU  driver 550.54.14, 1 GPU(s)');
    expect(stdout).toContain('0  NVIDIA GeForce RTX 4070');
    expect(stdout).toContain(
      'memory 6.0 GiB / 12.0 GiB (50%), 6.0 GiB free   util 37%   62 °C   112 W / 200 W',
    );
    expect(stdout).toContain('pid 2817  /usr/local/bin/text-embeddings-router (TEI)  5.1 GiB');
    expect(stdout).toContain(`TEI  ${stack.teiUrl}  up`);
    expect(stdout).toMatch(new RegExp(`model \\S+ \\(${await modelDtype()}\\), TEI 1\\.9\\.3`));
    expect(stdout).toContain('max batch tokens 16,384, max client batch 32, max concurrent requests 512');
    expect(stdout).toMatch(new RegExp(`Qdrant  ${stack.qdrantUrl}  up  1\\.19\\.0`));
    expect(stdout).toContain('GPU indexing unknown: REST URL unknown: pass --qdrant-rest-url');
    expect(stdout).toContain(`collection ${collection}  green, optimizer ok`);
    // 50 vectors of 32 bytes are far below the default indexing_threshold (10,000 KB): none indexed.
    expect(stdout).toContain('points 50, indexed 0 (0.0%) below indexing threshold (10,000 KB)');
    expect(stdout).toMatch(/^re-index fits: needs ~\d+(\.\d)? KiB of 6\.0 GiB free on GPU 0 \(float32/m);
  });

  it('reports every vector indexed once a low indexing_threshold has made Qdrant build the index', async () => {
    const code = await gpuStatus('--collection', indexedCollection);
    expect(code).toBe(0);
    expect(stdout).toContain(`collection ${indexedCollection}  green, optimizer ok`);
    expect(stdout).toContain('points 50, indexed 50 (100.0%), segments');
    stdout = '';
    const { report } = await jsonReport('--collection', indexedCollection);
    expect(report.qdrant.collection).toMatchObject({
      status: 'green',
      points: 50,
      indexedVectors: 50,
      indexedPercent: 100,
      indexingThresholdKb: 1,
      indexing: 'complete',
    });
  });

  it('asks nvidia-smi for the GPU and compute-app fields, without headers or units', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'taboot-smi-log-')), 'calls');
    vi.stubEnv('FAKE_NVIDIA_SMI_LOG', log);
    await gpuStatus();
    expect(readFileSync(log, 'utf8').trim().split('\n').sort()).toEqual([
      '--query-compute-apps=gpu_uuid,pid,process_name,used_memory --format=csv,noheader,nounits',
      '--query-gpu=index,uuid,name,driver_version,memory.used,memory.total,utilization.gpu,temperature.gpu,power.draw,power.limit --format=csv,noheader,nounits',
    ]);
  });

  it('prints the documented JSON shape with --json', async () => {
    const { code, report } = await jsonReport();
    expect(code).toBe(0);
    expect(Object.keys(report).sort()).toEqual([
      'checkedAt',
      'embedder',
      'gpu',
      'healthy',
      'problems',
      'qdrant',
      'reindex',
      'tei',
    ]);
    expect(report).toMatchObject({ healthy: true, problems: [], embedder: { kind: 'tei', note: null } });
    expect(Object.keys(report.gpu).sort()).toEqual([
      'available',
      'driverVersion',
      'gpus',
      'processes',
      'processesError',
      'reason',
    ]);
    expect(report.gpu.gpus[0]).toMatchObject({ index: 0, memoryTotalBytes: 12282 * 1024 * 1024 });
    expect(report.gpu.processes.map((process) => process.role)).toEqual(['tei', 'qdrant']);
    expect(report.tei).toHaveLength(1);
    expect(Object.keys(report.tei[0]!).sort()).toEqual(['error', 'info', 'metrics', 'status', 'url']);
    expect(report.tei[0]).toMatchObject({
      status: 'up',
      info: {
        maxBatchTokens: 16_384,
        maxClientBatchSize: 32,
        version: '1.9.3',
        modelDtype: await modelDtype(),
      },
      metrics: { available: true, queueSize: 0 },
    });
    expect(report.qdrant).toMatchObject({
      status: 'up',
      version: '1.19.0',
      restUrl: null,
      gpuIndexing: { state: 'unknown' },
      collection: {
        name: collection,
        exists: true,
        status: 'green',
        points: 50,
        indexedVectors: 0,
        indexedPercent: 0,
        vectorSize: 8,
        quantization: 'none',
        indexing: 'below-threshold',
      },
    });
    expect(Object.keys(report.reindex).sort()).toEqual([
      'dimensions',
      'float32Bytes',
      'gpuFreeBytes',
      'gpuIndex',
      'graphBytes',
      'int8Bytes',
      'iterationLimitBytes',
      'iterations',
      'message',
      'neededBytes',
      'teiHeldBytes',
      'uploads',
      'vectors',
      'verdict',
    ]);
    expect(report.reindex).toMatchObject({
      verdict: 'fits',
      vectors: 50,
      float32Bytes: 50 * 8 * 4,
      teiHeldBytes: 5210 * 1024 * 1024,
    });
  });

  it('shows two GPUs with unknown power as n/a, and TEI filling the first', async () => {
    vi.stubEnv('FAKE_NVIDIA_SMI_CASE', 'two-gpus');
    const code = await gpuStatus();
    expect(code).toBe(0);
    expect(stdout).toContain('GPU  driver 550.54.14, 2 GPU(s)');
    expect(stdout).toContain('1  NVIDIA GeForce GTX 1650');
    expect(stdout).toContain('util 0%   35 °C   power n/a');
    expect(stdout).toContain('pid 4411  [Not Found]  memory n/a');
    // The freest GPU is the second one: 4 GiB free against the first's 406 MiB.
    expect(stdout).toMatch(/re-index fits: needs ~[\d.]+ KiB of 4\.0 GiB free on GPU 1/);
  });

  it.each([
    [
      'missing-driver',
      "nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate",
    ],
    ['garbage', 'nvidia-smi printed output taboot cannot read: expected 10 comma-separated fields'],
  ])('marks the GPU unavailable and goes on when nvidia-smi reports %s', async (name, reason) => {
    vi.stubEnv('FAKE_NVIDIA_SMI_CASE', name);
    const code = await gpuStatus();
    expect(code).toBe(0);
    expect(stdout).toContain(`GPU  unavailable: ${reason}`);
    expect(stdout).toContain(`TEI  ${stack.teiUrl}  up`);
    expect(stdout).toContain('re-index needs ~');
    expect(stdout).toContain('no GPU information');
  });

  it('says TEI status is not available for an OpenAI-compatible embedder, and stays healthy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taboot-gpu-status-openai-'));
    const configPath = join(dir, 'taboot.config.json');
    writeFileSync(configPath, JSON.stringify({ tei: { kind: 'openai', model: 'm' } }));
    // TABOOT_TEI_URL points at the test TEI: gpu-status must not ask it for TEI's routes.
    const asked = () =>
      (stack.tei?.stats.requests['/info'] ?? 0) + (stack.tei?.stats.requests['/metrics'] ?? 0);
    const before = asked();
    const { code, report } = await jsonReport('--config', configPath);
    expect(code).toBe(0);
    expect(report).toMatchObject({
      healthy: true,
      problems: [],
      tei: [],
      embedder: {
        kind: 'openai',
        note: 'TEI status is not available for tei.kind "openai": an OpenAI-compatible server has no /info or TEI metrics',
      },
    });
    stdout = '';
    expect(await gpuStatus('--config', configPath)).toBe(0);
    expect(stdout).toContain('TEI  TEI status is not available for tei.kind "openai"');
    expect(asked()).toBe(before);
  });

  it('marks the GPU unavailable when no nvidia-smi is on PATH', async () => {
    vi.stubEnv('PATH', emptyDir);
    const { code, report } = await jsonReport();
    expect(code).toBe(0);
    expect(report.gpu).toEqual({
      available: false,
      reason: 'nvidia-smi not found on PATH (no NVIDIA driver on this machine?)',
      driverVersion: null,
      gpus: [],
      processes: [],
      processesError: null,
    });
    expect(report.healthy).toBe(true);
  });

  it('exits 1 and marks TEI down when TEI is stopped', async (context) => {
    if (!stack.tei) return skipOnReal(context, 'tei', 'stops the TEI server to see it reported down');
    await stack.tei!.faults.down();
    const code = await gpuStatus();
    expect(code).toBe(1);
    expect(stdout).toContain(`TEI  ${stack.teiUrl}  DOWN`);
    expect(stdout).toContain('cannot connect (ECONNREFUSED)');
    expect(stdout).toContain(`collection ${collection}  green`);
    expect(stderr).toContain(`error: TEI at ${stack.teiUrl}: cannot connect (ECONNREFUSED)`);

    stdout = '';
    const { code: jsonCode, report } = await jsonReport();
    expect(jsonCode).toBe(1);
    expect(report.healthy).toBe(false);
    expect(report.tei[0]).toMatchObject({ status: 'down', info: null });
    expect(report.problems).toEqual([`TEI at ${stack.teiUrl}: cannot connect (ECONNREFUSED)`]);
  });

  it('exits 1 when the collection does not exist, and says how to create it', async () => {
    const { code, report } = await jsonReport('--collection', 'no_such_collection');
    expect(code).toBe(1);
    expect(report.qdrant.collection).toMatchObject({ exists: false, status: null, points: null });
    expect(report.problems).toEqual([
      'collection no_such_collection does not exist (create it with: taboot collection create no_such_collection)',
    ]);
    expect(report.reindex.verdict).toBe('unknown');

    stdout = '';
    expect(await gpuStatus('--collection', 'no_such_collection')).toBe(1);
    expect(stdout).toContain(
      'collection no_such_collection  missing (create it with: taboot collection create no_such_collection)',
    );
  });

  it('does not wait for a Qdrant that stopped answering: marks it down after --timeout', async (context) => {
    if (!stack.qdrant) return skipOnReal(context, 'qdrant', 'holds every call with injected latency');
    stack.qdrant!.faults.latencyMs = 30_000;
    const { code, report } = await jsonReport('--timeout', '1000');
    expect(code).toBe(1);
    expect(report.qdrant).toMatchObject({
      status: 'down',
      error: `Qdrant at ${stack.qdrantUrl} did not answer within 1000 ms`,
    });
    expect(report.tei[0]?.status).toBe('up');
    expect(report.gpu.available).toBe(true);
  });

  it('says whether Qdrant indexes on the GPU from its REST telemetry', async () => {
    const requests: IncomingMessage[] = [];
    const server: Server = createServer((request, response) => {
      requests.push(request);
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          result: {
            app: {
              name: 'qdrant',
              version: '1.19.0',
              features: { debug: false, gpu: true, rocksdb: false },
              system: { gpu_devices: [{ name: 'NVIDIA GeForce RTX 4070' }] },
            },
          },
          status: 'ok',
          time: 0.0001,
        }),
      );
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const restUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const code = await gpuStatus('--qdrant-rest-url', restUrl);
      expect(code).toBe(0);
      expect(stdout).toContain('GPU indexing on (NVIDIA GeForce RTX 4070)');
      expect(requests.map((request) => request.url)).toEqual(['/telemetry?details_level=1']);
    } finally {
      server.close();
    }
  });

  it('rejects a --qdrant-rest-url that is not a URL with exit code 2', async () => {
    expect(await gpuStatus('--qdrant-rest-url', 'localhost:6333')).toBe(2);
    expect(stderr).toContain('Expected `--qdrant-rest-url` to be a URL starting with http:// or https://');
  });
});

describe('taboot gpu-status --watch', () => {
  /** Waits until `count` reports are out, then presses Ctrl-C. */
  async function interruptAfter(count: number, reports: () => number): Promise<void> {
    while (reports() < count) await new Promise((resolve) => setTimeout(resolve, 10));
    process.emit('SIGINT', 'SIGINT');
  }

  it('prints one JSON line per interval and stops cleanly on SIGINT', async () => {
    const listenersBefore = process.listenerCount('SIGINT');
    const lines = () => stdout.split('\n').filter(Boolean);
    const [code] = await Promise.all([
      gpuStatus('--json', '--watch', '0.05'),
      interruptAfter(3, () => lines().length),
    ]);
    expect(code).toBe(0);
    const reports = lines().map((line) => JSON.parse(line) as GpuStatusReport);
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(reports.every((report) => report.healthy && report.gpu.available)).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(listenersBefore);
  });

  it('redraws in place on a TTY and exits with the last report health', async (context) => {
    if (!stack.tei) return skipOnReal(context, 'tei', 'stops the TEI server to see it reported down');
    await stack.tei!.faults.down();
    const original = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    try {
      const frames = () => stdout.split('\x1b[H\x1b[2J').length - 1;
      const [code] = await Promise.all([gpuStatus('--watch', '0.05'), interruptAfter(2, frames)]);
      expect(code).toBe(1);
      expect(stdout.startsWith('\x1b[H\x1b[2J')).toBe(true);
      const frame = stdout.split('\x1b[H\x1b[2J')[1]!;
      expect(frame).toContain('every 0.05 s, Ctrl-C to stop');
      expect(frame).toContain(`TEI  ${stack.teiUrl}  DOWN`);
      expect(frame).toContain('problems');
      // Problems are part of each frame, not repeated on stderr.
      expect(stderr).toBe('');
    } finally {
      if (original) Object.defineProperty(process.stdout, 'isTTY', original);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
  });
});

/** What TEI's `/info` says of the model's dtype: float16 from the test server, whatever a real one serves. */
async function modelDtype(): Promise<string> {
  const info = (await teiCall(stack.teiUrl, 'GET', '/info')).json as { model_dtype: string };
  return info.model_dtype;
}
