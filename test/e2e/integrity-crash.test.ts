import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/bench/vectors.js';
import {
  CallClock,
  checkDocuments,
  corpusChunkFlags,
  diffSnapshots,
  jsonlRecord,
  markdownPage,
  metadataOf,
  type Snapshot,
  snapshot,
  summaryOf,
  writeCorpus,
} from '../support/integrity.js';
import { skipSuiteOnReal } from '../support/real-servers.js';
import { runCli } from '../support/run-cli.js';
import { startIngest } from '../support/slow-ingest.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';

/**
 * kill -9 at seeded moments of an ingest, then run it again: the collection must end equal, point
 * for point (id, payload, vector), to a clean ingest of the same input into a fresh collection.
 *
 * A moment is "the k-th call either test server receives during this run" (Qdrant methods and
 * TEI requests alike), k drawn from a seeded generator over the calls a whole run makes: a moment
 * defined by the client's progress, not by time, and spread over every phase (preflight, manifest
 * reads, embedding, upserts, surplus deletes, chunk 0 last, metadata markers, the final barrier).
 * The kill is sent while the server holds that call, so the server still applies it: the case of
 * a write that lands after its client died. Each run after a kill is itself a candidate for the
 * next kill (a crash during recovery); a run that ends before its moment must have exited 0 with
 * the collection equal to the clean one, and the loop starts over from the starting state.
 */

const seed = Number(process.env.TABOOT_CRASH_SEED ?? 20_251_130);
const kills = 10;

let stack: TestStack;
let clock: CallClock;
let cwd: string;

beforeAll(async () => {
  stack = await startStack();
  cwd = mkdtempSync(join(tmpdir(), 'taboot-crash-'));
  if (stack.qdrant && stack.tei) clock = new CallClock(stack);
});
afterAll(async () => {
  clock?.dispose();
  await stack?.close();
  rmSync(cwd, { recursive: true, force: true });
});

function envFor(collection: string): Record<string, string> {
  return { TABOOT_QDRANT_URL: stack.qdrantUrl, TABOOT_TEI_URL: stack.teiUrl, TABOOT_COLLECTION: collection };
}

async function createCollection(collection: string): Promise<void> {
  const created = await runCli(['collection', 'create'], { env: envFor(collection), cwd });
  expect(created.code, created.stderr).toBe(0);
}

async function deleteCollection(collection: string): Promise<void> {
  const deleted = await runCli(['collection', 'delete', collection, '--yes'], {
    env: envFor(collection),
    cwd,
  });
  expect(deleted.code, deleted.stderr).toBe(0);
}

/** One ingest run to the end; returns its summary and the calls it made. */
async function ingestClean(collection: string, args: readonly string[]) {
  clock.restart();
  const run = startIngest(args, { env: envFor(collection), cwd });
  const result = await run.done;
  expect(result.code, result.stderr.slice(-3000)).toBe(0);
  const summary = summaryOf(result);
  expect(summary.failed + summary.skipped).toBe(0);
  return { summary, calls: clock.calls };
}

interface CrashReport {
  kills: number;
  completedReruns: number;
  /** Where each kill landed: the method of the call the server was holding. */
  landedOn: Map<string, number>;
  runs: number;
}

/**
 * Runs `args` again and again, each run killed at its seeded moment, until `kills` runs were
 * killed; then once more to the end. A run that finished before its moment is checked against
 * `expected` and the collection is reset with `reset`.
 */
