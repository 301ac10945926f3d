import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readGpus } from '../../src/gpu/nvidia-smi.js';
import {
  NvidiaSmiFormatError,
  parseComputeApps,
  parseGpuQuery,
  processRole,
} from '../../src/gpu/nvidia-smi-parse.js';

const fakeDir = fileURLToPath(new URL('../support/fake-nvidia-smi/', import.meta.url));
const recorded = (name: string, file: string) => readFileSync(join(fakeDir, 'cases', name, file), 'utf8');
const MiB = 1024 * 1024;

describe('parseGpuQuery', () => {
  it('reads one GPU: memory in bytes, free memory, utilisation, temperature and power', () => {
    const [gpu, ...rest] = parseGpuQuery(recorded('one-gpu', 'gpus.txt'));
    expect(rest).toEqual([]);
    expect(gpu).toEqual({
      index: 0,
      uuid: 'GPU-5a3c1f0e-9b7d-4c2a-8e61-0f3d2b9a7c14',
      name: 'NVIDIA GeForce RTX 4070',
      driverVersion: '550.54.14',
      memoryUsedBytes: 6143 * MiB,
      memoryTotalBytes: 12282 * MiB,
      memoryFreeBytes: (12282 - 6143) * MiB,
      utilizationPercent: 37,
      temperatureC: 62,
      powerDrawW: 112.45,
      powerLimitW: 200,
    });
  });

  it('reads two GPUs and turns [N/A] and [Not Supported] into null', () => {
    const gpus = parseGpuQuery(recorded('two-gpus', 'gpus.txt'));
    expect(gpus.map((gpu) => [gpu.index, gpu.name])).toEqual([
      [0, 'NVIDIA GeForce RTX 4070'],
      [1, 'NVIDIA GeForce GTX 1650'],
    ]);
    expect(gpus[1]).toMatchObject({ powerDrawW: null, powerLimitW: null, memoryFreeBytes: 4091 * MiB });
  });

  it('keeps memory unknown, not zero, when nvidia-smi cannot read it', () => {
    const [gpu] = parseGpuQuery('0, [N/A], Some GPU, [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A]\n');
    expect(gpu).toMatchObject({
      uuid: null,
      driverVersion: null,
      memoryUsedBytes: null,
      memoryTotalBytes: null,
      memoryFreeBytes: null,
    });
  });

  it('puts a GPU name with a comma back together', () => {
    const [gpu] = parseGpuQuery('0, GPU-1, Vendor X, Model 9, 1.0, 10, 20, 0, 30, 1.5, 2.5');
    expect(gpu?.name).toBe('Vendor X, Model 9');
    expect(gpu?.memoryTotalBytes).toBe(20 * MiB);
  });

  it.each([
    ['units left in (csv without nounits) and a warning line', recorded('garbage', 'gpus.txt')],
    ['a message instead of CSV', recorded('missing-driver', 'output.txt')],
    ['too few fields', '0, GPU-1, RTX, 550, 1, 2'],
    ['a non-numeric index', 'x, GPU-1, RTX, 550, 1, 2, 3, 4, 5, 6'],
    ['nothing at all', '\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parseGpuQuery(text)).toThrow(NvidiaSmiFormatError);
  });
});

describe('parseComputeApps', () => {
  const gpus = parseGpuQuery(recorded('two-gpus', 'gpus.txt'));

  it('joins processes to their GPU by uuid and recognises TEI', () => {
    expect(parseComputeApps(recorded('two-gpus', 'apps.txt'), gpus)).toEqual([
      {
        pid: 2817,
        name: 'text-embeddings-router',
        gpuUuid: 'GPU-0b6e7d52-1f3a-4c8e-9d20-6a5f4e3b2c11',
        gpuIndex: 0,
        usedMemoryBytes: 11200 * MiB,
        role: 'tei',
      },
      {
        pid: 4411,
        name: '[Not Found]',
        gpuUuid: 'GPU-7c2d9e41-8a6b-4f1c-b305-2e9d8c7a6f50',
        gpuIndex: 1,
        usedMemoryBytes: null,
        role: 'other',
      },
    ]);
  });

  it('reads no output as no process and leaves an unknown uuid unjoined', () => {
    expect(parseComputeApps('', gpus)).toEqual([]);
    expect(parseComputeApps('GPU-gone, 12, python, 100', gpus)[0]?.gpuIndex).toBeNull();
  });

  it('puts a process name with commas back together', () => {
    expect(parseComputeApps('GPU-x, 7, python -c a,b, 64', [])[0]?.name).toBe('python -c a, b');
  });

  it('rejects a line without a process id', () => {
    expect(() => parseComputeApps('GPU-x, pid, python, 64', [])).toThrow(NvidiaSmiFormatError);
  });

  it.each([
    ['/usr/local/bin/text-embeddings-router', 'tei'],
    ['text-embeddings-router', 'tei'],
    ['/qdrant/qdrant', 'qdrant'],
    ['python3', 'other'],
  ] as const)('names %s as %s', (name, role) => {
    expect(processRole(name)).toBe(role);
  });
});

describe('readGpus (a recorded nvidia-smi on PATH)', () => {
  const env = (name: string, path = `${fakeDir}:${process.env.PATH}`) => ({
    ...process.env,
    PATH: path,
    FAKE_NVIDIA_SMI_CASE: name,
  });

  it('reads GPUs and processes', async () => {
    const section = await readGpus({ timeoutMs: 5000, env: env('one-gpu') });
    expect(section).toMatchObject({ available: true, reason: null, driverVersion: '550.54.14' });
    expect(section.processes.map((process) => [process.pid, process.role, process.gpuIndex])).toEqual([
      [2817, 'tei', 0],
      [3120, 'qdrant', 0],
    ]);
  });

  it('says nvidia-smi is missing when PATH has none', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'taboot-no-smi-'));
    const section = await readGpus({ timeoutMs: 5000, env: env('one-gpu', empty) });
    expect(section).toMatchObject({ available: false, gpus: [], processes: [] });
    expect(section.reason).toBe('nvidia-smi not found on PATH (no NVIDIA driver on this machine?)');
  });

  it("passes on the driver's own message when nvidia-smi fails", async () => {
    const section = await readGpus({ timeoutMs: 5000, env: env('missing-driver') });
    expect(section.available).toBe(false);
    expect(section.reason).toBe(
      "nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    );
  });

  it('reports output it cannot read instead of showing wrong numbers', async () => {
    const section = await readGpus({ timeoutMs: 5000, env: env('garbage') });
    expect(section.available).toBe(false);
    expect(section.reason).toMatch(/^nvidia-smi printed output taboot cannot read: /);
  });

  it('gives up on an nvidia-smi that never answers', async () => {
    const section = await readGpus({ timeoutMs: 200, env: env('hang') });
    expect(section).toMatchObject({ available: false, reason: 'nvidia-smi did not answer within 200 ms' });
  });
});
