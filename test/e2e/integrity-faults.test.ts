import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/bench/vectors.js';
import {
  checkDocuments,
  corpusChunkFlags,
  createBareCollection,
  diffSnapshots,
  type Snapshot,
  snapshot,
  summaryOf,
  writeCorpus,
} from '../support/integrity.js';
import type { QdrantTestServer } from '../support/qdrant-server/index.js';
import { skipSuiteOnReal } from '../support/real-servers.js';
import { runCli } from '../support/run-cli.js';
import { startStack, type TestStack, uniqueName } from '../support/stack.js';
import type { TeiTestServer } from '../support/tei-server/index.js';

/**
 * The fault matrix: each fault at a seeded 20% of the requests it can hit, one ingest each, into
 * a fresh collection. For every row the run must exit 0 with a summary that counts what Qdrant
 * holds, and the collection must equal a fault-free ingest of the same input point for point
 * (id, payload, vector): every chunk present exactly once. TEI faults hit every POST (embedding);
 * Qdrant faults hit every call of the `Points` service: upserts, manifest reads, marks, deletes and
 * the final barrier. The calls of the `Collections` service (the preflight's Collections/Get, the
 * sync markers' Collections/Update) are not retried yet: see the last test.
 */

/** A fault's share of the requests it can hit. */
const rate = 0.2;

let stack: TestStack;
let cwd: string;
let corpus: string;
let expected: Snapshot;
let documents: number;
const totals = { runs: 0, faults: 0, byRow: [] as string[] };

/** Faults a row injected, counted on the servers as they happen. */
class FaultCount {
  value = 0;
  add = (n = 1) => {
    this.value += n;
  };
}

type Servers = { tei: TeiTestServer; qdrant: QdrantTestServer };

/** Sets a fault up on the servers; returns what to do once the run is over (stop, count). */
type Inject = (servers: Servers, count: FaultCount, share: number, seed: number) => () => void;

/** A seeded share of TEI requests answered with `status`, counted from TEI's answers. */
const teiStatus =
  (status: 429 | 503 | 424): Inject =>
  ({ tei }, count, share, seed) => {
    const before = tei.stats.statuses[status] ?? 0;
    tei.faults.failRate(share, status, { seed });
    return () => count.add((tei.stats.statuses[status] ?? 0) - before);
  };

/** A seeded share of TEI connections destroyed once the request has arrived. */
const teiReset: Inject = ({ tei }, count, share, seed) => {
  const before = tei.stats.resets;
  tei.faults.resetRate(share, { seed });
  return () => count.add(tei.stats.resets - before);
};

/** A seeded share of slow TEI answers: 50 to 600 ms late. */
const teiSlow: Inject = ({ tei }, count, share, seed) => {
  tei.faults.delay(
    (random) => {
      count.add();
      return 50 + random() * 550;
    },
    { rate: share, seed },
  );
  return () => {};
};

/** Where Qdrant faults go: every call of the data path (see the file's comment). */
const points = 'Points';

type QdrantFault =
  | { code: Code; retryAfterSeconds?: number }
  | { goAway: true }
  | { dropAfterHandling: true };

/**
 * A seeded share of the calls of the `Points` service, chosen as each arrives (the test server
 * tells its listeners before it handles a call): answered with an error `code`; or HTTP/2 GOAWAY,
 * alternately after answering the call (the client must reconnect for its next) and refusing it
 * with REFUSED_STREAM (the client must send it again); or the connection lost after the call was
 * applied (the write happened, the client sees a lost connection and sends it again).
 */
const qdrantFault =
  (fault: QdrantFault): Inject =>
  ({ qdrant }, count, share, seed) => {
    const random = mulberry32(seed);
    let refuse = false;
    return qdrant.gauge.listen((event) => {
      if (event.phase !== 'start' || !event.method.startsWith(`${points}/`) || random() >= share) return;
      count.add();
      const method = event.method;
      if ('code' in fault) {
        qdrant.faults.failNext(1, fault.code, undefined, {
          method,
          retryAfterSeconds: fault.retryAfterSeconds,
        });
      } else if ('goAway' in fault) {
        refuse = !refuse;
        qdrant.faults.goAwayNext(1, { method, refuse });
      } else {
        qdrant.faults.dropNext(1, { method, afterHandling: true });
      }
    });
  };