async function crashLoop(options: {
  collection: string;
  args: readonly string[];
  callsPerRun: number;
  expected: Snapshot;
  random: () => number;
  reset: () => Promise<void>;
}): Promise<CrashReport> {
  const { collection, args, expected } = options;
  const report: CrashReport = { kills: 0, completedReruns: 0, landedOn: new Map(), runs: 0 };
  const history: string[] = [];
  while (report.kills < kills) {
    // Each run lands its kill unless it needs fewer calls than its moment; this many runs without
    // ten kills means runs end far earlier than a clean run does.
    expect(report.runs, history.join('; ')).toBeLessThan(4 * kills);
    const moment = 1 + Math.floor(options.random() * options.callsPerRun);
    let landed: string | undefined;
    let killRun: (() => void) | undefined;
    clock.restart((call) => {
      if (call.n !== moment || landed !== undefined) return;
      landed = call.method;
      killRun?.();
    });
    const run = startIngest(args, { env: envFor(collection), cwd });
    killRun = () => run.child.kill('SIGKILL');
    const result = await run.done;
    report.runs += 1;
    if (result.signal === 'SIGKILL') {
      report.kills += 1;
      report.landedOn.set(landed!, (report.landedOn.get(landed!) ?? 0) + 1);
      history.push(`killed at call ${moment} (${landed})`);
      // Whatever a kill leaves, each document stays whole or is found out by the next run.
      continue;
    }
    history.push(`ran to the end before call ${moment}`);
    expect(result.code, `${history.join('; ')}\n${result.stderr.slice(-3000)}`).toBe(0);
    expect(diffSnapshots(snapshot(stack.qdrant!, collection), expected), history.join('; ')).toEqual([]);
    report.completedReruns += 1;
    await options.reset();
  }
  clock.restart();
  const last = await startIngest(args, { env: envFor(collection), cwd }).done;
  report.runs += 1;
  expect(last.code, `${history.join('; ')}\n${last.stderr.slice(-3000)}`).toBe(0);
  const summary = summaryOf(last);
  expect(summary.failed + summary.skipped, history.join('; ')).toBe(0);
  const after = snapshot(stack.qdrant!, collection);
  // What the last run read is what Qdrant holds: every document with text, whole.
  expect(checkDocuments(after).size, history.join('; ')).toBe(summary.documents - summary.empty);
  expect(diffSnapshots(after, expected), history.join('; ')).toEqual([]);
  // Whether the run also marked its sources clean again is the last test's concern: a run with
  // nothing left to write does not yet.
  return report;
}

function describeReport(report: CrashReport): string {
  const landed = [...report.landedOn].map(([method, n]) => `${method} x${n}`).join(', ');
  return `${report.kills} kills survived in ${report.runs} runs (${report.completedReruns} re-runs ran to the end first); kills landed on ${landed}`;
}

