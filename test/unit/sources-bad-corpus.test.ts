import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discoverFiles } from '../../src/sources/discover.js';
import type { ReadEvent } from '../../src/sources/document.js';
import { readDocuments } from '../../src/sources/read.js';

const repository = path.resolve(import.meta.dirname, '../..');
const corpus = path.join(repository, 'fixtures/bad');

/** One event as `fixtures/bad/expected.json` writes it. */
interface ExpectedEvent {
  document?: string;
  empty?: true;
  problem?: 'error' | 'warning';
  line?: number;
  field?: string;
  reason?: string;
  reasonStartsWith?: string;
}

type Counts = Partial<Record<'documents' | 'empty' | 'skipped' | 'warnings' | 'duplicates', number>>;

interface ExpectedOutcome {
  case: string;
  events: ExpectedEvent[];
  counted: Counts;
  exit: 0 | 3;
  /** What the pipeline adds to the reader's events (duplicate ids). */
  pipeline?: string;
}

const table = JSON.parse(readFileSync(path.join(corpus, 'expected.json'), 'utf8')) as {
  files: Record<string, ExpectedOutcome>;
  generated: Record<string, ExpectedOutcome>;
};

/** The events of a run, by the file (relative to `root`) each concerns, in the shape of the table. */
function byFile(
  events: readonly ReadEvent[],
  root: string,
  cwd = process.cwd(),
): Map<string, ExpectedEvent[]> {
  const files = new Map<string, ExpectedEvent[]>();
  for (const event of events) {
    let file: string;
    let shaped: ExpectedEvent;
    if (event.kind === 'document') {
      const { document } = event;
      file = document.file;
      shaped = { document: document.docId };
      if (document.line !== undefined) shaped.line = document.line;
      if (document.text === '') shaped.empty = true;
    } else {
      const { problem } = event;
      file = path.relative(root, path.resolve(cwd, problem.file));
      shaped = { problem: problem.severity };
      if (problem.line !== undefined) shaped.line = problem.line;
      if (problem.field !== undefined) shaped.field = problem.field;
      shaped.reason = problem.reason;
    }
    files.set(file, [...(files.get(file) ?? []), shaped]);
  }
  return files;
}

/** Actual events, with a reason cut to the expected prefix where the table gives only one. */
function comparable(actual: readonly ExpectedEvent[] | undefined, expected: readonly ExpectedEvent[]) {
  return (actual ?? []).map((event, index) => {
    const prefix = expected[index]?.reasonStartsWith;
    if (prefix === undefined || !event.reason?.startsWith(prefix)) return event;
    const { reason: _reason, ...rest } = event;
    return { ...rest, reasonStartsWith: prefix };
  });
}

/**
 * How a run counts events (the rule of `ReadEvent`): a document id read again is a duplicate (the
 * pipeline writes the later one over the earlier), every other document counts as empty or not.
 */
function countsOf(events: readonly ExpectedEvent[]): Counts {
  const counts: Counts = {};
  const add = (key: keyof Counts) => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const seen = new Set<string>();
  for (const event of events) {
    if (event.document !== undefined) {
      if (seen.has(event.document)) add('duplicates');
      else add(event.empty ? 'empty' : 'documents');
      seen.add(event.document);
    } else add(event.problem === 'error' ? 'skipped' : 'warnings');
  }
  return counts;
}

async function readAll(files: Awaited<ReturnType<typeof discoverFiles>>): Promise<ReadEvent[]> {
  const events: ReadEvent[] = [];
  for await (const event of readDocuments(files)) events.push(event);
  return events;
}

describe('the bad-input corpus, fixtures/bad', () => {
  let read: Map<string, ExpectedEvent[]>;
  let discovered: string[];

  beforeEach(async () => {
    const files = await discoverFiles([corpus]);
    discovered = files.map((file) => file.relative);
    read = byFile(await readAll(files), corpus);
  });

  it('has a row for every file discovery finds there, and the README shows each row', () => {
    expect(discovered).toEqual(Object.keys(table.files).sort());
    const readme = readFileSync(path.join(corpus, 'README.md'), 'utf8');
    for (const file of [...Object.keys(table.files), ...Object.keys(table.generated)]) {
      expect(readme, file).toContain(`| \`${file}\` |`);
    }
  });

  for (const [file, expected] of Object.entries(table.files)) {
    it(`${file}: ${expected.case}`, () => {
      expect(comparable(read.get(file), expected.events)).toEqual(expected.events);
    });
  }

  it('counts each file and sets its exit code by the rule: skipped input or a duplicate id exits 3', () => {
    for (const [file, expected] of Object.entries(table.files)) {
      expect(expected.counted, file).toEqual(countsOf(expected.events));
      expect(expected.exit, file).toBe(expected.counted.skipped || expected.counted.duplicates ? 3 : 0);
    }
  });

  it('yields both documents of a duplicate id, each with its file and line, for the pipeline to tell apart', () => {
    expect(read.get('duplicate-ids.jsonl')?.filter((event) => event.document === 'dup')).toEqual([
      { document: 'dup', line: 1 },
      { document: 'dup', line: 3 },
    ]);
    expect(read.get('duplicate-path.jsonl')).toEqual([{ document: 'guide.md', line: 1 }]);
    expect(read.get('guide.md')).toEqual([{ document: 'guide.md' }]);
  });
});

