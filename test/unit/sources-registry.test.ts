import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import type { SourceDocument } from '../../src/sources/document.js';
import { readDocuments } from '../../src/sources/read.js';
import { defaultInclude, knownExtensions, sourceTypeFor, sourceTypes } from '../../src/sources/registry.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'taboot-registry-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('source type registry', () => {
  it('derives the default globs, and the config default, from the extensions of every type', () => {
    expect(defaultInclude).toEqual([
      '**/*.md',
      '**/*.markdown',
      '**/*.mdx',
      '**/*.jsonl',
      '**/*.ndjson',
      '**/*.html',
      '**/*.htm',
      '**/*.txt',
    ]);
    expect(knownExtensions).toEqual(['md', 'markdown', 'mdx', 'jsonl', 'ndjson', 'html', 'htm', 'txt']);
    const config = configSchema.parse({ collection: { name: 'docs' } });
    expect(config.ingest.include).toEqual(defaultInclude);
  });

  it('gives each extension to exactly one type', () => {
    const extensions = sourceTypes.flatMap((type) => type.extensions);
    expect(new Set(extensions).size).toBe(extensions.length);
    for (const extension of extensions) expect(extension).toMatch(/^\.[a-z0-9]+$/);
  });

  it('picks a type by extension, ignoring case, and reads anything else as text', () => {
    expect(sourceTypeFor('docs/a.md').name).toBe('Markdown');
    expect(sourceTypeFor('A.HTM').name).toBe('HTML');
    expect(sourceTypeFor('dump.NDJSON').name).toBe('JSONL');
    expect(sourceTypeFor('notes.rst').name).toBe('text');
    expect(sourceTypeFor('Makefile').name).toBe('text');
    expect(sourceTypeFor('v1.2/README').name).toBe('text');
  });

  it('loads a read function for every type', async () => {
    for (const type of sourceTypes) expect(typeof (await type.load())).toBe('function');
  });

  it('dispatches each file to its reader through readDocuments', async () => {
    const files = {
      'a.md': '---\ntitle: A\n---\n# Heading\n',
      'b.ndjson': '{"id":"b","text":"from JSONL"}\n',
      'c.HTM': '<title>C</title><main><h2>From HTML</h2></main>',
      'd.rst': 'Plain *text*\n',
    };
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
    const documents: SourceDocument[] = [];
    const listed = Object.keys(files).map((relative) => ({
      root: dir,
      absolute: path.join(dir, relative),
      relative,
      size: 0,
    }));
    for await (const event of readDocuments(listed))
      if (event.kind === 'document') documents.push(event.document);
    expect(documents.map((document) => [document.docId, document.format, document.text])).toEqual([
      ['a.md', 'markdown', '# Heading\n'],
      ['b', 'markdown', 'from JSONL'],
      ['c.HTM', 'markdown', '## From HTML'],
      ['d.rst', 'plain', 'Plain *text*\n'],
    ]);
  });
});
