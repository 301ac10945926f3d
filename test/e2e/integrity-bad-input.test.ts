import { execFileSync } from 'node:child_process';
import { readFileSync, unlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestSummary } from '../../src/pipeline/summary.js';
import { discoverFiles } from '../../src/sources/discover.js';
import { displayPath, type SourceDocument } from '../../src/sources/document.js';
import { readDocuments } from '../../src/sources/read.js';
import { createBareCollection, storedPayloads } from '../support/integrity.js';
import { skipOnReal } from '../support/real-servers.js';
import { type CliResult, runCli } from '../support/run-cli.js';
import { writeVectorJsonl } from '../support/slow-ingest.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';
import { embeddingSize } from '../support/tei-server/client.js';

/**
 * The bad-input table (fixtures/bad/expected.json) end to end: `taboot ingest` of the built binary
 * over each committed file alone, over the whole folder, and over the cases that cannot be
 * committed (made here at run time), against the test servers. For each run: every message the
 * table gives is printed as one `file:line (field): reason` line and nothing else is, the summary
 * counts documents, empty ones, skipped input, warnings and duplicate ids as the table says, the
 * exit code follows, and Qdrant holds exactly the documents with text (for a repeated id, the
 * last occurrence), each whole.
 */

const repository = resolve(import.meta.dirname, '../..');
const corpus = 'fixtures/bad';

interface ExpectedEvent {
  document?: string;
  empty?: true;
  problem?: 'error' | 'warning';
  line?: number;
  field?: string;
  reason?: string;
  reasonStartsWith?: string;
}

interface Row {
  case: string;
  events: ExpectedEvent[];
  counted: Partial<Record<'documents' | 'empty' | 'skipped' | 'warnings' | 'duplicates', number>>;
  exit: 0 | 3;
}

const table = JSON.parse(readFileSync(join(repository, corpus, 'expected.json'), 'utf8')) as {
  files: Record<string, Row>;
  generated: Record<string, Row>;
};

/** One line the run must print on stderr: exactly, or starting with `prefix`. */
type LineMatcher = { exact: string } | { prefix: string };

interface Expectation {
  lines: LineMatcher[];
  counts: Pick<IngestSummary, 'documents' | 'empty' | 'skipped' | 'warnings' | 'duplicates'>;
  exit: 0 | 3;
}

/**
 * What a run over `inputs` (in the order the run reads them) must print and count, from the
 * table's events: each problem as `warning: <file>[:line][ (field)]: [skipped: ]reason`, each id
 * read again as a duplicate naming both places, and the closing line of a partial run.
 */
function expectationOf(
  inputs: ReadonlyArray<{ display: string; events: readonly ExpectedEvent[] }>,
): Expectation {
  const lines: LineMatcher[] = [];
  const counts = { documents: 0, empty: 0, skipped: 0, warnings: 0, duplicates: 0 };
  const firstAt = new Map<string, string>();
  for (const { display, events } of inputs) {
    for (const event of events) {
      const where = event.line === undefined ? display : `${display}:${event.line}`;
      if (event.document !== undefined) {
        counts.documents += 1;
        if (event.empty) counts.empty += 1;
        const first = firstAt.get(event.document);
        if (first === undefined) firstAt.set(event.document, where);
        else {
          counts.duplicates += 1;
          lines.push({
            exact: `warning: ${where} (id): duplicate document id "${event.document}" (first at ${first}); this later one replaces it`,
          });
        }
        continue;
      }
      const error = event.problem === 'error';
      if (error) counts.skipped += 1;
      else counts.warnings += 1;
      const head = `warning: ${where}${event.field ? ` (${event.field})` : ''}: ${error ? 'skipped: ' : ''}`;
      lines.push(
        event.reasonStartsWith !== undefined
          ? { prefix: head + event.reasonStartsWith }
          : { exact: head + event.reason },
      );
    }
  }
  const exit = counts.skipped > 0 || counts.duplicates > 0 ? 3 : 0;
  if (exit === 3) {
    const duplicates = counts.duplicates > 0 ? `, ${counts.duplicates} duplicate document id(s)` : '';
    lines.push({
      exact: `error: ${counts.skipped} input(s) skipped, 0 chunk(s) failed${duplicates}; see the messages above`,
    });
  }
  return { lines, counts, exit };
}

