import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, runCli } from '../support/run-cli.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';
import { embeddingSize } from '../support/tei-server/client.js';

/**
 * `taboot ... | head`: a reader that closes the pipe early must end taboot quietly, the way SIGPIPE
 * ends `git log | head` (the shell sees 141), never with Node's "Unhandled 'error' event" and a
 * stack trace. Each command runs against the test servers with its stdout (or stderr) piped into a
 * reader that closes after the first line, and into one that is already closed, so that the very
 * first write fails.
 */

const fakeNvidiaSmi = fileURLToPath(new URL('../support/fake-nvidia-smi/nvidia-smi', import.meta.url));

let stack: TestStack;
let cwd: string;
let corpus: string;
let env: Record<string, string>;
/** The size of the embeddings the TEI under test makes: 1024 from the test server. */
let dimensions: number;

beforeAll(async () => {
  stack = await startStack();
  cwd = mkdtempSync(join(tmpdir(), 'taboot-pipes-'));
  corpus = join(cwd, 'docs');
  mkdirSync(corpus);
  for (const name of ['alerts', 'scrape', 'storage']) {
    writeFileSync(
      join(corpus, `${name}.md`),
      `# ${name}\n\n${`The ${name} settings of the server, with an example. `.repeat(40)}\n`,
    );
  }
  env = {
    TABOOT_QDRANT_URL: stack.qdrantUrl,
    TABOOT_TEI_URL: stack.teiUrl,
    TABOOT_COLLECTION: uniqueName('pipes'),
    FAKE_NVIDIA_SMI_CASE: 'one-gpu',
  };
  // Sized for the TEI under test (a real one may serve any model).
  dimensions = await embeddingSize(stack.teiUrl);
  const created = await runCli(['collection', 'create', '--vector-size', String(dimensions)], { env, cwd });
  expect(created.code, created.stderr).toBe(0);
  const ingested = await runCli(['ingest', corpus], { env, cwd });
  expect(ingested.code, ingested.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

interface PipedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the reader got before it closed. */
  read: string;
  /** The other stream, read to the end. */
  other: string;
}

/**
 * Runs the built binary with `stream` piped into a reader that closes after the first line
 * (`afterFirstLine`) or before anything is written (`atOnce`).
 */
function runPiped(
  args: readonly string[],
  stream: 'stdout' | 'stderr',
  close: 'afterFirstLine' | 'atOnce',
): Promise<PipedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd,
      env: { ...process.env, ...env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const closing = child[stream];
    const other = stream === 'stdout' ? child.stderr : child.stdout;
    let read = '';
    let rest = '';
    if (close === 'atOnce') closing.destroy();
    else
      closing.on('data', (chunk: Buffer) => {
        read += chunk.toString();
        if (read.includes('\n')) closing.destroy();
      });
    other.on('data', (chunk: Buffer) => {
      rest += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, read, other: rest }));
  });
}

function expectQuietEnd(run: PipedRun, normalCode: number): void {
  // No Node error report: no "Unhandled 'error' event", no EPIPE, no stack frame.
  expect(run.other).not.toMatch(/Unhandled|EPIPE|^\s+at /m);
  expect(run.other).not.toContain('This is a bug in taboot');
  // Ended by SIGPIPE like any Unix filter, or finished before the reader closed.
  const ended = run.signal === 'SIGPIPE' || run.code === 141 ? 'SIGPIPE' : run.code;
  expect([normalCode, 'SIGPIPE']).toContain(ended);
}

/** Every command, with the exit code it has when its output is read to the end. */
const commands: Array<[name: string, args: () => string[], normalCode: number]> = [
  ['--help', () => ['--help'], 0],
  ['--version', () => ['--version', '--debug'], 0],
  ['ingest --help', () => ['ingest', '--help'], 0],
  ['collection create', () => ['collection', 'create', '--vector-size', String(dimensions)], 0],
  ['collection info', () => ['collection', 'info'], 0],
  ['collection info --json', () => ['collection', 'info', '--json'], 0],
  ['ingest', () => ['ingest', corpus, '--progress', 'plain'], 0],
  ['search --json', () => ['search', 'scrape settings', '--json'], 0],
  ['search', () => ['search', 'alerts example'], 0],
  ['bench upsert', () => ['bench', 'upsert', '--count', '300', '--dim', '8', '--index-timeout', '60'], 0],
  ['gpu-status', () => ['gpu-status', '--nvidia-smi', fakeNvidiaSmi], 0],
];

describe('a closed stdout ends taboot quietly', () => {
  it.each(commands)('taboot %s | head -1', async (_name, args, normalCode) => {
    const run = await runPiped(args(), 'stdout', 'afterFirstLine');
    expect(run.read).toContain('\n');
    expectQuietEnd(run, normalCode);
  });

  it.each(commands)('taboot %s > closed pipe', async (_name, args) => {
    const run = await runPiped(args(), 'stdout', 'atOnce');
    expectQuietEnd(run, Number.NaN);
    expect(run.signal).toBe('SIGPIPE');
  });

  it('taboot collection delete > closed pipe: the collection is deleted, then taboot ends quietly', async () => {
    const name = uniqueName('pipes_delete');
    expect((await runCli(['collection', 'create', name], { env, cwd })).code).toBe(0);
    const run = await runPiped(['collection', 'delete', name, '--yes'], 'stdout', 'atOnce');
    expectQuietEnd(run, Number.NaN);
    expect(run.signal).toBe('SIGPIPE');
    const info = await runCli(['collection', 'info', name], { env, cwd });
    expect(info.code).toBe(1);
  });

  it('taboot collection delete | head -1', async () => {
    const name = uniqueName('pipes_delete');
    expect((await runCli(['collection', 'create', name], { env, cwd })).code).toBe(0);
    const run = await runPiped(['collection', 'delete', name, '--yes'], 'stdout', 'afterFirstLine');
    expect(run.read).toBe(`deleted collection ${name}\n`);
    expectQuietEnd(run, 0);
  });
});

describe('a closed stderr ends taboot quietly', () => {
  it('taboot ingest --progress ndjson 2> closed pipe', async () => {
    const run = await runPiped(['ingest', corpus, '--progress', 'ndjson'], 'stderr', 'atOnce');
    expectQuietEnd(run, Number.NaN);
    expect(run.signal).toBe('SIGPIPE');
  });

  it('taboot search --debug with an error 2> closed pipe', async () => {
    const run = await runPiped(
      ['search', 'x', '--debug', '--collection', 'no_such_collection'],
      'stderr',
      'atOnce',
    );
    expectQuietEnd(run, Number.NaN);
    expect(run.signal).toBe('SIGPIPE');
  });
});
