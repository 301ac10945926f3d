import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { discoverFiles } from '../../src/sources/discover.js';
import type { ReadEvent, SourceDocument, SourceProblem } from '../../src/sources/document.js';
import { displayPath, formatProblem } from '../../src/sources/document.js';
import { readMarkdownFile, splitFrontMatter } from '../../src/sources/markdown-reader.js';
import { toUnixSeconds } from '../../src/sources/metadata.js';
import { readDocuments } from '../../src/sources/read.js';

const fixtures = path.resolve(import.meta.dirname, '../../fixtures/sources');

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'taboot-markdown-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeTemp(name: string, content: string | Buffer) {
  await writeFile(path.join(dir, name), content);
  return { root: dir, absolute: path.join(dir, name), relative: name, size: 0 };
}

function split(events: ReadEvent[]): { documents: SourceDocument[]; problems: SourceProblem[] } {
  return {
    documents: events.flatMap((event) => (event.kind === 'document' ? [event.document] : [])),
    problems: events.flatMap((event) => (event.kind === 'problem' ? [event.problem] : [])),
  };
}

async function collect(events: AsyncIterable<ReadEvent>): Promise<ReadEvent[]> {
  const all: ReadEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('readMarkdownFile', () => {
  it('turns front matter into metadata, docId and title, and drops it from the text', async () => {
    const file = {
      root: `${fixtures}/docs`,
      absolute: `${fixtures}/docs/guide.md`,
      relative: 'guide.md',
      size: 0,
    };
    const { documents, problems } = split(await readMarkdownFile(file));
    expect(problems).toEqual([]);
    const [document] = documents;
    expect(document).toMatchObject({
      docId: 'guide-1',
      source: 'docs',
      file: 'guide.md',
      title: 'Scrape guide',
      format: 'markdown',
    });
    expect(document!.metadata).toEqual({
      title: 'Scrape guide',
      created_at: 1620086400,
      tags: ['scrape', 'config'],
      service_name: 'prometheus',
    });
    expect(document!.text.startsWith('\nIntro before the first heading.')).toBe(true);
    expect(document!.text).not.toContain('doc_id');
  });

  it('warns about broken YAML with the file line of the error and still ingests the body', async () => {
    const file = {
      root: `${fixtures}/bad`,
      absolute: `${fixtures}/bad/broken-front-matter.md`,
      relative: 'broken-front-matter.md',
      size: 0,
    };
    const { documents, problems } = split(await readMarkdownFile(file));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.severity).toBe('warning');
    // The unclosed flow sequence opens on line 3 and the parser gives up on line 4.
    expect(problems[0]!.line).toBe(4);
    expect(formatProblem(problems[0]!)).toMatch(
      /^fixtures\/sources\/bad\/broken-front-matter\.md:4: invalid YAML front matter: /,
    );
    expect(documents).toHaveLength(1);
    expect(documents[0]!.text).toContain('The body is still ingested.');
    expect(documents[0]!.metadata).toEqual({});
    expect(documents[0]!.docId).toBe('broken-front-matter.md');
    expect(documents[0]!.title).toBe('Broken front matter');
  });

  it('takes id when there is no doc_id, and the relative path when neither is set', async () => {
    const withId = await writeTemp('a.md', '---\nid: 7\n---\ntext\n');
    const without = await writeTemp('b.md', 'no front matter\n');
    expect(split(await readMarkdownFile(withId)).documents[0]!.docId).toBe('7');
    expect(split(await readMarkdownFile(without)).documents[0]!.docId).toBe('b.md');
  });

  it('warns about a front matter id that cannot name a document and falls back to the next, then the path', async () => {
    const objectId = await writeTemp('object.md', '---\nid: {a: 1}\n---\ntext\n');
    const fraction = await writeTemp('fraction.md', '---\ndoc_id: 1.5\nid: kept\n---\ntext\n');
    const object = split(await readMarkdownFile(objectId));
    expect(object.documents[0]!.docId).toBe('object.md');
    expect(object.problems).toMatchObject([
      {
        field: 'id',
        severity: 'warning',
        reason: '`id` must be a non-blank string or an integer, got an object; not used as the document id',
      },
    ]);
    const kept = split(await readMarkdownFile(fraction));
    expect(kept.documents[0]!.docId).toBe('kept');
    expect(kept.problems.map((problem) => problem.reason)).toEqual([
      '`doc_id` must be a non-blank string or an integer, got number 1.5; not used as the document id',
    ]);
  });

  it('reads created_at and date as Unix seconds and fills created_at from date', async () => {
    const file = await writeTemp('dates.md', '---\ndate: 2021-05-04 10:30:00 +02:00\n---\nbody\n');
    const { documents } = split(await readMarkdownFile(file));
    expect(documents[0]!.metadata).toEqual({ date: 1620117000, created_at: 1620117000 });
  });

  it('drops an unreadable date with a warning naming the field', async () => {
    const file = await writeTemp('bad-date.md', '---\ncreated_at: someday\n---\nbody\n');
    const { documents, problems } = split(await readMarkdownFile(file));
    expect(documents[0]!.metadata).toEqual({});
    expect(problems).toMatchObject([
      {
        field: 'created_at',
        severity: 'warning',
        reason: 'created_at: cannot read "someday" as a date; field dropped',
      },
    ]);
  });

  it('skips a binary file (a NUL byte anywhere) as an error', async () => {
    const png = await writeTemp('image.md', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x1a]));
    const late = await writeTemp(
      'late.md',
      Buffer.concat([Buffer.from('x'.repeat(20_000)), Buffer.from([0])]),
    );
    for (const file of [png, late]) {
      expect(split(await readMarkdownFile(file))).toEqual({
        documents: [],
        problems: [
          { file: displayPath(file.absolute), reason: 'binary file (NUL bytes); skipped', severity: 'error' },
        ],
      });
    }
  });

  it('reads empty, blank and front-matter-only files as empty documents, front matter kept', async () => {
    const empty = await writeTemp('empty.md', '');
    const blank = await writeTemp('blank.md', '  \r\n\n');
    const onlyFrontMatter = await writeTemp('index.md', '---\ntitle: Section\ndoc_id: sec\n---\n\n');
    const read = async (file: Awaited<ReturnType<typeof writeTemp>>) => split(await readMarkdownFile(file));
    expect((await read(empty)).problems).toEqual([]);
    expect((await read(empty)).documents).toMatchObject([{ docId: 'empty.md', text: '', metadata: {} }]);
    expect((await read(blank)).documents).toMatchObject([{ docId: 'blank.md', text: '' }]);
    const section = await read(onlyFrontMatter);
    expect(section.problems).toEqual([]);
    expect(section.documents).toMatchObject([
      { docId: 'sec', text: '', title: 'Section', metadata: { title: 'Section' } },
    ]);
  });

  it('ignores front matter over 64 KiB with a warning and still reads the body', async () => {
    const yaml = `tags:\n${'  - a-long-tag-name-to-fill-the-front-matter\n'.repeat(1600)}`;
    const file = await writeTemp('huge.md', `---\n${yaml}---\n# Body\n\ntext\n`);
    const { documents, problems } = split(await readMarkdownFile(file));
    expect(problems).toEqual([
      {
        file: displayPath(file.absolute),
        line: 2,
        reason: `front matter is ${Buffer.byteLength(yaml)} bytes, over 65536; front matter ignored`,
        severity: 'warning',
      },
    ]);
    expect(documents).toMatchObject([{ text: '# Body\n\ntext\n', metadata: {}, title: 'Body' }]);
  });

  it('drops a front matter field nested deeper than 20 levels with a warning', async () => {
    const nested = (depth: number): string => (depth === 0 ? '1' : `{a: ${nested(depth - 1)}}`);
    const file = await writeTemp('deep.md', `---\nok: ${nested(20)}\ndeep: ${nested(21)}\n---\nbody\n`);
    const { documents, problems } = split(await readMarkdownFile(file));
    expect(problems).toMatchObject([
      { field: 'deep', reason: 'deep: nests deeper than 20 levels; field dropped', severity: 'warning' },
    ]);
    expect(Object.keys(documents[0]!.metadata)).toEqual(['ok']);
  });

  it('skips a file over maxFileBytes with an error', async () => {
    const file = await writeTemp('big.md', 'x'.repeat(2000));
    const { documents, problems } = split(await readMarkdownFile(file, { maxFileBytes: 1000 }));
    expect(documents).toEqual([]);
    expect(problems).toEqual([
      {
        file: displayPath(file.absolute),
        reason: 'file is 2000 bytes, over maxFileBytes (1000); skipped',
        severity: 'error',
      },
    ]);
  });

  it('normalises CRLF and a BOM, and finds the title outside code fences', async () => {
    const file = await writeTemp(
      'crlf.md',
      '\uFEFF```\r\n# not a title\r\n```\r\n\r\n# Real title\r\n\r\nText.\r\n',
    );
    const { documents } = split(await readMarkdownFile(file));
    expect(documents[0]!.text).toBe('```\n# not a title\n```\n\n# Real title\n\nText.\n');
    expect(documents[0]!.title).toBe('Real title');
  });
});

