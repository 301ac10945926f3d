import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

let stdout = '';
beforeEach(() => {
  stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('taboot --version', () => {
  it('prints the package version alone', async () => {
    expect(await main(['--version'])).toBe(0);
    expect(stdout).toBe(`${version}\n`);
  });

  it.each([[['--version', '--debug']], [['--debug', '-V']]])(
    '%j adds Node and the platform for a bug report',
    async (argv) => {
      expect(await main(argv)).toBe(0);
      expect(stdout).toBe(
        `${version}\nnode ${process.version}\nplatform ${process.platform}-${process.arch}\n`,
      );
    },
  );
});
