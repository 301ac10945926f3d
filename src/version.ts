import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * taboot's own version, from its package.json: one directory above both `src/` and `dist/`, so
 * the same code reads it under tsx, vitest and the built binary.
 */
export function tabootVersion(): string {
  cached ??= (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return cached;
}