/**
 * What the summary's `retries` must say of a fault: `each`, one retry per fault (an error
 * answer); `some`, at least one (a lost connection also fails the other calls on it; a GOAWAY
 * after answering fails none); `none`, a slow answer is no failure.
 */
type Retries = 'each' | 'some' | 'none';
type Fault = { name: string; inject: Inject; retries: Retries };

const teiFaults: Fault[] = [
  { name: 'TEI 429 (overloaded)', inject: teiStatus(429), retries: 'each' },
  { name: 'TEI 503 (unhealthy)', inject: teiStatus(503), retries: 'each' },
  { name: 'TEI 424 (backend)', inject: teiStatus(424), retries: 'each' },
  { name: 'TEI connection reset', inject: teiReset, retries: 'each' },
  { name: 'TEI slow responses', inject: teiSlow, retries: 'none' },
];

const qdrantFaults: Fault[] = [
  { name: 'Qdrant UNAVAILABLE', inject: qdrantFault({ code: Code.Unavailable }), retries: 'each' },
  {
    name: 'Qdrant RESOURCE_EXHAUSTED with retry-after',
    inject: qdrantFault({ code: Code.ResourceExhausted, retryAfterSeconds: 1 }),
    retries: 'each',
  },
  { name: 'Qdrant DEADLINE_EXCEEDED', inject: qdrantFault({ code: Code.DeadlineExceeded }), retries: 'each' },
  { name: 'Qdrant GOAWAY', inject: qdrantFault({ goAway: true }), retries: 'some' },
  {
    name: 'Qdrant connection lost after the call was applied',
    inject: qdrantFault({ dropAfterHandling: true }),
    retries: 'some',
  },
];

/** Every fault of `faults` at once, sharing `share` of the requests between them. */
const together =
  (faults: readonly Fault[], seedBase: number): Inject =>
  (servers, count, share) => {
    const each = 1 - (1 - share) ** (1 / faults.length);
    const finishes = faults.map((fault, index) => fault.inject(servers, count, each, seedBase + index));
    return () => {
      for (const finish of finishes) finish();
    };
  };

/** Rows: each fault alone at 20%, then both sides at once (each side's faults sharing its 20%). */
const rows: Array<Fault & { seed: number }> = [
  ...[...teiFaults, ...qdrantFaults].map((fault, index) => ({ ...fault, seed: index + 1 })),
  {
    name: 'both at once: every TEI fault and every Qdrant fault, 20% of each side',
    inject: (servers, count, share) => {
      const finishTei = together(teiFaults, 100)(servers, count, share, 0);
      const finishQdrant = together(qdrantFaults, 200)(servers, count, share, 0);
      return () => {
        finishTei();
        finishQdrant();
      };
    },
    retries: 'some',
    seed: 0,
  },
];

function envFor(collection: string): Record<string, string> {
  return { TABOOT_QDRANT_URL: stack.qdrantUrl, TABOOT_TEI_URL: stack.teiUrl, TABOOT_COLLECTION: collection };
}

/** Small TEI and Qdrant batches, so that a 20% share hits dozens of requests of each kind. */
const ingestArgs = () => [
  'ingest',
  corpus,
  ...corpusChunkFlags,
  '--batch-size',
  '12',
  '--max-client-batch-size',
  '6',
  '--json',
  '--progress',
  'none',
];

async function ingestInto(collection: string) {
  await createBareCollection(stack.qdrantUrl, collection);
  const result = await runCli(ingestArgs(), { env: envFor(collection), cwd, timeoutMs: 120_000 });
  return { result, summary: result.code === 0 ? summaryOf(result) : undefined };
}