/** Matches stderr's lines to the expected ones: returns what is missing and what is extra. */
function matchLines(
  stderr: string,
  expected: readonly LineMatcher[],
): { missing: string[]; extra: string[] } {
  const left = stderr.split('\n').filter((line) => line !== '');
  const missing: string[] = [];
  for (const matcher of expected) {
    const wanted = 'exact' in matcher ? matcher.exact : matcher.prefix;
    const index = left.findIndex(
      (line) => line.startsWith(wanted) && ('prefix' in matcher || line.length === wanted.length),
    );
    if (index === -1) missing.push('exact' in matcher ? matcher.exact : `${matcher.prefix}…`);
    else left.splice(index, 1);
  }
  return { missing, extra: left };
}

/** The documents with text a run over `paths` leaves in Qdrant: the last occurrence of each id. */
async function lastOccurrences(paths: readonly string[], options: { exclude?: string[] } = {}) {
  const documents = new Map<string, SourceDocument>();
  const files = await discoverFiles(
    paths.map((path) => resolve(repository, path)),
    options,
  );
  for await (const event of readDocuments(files)) {
    if (event.kind === 'document' && event.document.text !== '')
      documents.set(event.document.docId, event.document);
  }
  return documents;
}

const totals = { runs: 0, inputs: 0, lines: 0 };

let stack: TestStack;
/** The size of the embeddings the TEI under test makes (a real one may serve any model). */
let dimensions: number;

beforeAll(async () => {
  stack = await startStack();
  dimensions = await embeddingSize(stack.teiUrl);
});
afterAll(async () => {
  console.info(
    `bad input: ${totals.runs} runs, ${totals.inputs} inputs (files, lines, paths) checked, ${totals.lines} messages matched`,
  );
  await stack?.close();
});

/**
 * `taboot ingest <paths>` into a fresh collection, checked against `expectation` and against the
 * last occurrence of every document with text under `paths`.
 */
async function ingestAndCheck(
  paths: readonly string[],
  expectation: Expectation,
  options: {
    args?: string[];
    user?: { uid: number; gid: number };
    exclude?: string[];
    /** What Qdrant must hold after the run, when not every document with text under `paths`. */
    documents?: Map<string, SourceDocument>;
    /** Runs first, into the same collection. */
    before?: (env: Record<string, string>) => Promise<void>;
  } = {},
): Promise<{ result: CliResult; summary: IngestSummary }> {
  const collection = uniqueName('bad');
  await createBareCollection(stack.qdrantUrl, collection, dimensions);
  const env = {
    TABOOT_QDRANT_URL: stack.qdrantUrl,
    TABOOT_TEI_URL: stack.teiUrl,
    TABOOT_COLLECTION: collection,
  };
  await options.before?.(env);
  const result = await runCli(['ingest', ...paths, ...(options.args ?? []), '--json', '--progress', 'none'], {
    env,
    cwd: repository,
    user: options.user,
    timeoutMs: 120_000,
  });
  totals.runs += 1;
  totals.lines += expectation.lines.length;
  const context = `taboot ingest ${paths.join(' ')}\n${result.stderr.slice(-3000)}`;
  expect(matchLines(result.stderr, expectation.lines), context).toEqual({ missing: [], extra: [] });
  expect(result.code, context).toBe(expectation.exit);
  const summary = JSON.parse(result.stdout) as IngestSummary;
  expect(summary, context).toMatchObject({ ...expectation.counts, failed: 0 });

  const documents = options.documents ?? (await lastOccurrences(paths, { exclude: options.exclude }));
  const payloads = await storedPayloads(stack.qdrantUrl, collection);
  const byDocument = new Map<string, typeof payloads>();
  for (const payload of payloads) {
    const docId = String(payload.doc_id);
    byDocument.set(docId, [...(byDocument.get(docId) ?? []), payload]);
  }
  expect([...byDocument.keys()].sort(), context).toEqual([...documents.keys()].sort());
  for (const [docId, chunks] of byDocument) {
    const text = documents.get(docId)!.text;
    chunks.sort((a, b) => Number(a.chunk_index) - Number(b.chunk_index));
    expect(
      chunks.map((chunk) => [chunk.chunk_index, chunk.chunk_count]),
      docId,
    ).toEqual(chunks.map((_, index) => [index, chunks.length]));
    // The chunks are cut from this occurrence's text: a single chunk is the whole text, and every
    // line of a chunk (a table's header repeated in the next chunk included) is a line of it.
    if (chunks.length === 1) expect(chunks[0]!.content, docId).toBe(text.trim());
    const lines = new Set(text.split('\n'));
    for (const chunk of chunks) {
      for (const line of String(chunk.content).split('\n'))
        expect(lines.has(line), `${docId}: ${line}`).toBe(true);
    }
  }
  if (!options.before) {
    // Every vector written is held, but for the earlier occurrence of each repeated id, written
    // and then replaced by the later one (one chunk each in the table).
    expect(summary.vectors, context).toBe(payloads.length + expectation.counts.duplicates);
  }
  return { result, summary };
}