describe('splitFrontMatter', () => {
  it('needs a closing fence; a lone leading --- is a thematic break', () => {
    expect(splitFrontMatter('---\na: 1\n---\nbody')).toEqual({ yaml: 'a: 1\n', firstLine: 2, body: 'body' });
    expect(splitFrontMatter('---\na: 1\n...\nbody')?.body).toBe('body');
    expect(splitFrontMatter('---\njust a rule, no front matter\n')).toBeUndefined();
    expect(splitFrontMatter('text\n---\na: 1\n---\n')).toBeUndefined();
  });
});

describe('toUnixSeconds', () => {
  it('reads dates, ISO strings with and without zones, seconds and milliseconds', () => {
    expect(toUnixSeconds('2017-11-29')).toBe(1511913600);
    expect(toUnixSeconds('2017-11-29T10:00:00Z')).toBe(1511949600);
    expect(toUnixSeconds('2017-11-29 10:00:00')).toBe(1511949600);
    expect(toUnixSeconds('2017-11-29T12:00:00+02:00')).toBe(1511949600);
    expect(toUnixSeconds(new Date('2017-11-29T10:00:00.900Z'))).toBe(1511949600);
    expect(toUnixSeconds(1511949600)).toBe(1511949600);
    expect(toUnixSeconds(1511949600123)).toBe(1511949600);
    expect(toUnixSeconds('1511949600')).toBe(1511949600);
    expect(toUnixSeconds('2021-02-30')).toBeUndefined();
    expect(toUnixSeconds('soon')).toBeUndefined();
    expect(toUnixSeconds(Number.NaN)).toBeUndefined();
    expect(toUnixSeconds(true)).toBeUndefined();
  });
});

