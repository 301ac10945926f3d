import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import type { GpuStatusOptions } from '../../src/gpu/gpu-status.js';

const probes: Array<{ config: Config; options: GpuStatusOptions; closed: boolean }> = [];
let healthy = true;

vi.mock('../../src/gpu/gpu-status.js', () => ({
  GpuStatusProbe: class {
    private readonly entry: { config: Config; options: GpuStatusOptions; closed: boolean };
    constructor(config: Config, options: GpuStatusOptions) {
      this.entry = { config, options, closed: false };
      probes.push(this.entry);
    }
    async collect() {
      return { healthy, problems: healthy ? [] : ['TEI at http://tei: cannot connect'] };
    }
    async close() {
      this.entry.closed = true;
    }
  },
}));
vi.mock('../../src/ui/gpu-status-report.js', () => ({ renderGpuStatus: vi.fn() }));

const { buildProgram } = await import('../../src/cli.js');
const { registerGpuStatusCommand } = await import('../../src/commands/gpu-status.js');
const { isTabootError } = await import('../../src/errors.js');

async function run(args: string[]): Promise<number> {
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
    if (isTabootError(error)) return error.exitCode;
    throw error;
  }
}

let stderr = '';
beforeEach(() => {
  probes.length = 0;
  healthy = true;
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process, 'cwd').mockReturnValue(mkdtempSync(join(tmpdir(), 'taboot-gpu-cli-')));
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

describe('taboot gpu-status: argv to options', () => {
  it('asks each source with a 2 s deadline by default, and closes the probe', async () => {
    expect(await run([])).toBe(0);
    expect(probes).toHaveLength(1);
    expect(probes[0]!.options).toEqual({
      timeoutMs: 2000,
      qdrantRestUrl: undefined,
      teiUrls: undefined,
      nvidiaSmi: undefined,
    });
    expect(probes[0]!.config.collection.name).toBe('technical_docs');
    expect(probes[0]!.closed).toBe(true);
  });

  it('passes the connection flags, the REST URL, nvidia-smi and the deadline through', async () => {
    const code = await run([
      '--qdrant-url',
      'http://gpu-box:6334',
      '--qdrant-rest-url',
      'http://gpu-box:16333',
      '--tei-url',
      'http://gpu-box:8080',
      '-c',
      'docs',
      '--nvidia-smi',
      '/usr/lib/wsl/lib/nvidia-smi',
      '--timeout',
      '500',
    ]);
    expect(code).toBe(0);
    expect(probes[0]!.options).toEqual({
      timeoutMs: 500,
      qdrantRestUrl: 'http://gpu-box:16333',
      teiUrls: ['http://gpu-box:8080'],
      nvidiaSmi: '/usr/lib/wsl/lib/nvidia-smi',
    });
    expect(probes[0]!.config.qdrant.url).toBe('http://gpu-box:6334');
    expect(probes[0]!.config.collection.name).toBe('docs');
  });

  it('exits 1 when the report is unhealthy, still closing the probe', async () => {
    healthy = false;
    expect(await run([])).toBe(1);
    expect(probes[0]!.closed).toBe(true);
  });

  it.each([
    [['--timeout', '0'], 'Expected `--timeout` to be a positive integer, got `0`'],
    [['--timeout', '1.5'], 'Expected `--timeout` to be a positive integer, got `1.5`'],
    [['--watch', '0'], 'Expected `--watch` to be a positive number, got `0`'],
    [['--qdrant-rest-url', 'gpu-box:6333'], 'Expected `--qdrant-rest-url` to be a URL starting with http://'],
  ])('rejects %j with exit code 2', async (args, message) => {
    expect(await run(args)).toBe(2);
    expect(stderr).toContain(message);
    expect(probes).toHaveLength(0);
  });
});