describe('fixtures/bad end to end (built binary, test servers)', () => {
  const committed = Object.entries(table.files);

  it('over the whole folder: every message, the counts, exit 3, and only the good documents (the last of a repeated id) in Qdrant', async () => {
    const expectation = expectationOf(
      committed.map(([file, row]) => ({ display: `${corpus}/${file}`, events: row.events })),
    );
    totals.inputs += committed.reduce((sum, [, row]) => sum + Math.max(1, row.events.length), 0);
    // The table's two duplicate ids: one within a file, one across files.
    expect(expectation.counts.duplicates).toBe(2);
    expect(expectation.exit).toBe(3);
    await ingestAndCheck([corpus], expectation);
  });

  it.each(committed)('%s alone: its messages, its counts and its exit code', async (file, row) => {
    const expectation = expectationOf([{ display: `${corpus}/${file}`, events: row.events }]);
    expect(expectation.exit).toBe(row.exit);
    const { documents, empty, skipped, warnings, duplicates } = expectation.counts;
    // The table counts a repeated id or an empty document apart from the documents with text.
    expect({ documents: documents - empty - duplicates, empty, skipped, warnings, duplicates }).toEqual({
      documents: 0,
      empty: 0,
      skipped: 0,
      warnings: 0,
      duplicates: 0,
      ...row.counted,
    });
    totals.inputs += Math.max(1, row.events.length);
    await ingestAndCheck([`${corpus}/${file}`], expectation);
  });
});

