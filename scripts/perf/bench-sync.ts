/**
 * Sync's payoff, for `npm run perf`: a corpus ingested twice into the test servers, the second run
 * with nothing changed. Reports both wall times (the built CLI, start-up included), their ratio,
 * and what the second run asked of the servers: embed requests and upserts, counted at the
 * servers. The corpus is `copies` copies of the bundled Prometheus docs under one root; `serviceRate`
 * (tokens/s) makes the test TEI run like a GPU (40,000: an RTX 4070 with Qwen3-Embedding-0.6B), so
 * the first run costs what embedding costs on the target box. Without it the test TEI answers as
 * fast as it hashes words, and both runs are mostly start-up. Run alone:
 * `npx tsx scripts/perf/bench-sync.ts [--service-rate 40000] [--copies 4]`.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { IngestSummary } from '../../src/pipeline/summary.js';
import { runCli } from '../../test/support/run-cli.js';
import { startStack } from '../../test/support/stack.js';

export interface SyncBench {
  first_seconds: number;
  second_seconds: number;
  /** second / first: the target is under 0.05. */
  second_run_ratio: number;
  second_embed_requests: number;
  second_upserts: number;
  documents: number;
  vectors: number;
}

const corpus = fileURLToPath(new URL('../../fixtures/prometheus-docs/', import.meta.url));

export async function benchSync(options: { serviceRate?: number; copies?: number } = {}): Promise<SyncBench> {
  const root = mkdtempSync(join(tmpdir(), 'taboot-perf-sync-'));
  for (let copy = 0; copy < (options.copies ?? 1); copy += 1)
    cpSync(corpus, join(root, `copy-${copy}`), { recursive: true });
  const stack = await startStack({ tei: { serviceRate: options.serviceRate } });
  try {
    const env = {
      TABOOT_QDRANT_URL: stack.qdrantUrl,
      TABOOT_TEI_URL: stack.teiUrl,
      TABOOT_COLLECTION: 'perf_sync',
    };
    const created = await runCli(['collection', 'create'], { env });
    if (created.code !== 0) throw new Error(`collection create failed: ${created.stderr}`);
    const ingest = async () => {
      const result = await runCli(['ingest', root, '--json', '--progress', 'none'], {
        env,
        timeoutMs: 600_000,
      });
      if (result.code !== 0) throw new Error(`ingest failed (${result.code}): ${result.stderr}`);
      return { ms: result.ms, summary: JSON.parse(result.stdout) as IngestSummary };
    };
    const first = await ingest();
    const embedRequests = () =>
      (stack.tei!.stats.requests['/embed'] ?? 0) + (stack.tei!.stats.requests['/v1/embeddings'] ?? 0);
    const embedsBefore = embedRequests();
    stack.qdrant!.counters.reset();
    const second = await ingest();
    return {
      first_seconds: round(first.ms / 1000),
      second_seconds: round(second.ms / 1000),
      second_run_ratio: round(second.ms / first.ms),
      second_embed_requests: embedRequests() - embedsBefore,
      second_upserts: stack.qdrant!.calls.get('Points/Upsert') ?? 0,
      documents: second.summary.documents,
      vectors: first.summary.vectors,
    };
  } finally {
    await stack.close();
    rmSync(root, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { 'service-rate': { type: 'string' }, copies: { type: 'string' } },
  });
  const serviceRate = values['service-rate'] ? Number(values['service-rate']) : undefined;
  console.log(JSON.stringify(await benchSync({ serviceRate, copies: Number(values.copies ?? 1) })));
}