describe('readDocuments', () => {
  it('dispatches by extension: JSONL per line, Markdown with front matter, .txt as plain text', async () => {
    const files = await discoverFiles([`${fixtures}/docs`]);
    const { documents, problems } = split(await collect(readDocuments(files)));
    expect(problems).toEqual([]);
    expect(documents.map((document) => [document.docId, document.format])).toEqual([
      ['rec-1', 'markdown'],
      ['42', 'markdown'],
      ['data/records.jsonl#3', 'markdown'],
      ['guide-1', 'markdown'],
      ['notes.txt', 'plain'],
    ]);
    const notes = documents[4]!;
    expect(notes).toMatchObject({ source: 'docs', file: 'notes.txt', metadata: {} });
    expect(notes.text).toBe('Plain notes, one document.\n\nSecond paragraph of the notes.\n');
    expect(notes.title).toBeUndefined();
  });

  it('reports an unreadable file and goes on with the next one', async () => {
    const missing = { root: dir, absolute: path.join(dir, 'gone.md'), relative: 'gone.md', size: 1 };
    const present = await writeTemp('here.txt', 'hello\n');
    const { documents, problems } = split(await collect(readDocuments([missing, present])));
    expect(problems).toMatchObject([{ reason: 'cannot read: ENOENT; skipped', severity: 'error' }]);
    expect(documents.map((document) => document.docId)).toEqual(['here.txt']);
  });

  it('checks its numeric options before reading anything', async () => {
    await expect(collect(readDocuments([], { maxLineBytes: 0 }))).rejects.toThrow(UsageError);
    await expect(collect(readDocuments([], { maxLineBytes: 0 }))).rejects.toThrow(
      'Expected `maxLineBytes` to be a positive integer, got `0`',
    );
  });

  it('reads the whole Prometheus corpus with titles and no errors', async () => {
    const files = await discoverFiles([path.resolve(import.meta.dirname, '../../fixtures/prometheus-docs')]);
    const { documents, problems } = split(await collect(readDocuments(files)));
    expect(problems.filter((problem) => problem.severity === 'error')).toEqual([]);
    expect(documents.length).toBeGreaterThan(100);
    const post = documents.find(
      (document) => document.file === 'blog/posts/2017-11-30-prometheus-at-cloudnativecon.md',
    );
    expect(post).toMatchObject({ title: 'Prometheus at CloudNativeCon 2017', source: 'prometheus-docs' });
    expect(post!.metadata.created_at).toBe(1511913600);
    expect(new Set(documents.map((document) => document.docId)).size).toBe(documents.length);
  });
});