describe('kill -9 during ingest, then run it again (built binary, test servers)', () => {
  skipSuiteOnReal(
    ['qdrant', 'tei'],
    'kills the client at the k-th call the test servers receive, and reads their stored points',
  );

  it('ends equal to a clean ingest, point for point, after 10 kills at seeded moments', async () => {
    const corpus = join(cwd, 'corpus');
    writeCorpus(corpus, 40, 80);
    const args = [corpus, ...corpusChunkFlags, '--batch-size', '24'];

    const clean = uniqueName('crash_clean');
    await createCollection(clean);
    const { calls: callsPerRun } = await ingestClean(clean, args);
    const expected = snapshot(stack.qdrant!, clean);
    const documents = checkDocuments(expected);
    expect(documents.size).toBe(120);

    const crashed = uniqueName('crash');
    await createCollection(crashed);
    const report = await crashLoop({
      collection: crashed,
      args,
      callsPerRun,
      expected,
      random: mulberry32(seed),
      reset: async () => {
        await deleteCollection(crashed);
        await createCollection(crashed);
      },
    });
    console.info(
      `crash loop, ingest (seed ${seed}): ${expected.size} chunks of ${documents.size} documents, ${callsPerRun} calls a clean run; ${describeReport(report)}; chunks lost 0`,
    );
    expect(report.kills).toBe(kills);
  }, 240_000);

  it('a sync of a changed corpus (edits, deletions, an emptied file, an added file) ends equal to a clean ingest after 10 kills', async () => {
    const corpus = join(cwd, 'sync');
    const args = [corpus, ...corpusChunkFlags, '--batch-size', '24', '--prune'];
    const writeOld = () => writeCorpus(corpus, 40, 80);
    const change = () => {
      // Edits: longer and shorter pages (new chunks, surplus chunks to delete) and changed records.
      for (let i = 0; i < 40; i += 4) {
        const sections = i % 8 === 0 ? 1 : 6;
        writeFileSync(
          join(corpus, 'pages', `page-${String(i).padStart(4, '0')}.md`),
          markdownPage(`Page ${i}`, sections, i + 1000),
        );
      }
      // Deletions: whole pages, and records dropped from the JSONL file.
      for (let i = 1; i < 40; i += 10)
        unlinkSync(join(corpus, 'pages', `page-${String(i).padStart(4, '0')}.md`));
      const records = Array.from({ length: 80 }, (_, i) => i)
        .filter((i) => i % 9 !== 0)
        .map((i) => jsonlRecord(`rec-${i}`, i % 5 === 0 ? i + 500 : i));
      writeFileSync(join(corpus, 'records.jsonl'), `${records.join('\n')}\n`);
      // An emptied file, and added ones.
      writeFileSync(join(corpus, 'pages', 'page-0003.md'), '');
      for (let i = 40; i < 46; i += 1) {
        writeFileSync(
          join(corpus, 'pages', `page-${String(i).padStart(4, '0')}.md`),
          markdownPage(`Page ${i}`, 3, i),
        );
      }
    };

    // The clean result: the changed corpus ingested into a fresh collection.
    writeOld();
    change();
    const clean = uniqueName('sync_clean');
    await createCollection(clean);
    await ingestClean(clean, args);
    const expected = snapshot(stack.qdrant!, clean);
    checkDocuments(expected);

    // A sync without a crash gets there too, and tells how many calls a sync makes.
    const base = async (collection: string) => {
      writeOld();
      await createCollection(collection);
      await ingestClean(collection, args);
      change();
    };
    const synced = uniqueName('sync_reference');
    await base(synced);
    const { summary, calls: callsPerRun } = await ingestClean(synced, args);
    expect(diffSnapshots(snapshot(stack.qdrant!, synced), expected)).toEqual([]);
    // 4 pages and 9 records deleted, 1 page emptied, 6 added, 10 pages and 14 records edited.
    expect(summary).toMatchObject({ pruned: 13, empty: 1, new: 6, changed: 24 });

    const crashed = uniqueName('sync');
    await base(crashed);
    const report = await crashLoop({
      collection: crashed,
      args,
      callsPerRun,
      expected,
      random: mulberry32(seed + 1),
      reset: async () => {
        await deleteCollection(crashed);
        await base(crashed);
      },
    });
    console.info(
      `crash loop, sync (seed ${seed + 1}): ${expected.size} chunks expected, ${callsPerRun} calls a clean sync; ${describeReport(report)}; chunks lost 0`,
    );
    expect(report.kills).toBe(kills);
  }, 240_000);

  describe('a run after a kill that finds nothing left to write', () => {
    const collection = uniqueName('crash_marker');
    const marker = () => metadataOf(stack.qdrant!, collection)['taboot.sync.marker'];
    let args: string[];

    it('(given: a run killed at its last barrier, every point written, its marker not yet cleared)', async () => {
      const corpus = join(cwd, 'marker');
      writeCorpus(corpus, 4, 4);
      args = [corpus, ...corpusChunkFlags];
      const probe = uniqueName('crash_marker_probe');
      await createCollection(probe);
      // The barrier is the last Points/SetPayload of a clean run; after it come the source's clean
      // marker and the lock's release (Collections calls).
      const methods: string[] = [];
      clock.restart((call) => methods.push(call.method));
      const probeRun = startIngest(args, { env: envFor(probe), cwd });
      expect((await probeRun.done).code).toBe(0);
      const barrier = methods.lastIndexOf('Points/SetPayload') + 1;
      expect(barrier).toBeGreaterThan(0);
      await createCollection(collection);
      let last: string | undefined;
      let killRun: (() => void) | undefined;
      // Killed while the server holds the barrier: it still answers, after applying every write,
      // for a client already dead, which never marks its source clean.
      clock.restart((call) => {
        if (call.n !== barrier) return;
        last = call.method;
        killRun?.();
      });
      const run = startIngest(args, { env: envFor(collection), cwd });
      killRun = () => run.child.kill('SIGKILL');
      expect((await run.done).signal).toBe('SIGKILL');
      expect(last).toBe('Points/SetPayload');
      expect(diffSnapshots(snapshot(stack.qdrant!, collection), snapshot(stack.qdrant!, probe))).toEqual([]);
      expect(marker()).toMatchObject({ state: 'running' });
    });

    // A run that read a recovering source whole, with nothing failed, marks it clean even though
    // it had nothing to write: otherwise every later run would take the source for one stopped midway.
    it('marks its source clean', async () => {
      const { summary } = await ingestClean(collection, args);
      expect(summary).toMatchObject({ vectors: 0, unchanged: 8 });
      expect(marker()).toMatchObject({ state: 'clean' });
    });
  });
});
