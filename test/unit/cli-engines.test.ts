import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * taboot runs on Node 20 although @qdrant/js-client-grpc 1.19 declares Node >= 22 (npm ci prints
 * EBADENGINE for it): its code uses nothing newer than its own dependencies, which declare
 * Node >= 20, and the integration and end-to-end tests drive it (collections, search, scroll,
 * health) on the Node 20 that CI runs. These checks keep package.json, the README and that
 * exception in step: a new dependency that needs a newer Node fails here, not on a user's machine.
 */

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string }; dev?: boolean }>;
};
const readme = readFileSync(new URL('README.md', root), 'utf8');

/** The one package allowed to declare a newer Node than ours, for the reason above. */
const knownException = 'node_modules/@qdrant/js-client-grpc';

type Version = [number, number, number];

function parse(text: string): Version {
  const [major = 0, minor = 0, patch = 0] = text.replace(/^v/, '').split('.').map(Number);
  return [major, minor, patch];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Enough of npm's range syntax for engines fields: `||`, `>=`, `>`, `<=`, `<`, `^`, `~` and `20`/`20.1`. */
function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/([<>=^~]+)\s+/g, '$1')
      .split(/\s+/)
      .every((comparator) => {
        const [, operator = '', bound = ''] = /^([<>=^~]*)(.*)$/.exec(comparator) ?? [];
        const b = parse(bound);
        const parts = bound.split('.').length;
        switch (operator) {
          case '>=':
            return compare(v, b) >= 0;
          case '>':
            return compare(v, b) > 0;
          case '<=':
            return compare(v, b) <= 0;
          case '<':
            return compare(v, b) < 0;
          case '^':
            return v[0] === b[0] && compare(v, b) >= 0;
          case '~':
            return v[0] === b[0] && v[1] === b[1] && compare(v, b) >= 0;
          default:
            return v.slice(0, parts).every((part, index) => part === b[index]);
        }
      }),
  );
}

const minimum = /^>=(\d+\.\d+\.\d+)$/.exec(pkg.engines.node)?.[1];

describe('the Node versions taboot supports', () => {
  it('are stated as a plain minimum in package.json, and the README says the same', () => {
    expect(minimum).toBeDefined();
    expect(readme).toContain(`Node.js ${minimum} or newer`);
  });

  it('include the Node running these tests (CI runs Node 20)', () => {
    expect(satisfies(process.version, pkg.engines.node)).toBe(true);
  });

  it('are those of every production dependency, but @qdrant/js-client-grpc', () => {
    const stricter = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && !entry.dev && entry.engines?.node)
      .filter(([, entry]) => !satisfies(minimum!, entry.engines!.node!))
      .map(([path]) => path);
    expect(stricter).toEqual([knownException]);
  });

  it('meet every installed package on the Node running the tests, but @qdrant/js-client-grpc', () => {
    const unmet = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.engines?.node)
      .filter(([, entry]) => !satisfies(process.version, entry.engines!.node!))
      .map(([path]) => path);
    expect(unmet.filter((path) => path !== knownException)).toEqual([]);
  });

  it('are read with npm range syntax', () => {
    expect(satisfies('20.18.1', '^20.19.0 || >=22.12.0')).toBe(false);
    expect(satisfies('20.20.2', '^20.19.0 || >=22.12.0')).toBe(true);
    expect(satisfies('20.18.1', '20 || >=22')).toBe(true);
    expect(satisfies('20.18.1', '>= 14.6')).toBe(true);
    expect(satisfies('20.18.1', '^12.17.0 || ^14.13 || >=16.0.0')).toBe(true);
    expect(satisfies('20.18.1', '>=22.0.0')).toBe(false);
  });
});
