import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { DocumentLedger } from '../../src/pipeline/document-ledger.js';
import { IngestRun } from '../../src/pipeline/ingest-run.js';
import { type ChunkedDocument, chunkStage } from '../../src/pipeline/stages/chunk.js';
import {
  groupShare,
  type PlanContext,
  type PlannedDocument,
  planStage,
} from '../../src/pipeline/stages/plan.js';
import { IngestStats } from '../../src/pipeline/stats.js';
import type { SourceDocument } from '../../src/sources/document.js';

async function* documents(count: number, text = 'some text'): AsyncGenerator<SourceDocument> {
  for (let i = 0; i < count; i += 1) {
    yield {
      docId: `doc-${i}`,
      source: 'docs',
      file: `doc-${i}.md`,
      text,
      format: 'markdown',
      metadata: {},
      docHash: `hash-${i}`,
    };
  }
}

function context(readManifests?: PlanContext['readManifests']) {
  const run = new IngestRun(
    configSchema.parse({}),
    new IngestStats(),
    { onProblem() {}, onFailure() {}, onRetry() {} },
    new AbortController().signal,
    'skip',
    undefined,
  );
  return {
    run,
    ledger: new DocumentLedger(),
    readManifests,
    model: async () => 'model@8',
    rewriteAll: false,
  };
}

describe('the plan stage', () => {
  it('plans a small first group, so the embedder starts early, then doubles up to the full size', async () => {
    const sizes: number[] = [];
    for await (const group of planStage(documents(2600), context())) sizes.push(group.length);
    expect(sizes).toEqual([16, 32, 64, 128, 256, 512, 1000, 592]);
  });

  it('reads the manifests of each group in one request', async () => {
    const reads: number[] = [];
    const planned = planStage(
      documents(40),
      context(async (ids) => {
        reads.push(ids.length);
        return new Map();
      }),
    );
    for await (const _ of planned);
    expect(reads).toEqual([16, 24]);
  });

  it('weighs a group against a full one by documents or by text, whichever is more', async () => {
    const small: number[] = [];
    for await (const group of planStage(documents(20), context())) small.push(groupShare(group));
    expect(small).toEqual([16 / 1000, 4 / 1000]);
    const big: number[] = [];
    for await (const group of planStage(documents(3, 'x'.repeat(8 * 1024 * 1024)), context())) {
      big.push(groupShare(group));
    }
    // 16 MiB of text closes a group whatever its count.
    expect(big).toEqual([1, 0.5]);
  });
});

describe('the chunk stage', () => {
  it('lets other work in while it chunks a large group, instead of holding the event loop', async () => {
    const { run } = context();
    const section = (n: number) =>
      `## Part ${n}\n\n${'Samples are kept in blocks and compacted. '.repeat(40)}\n\n`;
    const text = Array.from({ length: 20 }, (_, n) => section(n)).join('');
    async function* groups(): AsyncGenerator<PlannedDocument[]> {
      const group: PlannedDocument[] = [];
      for await (const document of documents(200, text)) {
        group.push({
          document,
          action: 'write',
          fingerprint: 'f',
          stored: undefined,
          retried: undefined,
          duplicateOf: undefined,
        });
      }
      yield group;
    }
    let ranBetween = 0;
    const chunked = chunkStage(groups(), run)[Symbol.asyncIterator]();
    const first = chunked.next();
    // Answers from the embedder arrive as callbacks like this one.
    const ticker = setInterval(() => {
      ranBetween += 1;
    }, 0);
    const result = await first;
    clearInterval(ticker);
    const group: ChunkedDocument[] = result.done ? [] : result.value;
    expect(group).toHaveLength(200);
    expect(group.every((entry) => entry.items.length > 1)).toBe(true);
    expect(ranBetween).toBeGreaterThan(1);
  });
});
