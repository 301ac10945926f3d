import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipSuiteOnReal } from '../support/real-servers.js';
import { runCli } from '../support/run-cli.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';

/**
 * API keys never reach a terminal: every command and subcommand of the built binary runs against
 * test servers that require the keys, with the keys coming from a config file (literal and
 * `${VAR}` interpolation) or from the environment (`QDRANT_API_KEY`, `TEI_API_KEY`, over a config
 * file holding other keys), with and without `--debug`, on success and on the error paths (a
 * wrong key, a server that cannot be reached, a missing collection). No line of stdout or stderr
 * may hold any of the keys, or the random part of one. Each run's exit code is checked too, so
 * that a run that never got as far as sending its key cannot pass by saying nothing.
 */

const keys = {
  qdrant: 'qk-5f0c2b9e8a71d4c3e6b0a9f1',
  tei: 'tk-9a4e1d7c3b8f2a6e0d5c7b31',
  /** In the config file when the environment's keys win: never sent, never printed either. */
  staleQdrant: 'qk-stale-0b1c2d3e4f5a6b7c8d9e',
  staleTei: 'tk-stale-7c6b5a4f3e2d1c0b9a8f',
  wrong: 'qk-wrong-1a2b3c4d5e6f7a8b9c0d',
  /** A password in a server's URL (`http://user:password@host`), a secret too. */
  inUrl: 'pw-url-3e8d1c6b9a2f5e0d7c4b',
};
/** Each key, and the random part of it alone. */
const secretTexts = Object.values(keys).flatMap((key) => [key, key.slice(key.lastIndexOf('-') + 1)]);

const fakeNvidiaSmi = fileURLToPath(new URL('../support/fake-nvidia-smi/nvidia-smi', import.meta.url));

let stack: TestStack;
let dir: string;
let corpus: string;
const runs = { count: 0, lines: 0 };

