import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Layers around the embedders: Qdrant's adapter knows nothing of embedding servers (work that joins
 * the two, such as `collection create --vector-size auto`, lives in src/collections), and the
 * embedders know nothing of Qdrant, the pipeline, the commands or the terminal.
 */
const src = fileURLToPath(new URL('../../src/', import.meta.url));

function importsOf(folder: string): Array<{ file: string; target: string }> {
  const found: Array<{ file: string; target: string }> = [];
  for (const entry of readdirSync(join(src, folder), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    const text = readFileSync(path, 'utf8');
    for (const match of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
      const target = relative(src, join(entry.parentPath, match[1]!)).split('/')[0]!;
      found.push({ file: relative(src, path), target });
    }
  }
  return found;
}

describe('layers of the embedders', () => {
  it.each([
    ['qdrant', ['embed']],
    ['embed', ['qdrant', 'pipeline', 'commands', 'ui', 'collections', 'gpu']],
  ])('src/%s imports nothing from %j', (folder, forbidden) => {
    const imports = importsOf(folder);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((entry) => forbidden.includes(entry.target))).toEqual([]);
  });
});
