import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { createEmbedder } from '../../src/embed/create-embedder.js';
import { EmbedStage } from '../../src/pipeline/stages/embed.js';
import type { ItemFailure, WorkItem } from '../../src/pipeline/work-item.js';
import { startTeiServer, type TeiTestServer } from '../support/tei-server/index.js';

/**
 * The embed stage against the TEI test server: a request TEI refuses as bad input, with 413 (body
 * limit) or 422 (validation), is split until the one offending input is found; the rest is embedded.
 * Uses `EmbedStage` (constructor, `add`, `finish`) with the TEI embedder. Always against the test
 * server it starts (a real TEI cannot be told to refuse a chosen input), in a real-server run too.
 */
const servers: TeiTestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function item(index: number, text: string): WorkItem {
  return {
    file: 'docs/a.jsonl',
    line: index + 1,
    docId: `doc-${index}`,
    chunkIndex: 0,
    text,
    payload: { doc_id: `doc-${index}` },
    pointId: `00000000-0000-5000-8000-${String(index).padStart(12, '0')}`,
    estimatedTokens: 4,
    vector: undefined,
  };
}

async function embedAll(server: TeiTestServer, texts: string[]) {
  const tei = configSchema.parse({ tei: { url: server.url, timeoutMs: 10_000 } }).tei;
  const embedder = createEmbedder(tei, { concurrency: 2 });
  const embedded: string[] = [];
  const failures: ItemFailure[] = [];
  const stage = new EmbedStage(embedder, {
    limits: { maxInputs: texts.length, maxTokens: 100_000, maxBytes: 1 << 20 },
    concurrency: 2,
    retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 },
    dimensions: 1024,
    onEmbedded: async (items) => {
      embedded.push(...items.map((entry) => entry.text));
    },
    onFailed: (list) => failures.push(...list),
    onRetry: () => {},
  });
  for (const [index, text] of texts.entries()) await stage.add(item(index, text));
  await stage.finish();
  await embedder.close();
  return { embedded, failures };
}

const texts = Array.from({ length: 8 }, (_, i) => (i === 5 ? 'the poisoned chunk' : `healthy chunk ${i}`));

describe('embed stage splitting a batch TEI refuses', () => {
  it.each([
    [413, 'Failed to buffer the request body: length limit exceeded'],
    [422, 'Input validation error: `inputs` must have less than'],
  ] as const)(
    'isolates the one input in a batch that TEI answers %i, and embeds the rest',
    async (status, words) => {
      const server = await startTeiServer();
      servers.push(server);
      server.faults.inject({ status }, { input: (text) => text === 'the poisoned chunk' });
      const { embedded, failures } = await embedAll(server, texts);
      expect(failures.map((failure) => failure.item.text)).toEqual(['the poisoned chunk']);
      expect(failures[0]!.stage).toBe('embed');
      expect(failures[0]!.reason).toContain(String(status));
      expect(failures[0]!.reason).toContain(words);
      expect(embedded.sort()).toEqual(texts.filter((text) => text !== 'the poisoned chunk').sort());
      // 8 -> 4 + 4 -> 2 + 2 -> 1 + 1: the whole batch, both halves, both quarters of the bad half, both eighths.
      expect(server.stats.requests['/v1/embeddings']).toBe(7);
      expect(server.stats.statuses[status]).toBe(4);
    },
  );
});