describe('bad input that cannot be committed, made at run time', () => {
  let root: string;
  let elsewhere: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'taboot-bad-'));
    elsewhere = await mkdtemp(path.join(tmpdir(), 'taboot-elsewhere-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(elsewhere, { recursive: true, force: true });
  });

  function check(files: readonly string[], events: Map<string, ExpectedEvent[]>): void {
    for (const file of files) {
      const expected = table.generated[file]!;
      expect(comparable(events.get(file.replace(/\/$/, '')), expected.events), file).toEqual(expected.events);
      expect(expected.counted, file).toEqual(countsOf(expected.events));
    }
  }

  it('reports a 10 MiB line, links that loop, break or leave the root, a FIFO and a vanished file', async () => {
    const long = `{"text":"${'a'.repeat(10 * 1024 * 1024 - 11)}"}`;
    await writeFile(
      path.join(root, 'long-line.jsonl'),
      `{"id":"before","text":"x"}\n${long}\n{"id":"after","text":"y"}\n`,
    );
    await symlink(path.join(root, 'loop.md'), path.join(root, 'loop.md'));
    await symlink(path.join(root, 'missing.md'), path.join(root, 'broken-link.md'));
    await writeFile(path.join(elsewhere, 'secret.md'), '# outside\n');
    await symlink(path.join(elsewhere, 'secret.md'), path.join(root, 'outside.md'));
    execFileSync('mkfifo', [path.join(root, 'pipe.md')]);
    await writeFile(path.join(root, 'vanished.md'), '# here when listed\n');

    const files = await discoverFiles([root]);
    await unlink(path.join(root, 'vanished.md'));
    const events = byFile(await readAll(files), root);

    const made = ['long-line.jsonl', 'loop.md', 'broken-link.md', 'outside.md', 'pipe.md', 'vanished.md'];
    expect([...events.keys()].sort()).toEqual([...made].sort());
    check(made, events);
  });

  it('reports an unreadable file and folder, and never enters an excluded one', async (context) => {
    await writeFile(path.join(root, 'ok.md'), '# readable\n');
    await writeFile(path.join(root, 'unreadable.md'), '# secret\n');
    await mkdir(path.join(root, 'locked'));
    await writeFile(path.join(root, 'locked/inside.md'), '# locked\n');
    await mkdir(path.join(root, 'excluded'));
    await writeFile(path.join(root, 'excluded/inside.md'), '# excluded\n');
    for (const locked of ['unreadable.md', 'locked', 'excluded']) await chmod(path.join(root, locked), 0o000);

    let runs: { excluded: ReadEvent[]; all: ReadEvent[] };
    let cwd = process.cwd();
    try {
      if (process.getuid?.() === 0) {
        // Root reads through any permission: read as `nobody`, in a child process.
        const user = unprivilegedUser();
        if (!user)
          return context.skip('running as root and no `nobody` user to read as: EACCES cannot happen');
        runs = await readAsUser(user, root);
        cwd = repository;
      } else {
        runs = {
          excluded: await readAll(await discoverFiles([root], { exclude: ['excluded/**'] })),
          all: await readAll(await discoverFiles([root])),
        };
      }
    } finally {
      for (const locked of ['unreadable.md', 'locked', 'excluded'])
        await chmod(path.join(root, locked), 0o755);
    }

    const excluded = byFile(runs.excluded, root, cwd);
    expect([...excluded.keys()].sort()).toEqual(['locked', 'ok.md', 'unreadable.md']);
    expect(excluded.get('ok.md')).toEqual([{ document: 'ok.md' }]);
    check(['unreadable.md', 'locked', 'excluded/'], excluded);
    // Without the exclude glob the same folder is reported: the glob is what kept discovery out.
    expect(byFile(runs.all, root, cwd).get('excluded')).toEqual([
      { problem: 'error', reason: 'cannot read folder: EACCES; skipped' },
    ]);
  });
});

function unprivilegedUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) && uid !== 0 ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/** Discovers and reads `root` twice (with and without `--exclude 'excluded/**'`) as another user. */
async function readAsUser(
  user: { uid: number; gid: number },
  root: string,
): Promise<{ excluded: ReadEvent[]; all: ReadEvent[] }> {
  const script = path.join(root, '..', `${path.basename(root)}-probe.mts`);
  await writeFile(
    script,
    [
      `const { discoverFiles } = await import(${JSON.stringify(path.join(repository, 'src/sources/discover.ts'))});`,
      `const { readDocuments } = await import(${JSON.stringify(path.join(repository, 'src/sources/read.ts'))});`,
      'const readAll = async (files) => { const events = []; for await (const event of readDocuments(files)) events.push(event); return events; };',
      `const root = ${JSON.stringify(root)};`,
      "const excluded = await readAll(await discoverFiles([root], { exclude: ['excluded/**'] }));",
      'const all = await readAll(await discoverFiles([root]));',
      'process.stdout.write(JSON.stringify({ excluded, all }));',
    ].join('\n'),
  );
  await chmod(script, 0o644);
  await chmod(root, 0o755);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
      cwd: repository,
      uid: user.uid,
      gid: user.gid,
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout) as { excluded: ReadEvent[]; all: ReadEvent[] };
  } finally {
    await rm(script, { force: true });
  }
}