beforeAll(async () => {
  stack = await startStack();
  cwd = mkdtempSync(join(tmpdir(), 'taboot-faults-'));
  corpus = join(cwd, 'corpus');
  writeCorpus(corpus, 30, 50);
  if (!stack.qdrant || !stack.tei) return;
  const clean = uniqueName('faults_clean');
  const { result } = await ingestInto(clean);
  expect(result.code, result.stderr).toBe(0);
  expected = snapshot(stack.qdrant, clean);
  documents = checkDocuments(expected).size;
}, 120_000);

afterAll(async () => {
  if (totals.runs > 0) {
    console.info(
      `fault matrix: ${totals.runs} runs, ${totals.faults} faults injected\n  ${totals.byRow.join('\n  ')}`,
    );
  }
  await stack?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('the fault matrix: each fault at 20% of requests (built binary, test servers)', () => {
  skipSuiteOnReal(['qdrant', 'tei'], 'injects faults, which only the test servers can');

  it.each(rows)(
    '$name: exit 0, every chunk exactly once, the summary counts what Qdrant holds',
    async (row) => {
      const tei = stack.tei!;
      const qdrant = stack.qdrant!;
      const collection = uniqueName('faults');
      const count = new FaultCount();
      let finish: (() => void) | undefined;
      let outcome: Awaited<ReturnType<typeof ingestInto>>;
      await createBareCollection(stack.qdrantUrl, collection);
      try {
        finish = row.inject({ tei, qdrant }, count, rate, row.seed);
        const result = await runCli(ingestArgs(), { env: envFor(collection), cwd, timeoutMs: 120_000 });
        outcome = { result, summary: result.code === 0 ? summaryOf(result) : undefined };
      } finally {
        finish?.();
        await tei.faults.reset();
        qdrant.faults.reset();
      }
      const { result, summary } = outcome;
      totals.runs += 1;
      totals.faults += count.value;
      totals.byRow.push(
        `${row.name}: ${count.value} faults, ${summary?.retries ?? '?'} retries, exit ${result.code}`,
      );

      expect(result.code, result.stderr.slice(-3000)).toBe(0);
      expect(count.value, 'faults injected').toBeGreaterThan(0);
      // No Node warning or stack trace on the way, whatever was retried.
      expect(result.stderr).not.toMatch(/\(node:\d+\)|^\s+at /m);
      const stored = snapshot(qdrant, collection);
      expect(diffSnapshots(stored, expected)).toEqual([]);
      expect(summary).toMatchObject({
        documents,
        new: documents,
        chunks: stored.size,
        vectors: stored.size,
        failed: 0,
        skipped: 0,
      });
      if (row.retries === 'each') expect(summary!.retries, 'one retry per fault').toBe(count.value);
      if (row.retries === 'some') expect(summary!.retries).toBeGreaterThan(0);
      if (row.retries === 'none') expect(summary!.retries).toBe(0);
    },
  );
});

describe('faults on the Collections calls of an ingest (built binary, test servers)', () => {
  skipSuiteOnReal(['qdrant', 'tei'], 'injects faults, which only the test servers can');

  // The preflight's Collections/Get and the sync markers' Collections/Update are retried like the
  // calls of the Points service: one transient UNAVAILABLE there must not end the run.
  it.each([
    ['the preflight', 'Collections/Get'],
    ['a sync marker', 'Collections/Update'],
  ])('retries one UNAVAILABLE on %s (%s) and exits 0', async (_what, method) => {
    const qdrant = stack.qdrant!;
    const collection = uniqueName('faults_collections');
    await createBareCollection(stack.qdrantUrl, collection);
    qdrant.faults.failNext(1, Code.Unavailable, undefined, { method });
    let result: Awaited<ReturnType<typeof runCli>>;
    try {
      result = await runCli(ingestArgs(), { env: envFor(collection), cwd, timeoutMs: 120_000 });
    } finally {
      qdrant.faults.reset();
    }
    expect(result.stderr).not.toContain('UNAVAILABLE');
    expect(result.code).toBe(0);
    expect(diffSnapshots(snapshot(qdrant, collection), expected)).toEqual([]);
  });
});
