import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { describeJsonError } from '../../src/config/parse-error.js';
import { ConfigError } from '../../src/errors.js';

async function problemsFor(
  file: string,
  content: string,
): Promise<{ dir: string; problems: readonly string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'taboot-config-parse-'));
  writeFileSync(join(dir, file), content);
  const error = await loadConfig({ cwd: dir, env: {} }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return { dir, problems: (error as ConfigError).problems };
}

describe('a config file that does not parse', () => {
  it('names the file, line and column of a trailing comma in JSON, with the parser reason', async () => {
    const { dir, problems } = await problemsFor(
      'taboot.config.json',
      '{\n  "collection": {\n    "name": "docs",\n  },\n}\n',
    );
    expect(problems).toEqual([
      `${join(dir, 'taboot.config.json')}:4:3: Expected double-quoted property name (a comma after the last entry, at 3:19?)`,
    ]);
  });

  it('gives the line and column where V8 does not, without quoting the file (it may hold a key)', async () => {
    const { dir, problems } = await problemsFor(
      '.tabootrc.json',
      '{\n  "qdrant": {"apiKey": "secret-key-1234", "url": tru}\n}\n',
    );
    expect(problems).toEqual([`${join(dir, '.tabootrc.json')}:2:53: Unexpected token '}'`]);
    expect(problems.join('')).not.toContain('secret-key-1234');
  });

  it('names the line and column of a YAML error, with the parser reason', async () => {
    const { dir, problems } = await problemsFor(
      '.tabootrc.yaml',
      'collection:\n  name: docs\n   vectorSize: 3\n',
    );
    expect(problems).toEqual([`${join(dir, '.tabootrc.yaml')}:3:14: bad indentation of a mapping entry`]);
  });

  it('reads a broken package.json the same way', async () => {
    const { dir, problems } = await problemsFor('package.json', '{"name": "x", "taboot": {}');
    expect(problems).toEqual([`${join(dir, 'package.json')}:1:27: Expected ',' or '}' after property value`]);
  });
});

describe('describeJsonError', () => {
  it.each([
    ['{"a": 1}}', '1:9: Unexpected non-whitespace character after JSON'],
    ['{a: 1}', "1:2: Expected property name or '}'"],
    ['[1,\n2,\n]', "3:1: Unexpected token ']' (a comma after the last entry, at 2:2?)"],
    ['', '1:1: Unexpected end of JSON input'],
    ['{\n  "a": "x\ny"\n}', '2:10: Bad control character in string literal'],
  ])('%j -> %s', (text, expected) => {
    let error: unknown;
    try {
      JSON.parse(text);
    } catch (caught) {
      error = caught;
    }
    expect(describeJsonError(text, error)).toBe(expected);
  });
});