beforeAll(async () => {
  stack = await startStack({
    qdrantApiKey: keys.qdrant,
    tei: { apiKey: keys.tei },
    qdrant: { restPort: 0 },
  });
  dir = mkdtempSync(join(tmpdir(), 'taboot-secrets-'));
  corpus = join(dir, 'docs');
  mkdirSync(corpus);
  for (const topic of ['alerting', 'scraping', 'storage']) {
    writeFileSync(
      join(corpus, `${topic}.md`),
      `# ${topic}\n\n${`How ${topic} works, with an example. `.repeat(30)}\n`,
    );
  }
});
afterAll(async () => {
  console.info(`secrets: ${runs.count} runs, ${runs.lines} output lines checked, no key in any`);
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Setup {
  name: string;
  /** `--config <file>` and the environment for every run. */
  args: string[];
  env: Record<string, string>;
  debug: boolean;
}

function writeConfig(name: string, config: object): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function setups(): Setup[] {
  const urls = { TABOOT_QDRANT_URL: stack.qdrantUrl, TABOOT_TEI_URL: stack.teiUrl };
  return [
    {
      name: 'keys in the config file (literal, and ${VAR})',
      args: [
        '--config',
        writeConfig('literal', {
          qdrant: { apiKey: keys.qdrant },
          tei: { apiKey: '${TABOOT_SECRET_TEI_KEY}' },
        }),
      ],
      env: { ...urls, TABOOT_SECRET_TEI_KEY: keys.tei },
      debug: false,
    },
    {
      name: 'keys in QDRANT_API_KEY and TEI_API_KEY over a config file holding others, --debug',
      args: [
        '--config',
        writeConfig('stale', {
          qdrant: { apiKey: '${TABOOT_SECRET_STALE_KEY}' },
          tei: { apiKey: keys.staleTei },
        }),
      ],
      env: {
        ...urls,
        QDRANT_API_KEY: keys.qdrant,
        TEI_API_KEY: keys.tei,
        TABOOT_SECRET_STALE_KEY: keys.staleQdrant,
      },
      debug: true,
    },
  ];
}

/** Runs the binary and fails the test on any line holding a secret; returns the run. */
async function run(setup: Setup, args: readonly string[], env: Record<string, string> = {}) {
  const result = await runCli([...setup.args, ...(setup.debug ? ['--debug'] : []), ...args], {
    env: { ...setup.env, ...env },
    cwd: dir,
    timeoutMs: 120_000,
  });
  const lines = `${result.stdout}\n${result.stderr}`.split('\n');
  runs.count += 1;
  runs.lines += lines.length;
  const leaks = lines.filter((line) => secretTexts.some((secret) => line.includes(secret)));
  expect(leaks, `taboot ${args.join(' ')}`).toEqual([]);
  return result;
}

/** Every command and subcommand, with the exit code it must end with (so it ran its course). */
function commands(collection: string): Array<[name: string, args: string[], code: number]> {
  return [
    ['--help', ['--help'], 0],
    ['ingest --help', ['ingest', '--help'], 0],
    ['--version --debug', ['--version', '--debug'], 0],
    ['collection create', ['collection', 'create', collection], 0],
    ['collection create, again', ['collection', 'create', collection], 0],
    ['collection info', ['collection', 'info', collection], 0],
    ['collection info --json', ['collection', 'info', collection, '--json'], 0],
    ['ingest', ['ingest', corpus, '--collection', collection, '--progress', 'plain'], 0],
    [
      'ingest --json --progress ndjson',
      ['ingest', corpus, '--collection', collection, '--json', '--progress', 'ndjson', '--reembed'],
      0,
    ],
    ['ingest --dry-run', ['ingest', corpus, '--collection', collection, '--dry-run'], 0],
    ['ingest, failing (no such collection)', ['ingest', corpus, '--collection', `${collection}_missing`], 1],
    ['search', ['search', 'how scraping works', '--collection', collection], 0],
    [
      'search --json --verbose',
      ['search', 'alerting example', '--collection', collection, '--json', '--verbose'],
      0,
    ],
    ['bench upsert', ['bench', 'upsert', '--count', '200', '--dim', '8', '--index-timeout', '60'], 0],
    ['bench embed', ['bench', 'embed', '--docs', '16', '--concurrency', '1', '--batch-size', '8'], 0],
    [
      'gpu-status',
      [
        'gpu-status',
        '--collection',
        collection,
        '--nvidia-smi',
        fakeNvidiaSmi,
        '--qdrant-rest-url',
        stack.qdrant!.restUrl!,
      ],
      0,
    ],
    ['collection delete', ['collection', 'delete', collection, '--yes'], 0],
    ['collection info, deleted', ['collection', 'info', collection], 1],
  ];
}

describe('no API key in any output line of any command (built binary, test servers that require keys)', () => {
  skipSuiteOnReal(['qdrant', 'tei'], 'the test servers are started with the API keys the test sets');

  it.each([
    ['keys in the config file', 0],
    ['keys in the environment, --debug', 1],
  ])(
    'every command, %s',
    async (_name, index) => {
      const setup = setups()[index]!;
      const collection = uniqueName('secrets');
      for (const [name, args, code] of commands(collection)) {
        const result = await run(setup, args, { FAKE_NVIDIA_SMI_CASE: 'one-gpu' });
        expect(result.code, `${setup.name}: taboot ${name}\n${result.stderr.slice(-2000)}`).toBe(code);
      }
    },
    180_000,
  );

  it('error paths: a wrong key, servers that cannot be reached, with and without --debug', async () => {
    const [fromFile, fromEnv] = setups();
    const collection = uniqueName('secrets_errors');
    expect((await run(fromFile!, ['collection', 'create', collection])).code).toBe(0);
    const unreachable = 'http://127.0.0.1:9';
    const withPassword = `http://admin:${keys.inUrl}@127.0.0.1:9`;
    const cases: Array<[name: string, args: string[], env: Record<string, string>, pattern: RegExp]> = [
      [
        'wrong Qdrant key: collection info',
        ['collection', 'info', collection],
        { QDRANT_API_KEY: keys.wrong },
        /api key|unauthenticated|permission/i,
      ],
      [
        'wrong Qdrant key: ingest',
        ['ingest', corpus, '--collection', collection],
        { QDRANT_API_KEY: keys.wrong },
        /api key|unauthenticated|permission/i,
      ],
      [
        'wrong TEI key: ingest',
        ['ingest', corpus, '--collection', collection, '--reembed'],
        { TEI_API_KEY: keys.wrong },
        /401/,
      ],
      [
        'wrong TEI key: search',
        ['search', 'scraping', '--collection', collection],
        { TEI_API_KEY: keys.wrong },
        /401/,
      ],
      [
        'Qdrant unreachable: ingest',
        ['ingest', corpus, '--collection', collection],
        { TABOOT_QDRANT_URL: unreachable },
        /cannot connect/,
      ],
      [
        'TEI unreachable: ingest',
        ['ingest', corpus, '--collection', collection, '--reembed'],
        { TABOOT_TEI_URL: unreachable },
        /cannot connect/,
      ],
      [
        'both unreachable: search',
        ['search', 'x', '--collection', collection],
        { TABOOT_QDRANT_URL: unreachable, TABOOT_TEI_URL: unreachable },
        /cannot connect/,
      ],
      [
        'Qdrant unreachable: collection create',
        ['collection', 'create', `${collection}_2`],
        { TABOOT_QDRANT_URL: unreachable },
        /cannot connect/,
      ],
      [
        'a password in the Qdrant URL: collection info',
        ['collection', 'info', collection],
        { TABOOT_QDRANT_URL: withPassword },
        /cannot connect/,
      ],
      [
        'a password in the TEI URL: ingest',
        ['ingest', corpus, '--collection', collection, '--reembed'],
        { TABOOT_TEI_URL: withPassword },
        /cannot connect/,
      ],
    ];
    for (const setup of [fromFile!, fromEnv!]) {
      for (const [name, args, env, pattern] of cases) {
        // The environment's keys are replaced by the wrong one where the case sets it; a key from
        // the config file is overridden by the environment the same way.
        const result = await run(setup, args, env);
        const context = `${setup.name}: ${name}\n${result.stderr.slice(-2000)}`;
        expect(result.code, context).toBe(1);
        expect(result.stderr, context).toMatch(pattern);
        if (setup.debug) expect(result.stderr, context).toMatch(/^\s+at /m);
      }
    }
  }, 180_000);
});