describe('bad input that cannot be committed, made at run time (built binary, test servers)', () => {
  let root: string;
  let elsewhere: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'taboot-bad-e2e-'));
    elsewhere = await mkdtemp(join(tmpdir(), 'taboot-elsewhere-'));
    // Readable by anyone: the permission case runs taboot as another user.
    await chmod(root, 0o755);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(elsewhere, { recursive: true, force: true });
  });

  /** The table's rows for the generated `names` under `folder`, named as taboot names them. */
  const generated = (folder: string, ...names: string[]) =>
    names.map((name) => ({
      display: displayPath(join(folder, name.replace(/\/$/, '')), repository),
      events: table.generated[name]!.events,
    }));
  const document = (folder: string, name: string) => ({
    display: displayPath(join(folder, name), repository),
    events: [{ document: name }],
  });

  it('a 10 MiB line, links that loop, break or leave the root, and a FIFO: each reported, the rest ingested', async () => {
    const current = join(root, 'links');
    await mkdir(current);
    const long = `{"text":"${'a'.repeat(10 * 1024 * 1024 - 11)}"}`;
    await writeFile(
      join(current, 'long-line.jsonl'),
      `{"id":"before","text":"x"}\n${long}\n{"id":"after","text":"y"}\n`,
    );
    await symlink(join(current, 'loop.md'), join(current, 'loop.md'));
    await symlink(join(current, 'missing.md'), join(current, 'broken-link.md'));
    await writeFile(join(elsewhere, 'secret.md'), '# outside\n\nNot under the ingest root.\n');
    await symlink(join(elsewhere, 'secret.md'), join(current, 'outside.md'));
    execFileSync('mkfifo', [join(current, 'pipe.md')]);
    await writeFile(join(current, 'ok.md'), '# Fine\n\nA readable page.\n');

    const inputs = [
      ...generated(current, 'broken-link.md', 'long-line.jsonl', 'loop.md', 'outside.md', 'pipe.md'),
      document(current, 'ok.md'),
    ];
    totals.inputs += inputs.reduce((sum, input) => sum + input.events.length, 0);
    const expectation = expectationOf(inputs);
    expect(expectation.counts).toMatchObject({ documents: 3, skipped: 5 });
    await ingestAndCheck([current], expectation);
  });

  it('a file deleted between discovery and reading is reported, the rest ingested', async (context) => {
    if (!stack.qdrant) {
      return skipOnReal(
        context,
        'qdrant',
        'deletes the file when the test server receives the first manifest read',
      );
    }
    const current = join(root, 'vanishing');
    await mkdir(current);
    // 1001 documents, already in Qdrant: the first group of 1000 is planned (one Points/Get of
    // their stored manifests) before the rest is read, so the file goes while the run is under
    // way, after discovery. Manifests are read only from a collection that held points at start.
    const many = join(current, 'a-many.jsonl');
    await writeVectorJsonl(many, 1001, dimensions);
    const vanishing = join(current, 'vanished.md');
    await writeFile(vanishing, '# Here when listed\n');
    const documents = await lastOccurrences([many]);
    let deleted = false;
    const before = async (env: Record<string, string>) => {
      const first = await runCli(['ingest', many, '--progress', 'none'], { env, cwd: repository });
      expect(first.code, first.stderr).toBe(0);
      stack.qdrant!.faults.latencyByMethod.set('Points/Get', () => {
        if (!deleted) unlinkSync(vanishing);
        deleted = true;
        return 0;
      });
    };
    try {
      const inputs = [
        {
          display: displayPath(many, repository),
          events: Array.from({ length: 1001 }, (_, i) => ({ document: `doc-${i}`, line: i + 1 })),
        },
        ...generated(current, 'vanished.md'),
      ];
      totals.inputs += 2;
      const { summary } = await ingestAndCheck([current], expectationOf(inputs), { documents, before });
      // What the first run wrote was found unchanged, not written again.
      expect(summary).toMatchObject({ unchanged: 1001, vectors: 0 });
    } finally {
      stack.qdrant.faults.reset();
    }
    expect(deleted).toBe(true);
  });

  it('an unreadable file and folder are reported, an excluded folder never entered', async (context) => {
    const current = join(root, 'permissions');
    await mkdir(current);
    await writeFile(join(current, 'ok.md'), '# Readable\n\nAnyone may read this page.\n');
    await writeFile(join(current, 'unreadable.md'), '# Secret\n');
    await mkdir(join(current, 'locked'));
    await writeFile(join(current, 'locked/inside.md'), '# Locked\n');
    await mkdir(join(current, 'excluded'));
    await writeFile(join(current, 'excluded/inside.md'), '# Excluded\n');
    await chmod(current, 0o755);
    // Root reads through any permission: run taboot as `nobody` then.
    const asRoot = process.getuid?.() === 0;
    const user = asRoot ? unprivilegedUser() : undefined;
    if (asRoot && !user)
      return context.skip('running as root and no `nobody` user to run as: EACCES cannot happen');
    const documents = await lastOccurrences([join(current, 'ok.md')]);
    for (const locked of ['unreadable.md', 'locked', 'excluded']) await chmod(join(current, locked), 0o000);
    try {
      const inputs = [
        ...generated(current, 'excluded/', 'locked', 'unreadable.md'),
        document(current, 'ok.md'),
      ];
      totals.inputs += 4;
      const { result } = await ingestAndCheck([current], expectationOf(inputs), {
        args: ['--exclude', 'excluded/**'],
        user,
        documents,
      });
      expect(result.stderr).not.toContain('excluded');
    } finally {
      for (const locked of ['unreadable.md', 'locked', 'excluded']) await chmod(join(current, locked), 0o755);
    }
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
