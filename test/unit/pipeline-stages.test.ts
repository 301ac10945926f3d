import { describe, expect, it, vi } from 'vitest';
import type { Embedder, EmbedderInfo, EmbedResult } from '../../src/embed/embedder.js';
import { ServiceError } from '../../src/errors.js';
import { EmbedStage } from '../../src/pipeline/stages/embed.js';
import { UpsertStage } from '../../src/pipeline/stages/upsert.js';
import { IngestStats } from '../../src/pipeline/stats.js';
import type { ItemFailure, WorkItem } from '../../src/pipeline/work-item.js';
import type { EncodablePoint } from '../../src/qdrant/point-encoder.js';
import type { PointSink } from '../../src/qdrant/point-sink.js';

const noRetry = { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 };

function item(index: number, vector?: Float32Array): WorkItem {
  return {
    file: 'docs/a.jsonl',
    line: index + 1,
    docId: `doc-${index}`,
    chunkIndex: 0,
    text: `text ${index}`,
    payload: { doc_id: `doc-${index}` },
    pointId: `00000000-0000-5000-8000-${String(index).padStart(12, '0')}`,
    estimatedTokens: 3,
    vector,
  };
}
const embedded = (index: number) =>
  item(index, new Float32Array([index, 1])) as WorkItem & { vector: Float32Array };

class RecordingSink implements PointSink {
  batches: string[][] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    private readonly reject: (points: readonly EncodablePoint[]) => Error | undefined = () => undefined,
  ) {}
  async upsert(points: readonly EncodablePoint[]): Promise<number> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 2));
    this.inFlight -= 1;
    const error = this.reject(points);
    if (error) throw error;
    this.batches.push(points.map((point) => String(point.id)));
    return points.length * 10;
  }
  pointBytes() {
    return 100;
  }
  async close() {}
}

function upsertStage(sink: PointSink, failures: ItemFailure[], stats = new IngestStats(), batchSize = 4) {
  return new UpsertStage(sink, {
    batchSize,
    batchBytes: 1 << 20,
    parallel: 2,
    retry: noRetry,
    onUpserted: (items, bytes, ms) => stats.recordUpsert(items.length, bytes, ms),
    onFailed: (list) => failures.push(...list),
    onRetry: () => {},
  });
}

describe('UpsertStage', () => {
  it('upserts every point in batches of batchSize with at most `parallel` in flight', async () => {
    const sink = new RecordingSink();
    const stats = new IngestStats();
    const stage = upsertStage(sink, [], stats);
    for (let index = 0; index < 10; index += 1) await stage.add(embedded(index));
    await stage.finish();
    expect(sink.batches.map((batch) => batch.length).sort()).toEqual([2, 4, 4]);
    expect(sink.batches.flat()).toHaveLength(10);
    expect(sink.maxInFlight).toBeLessThanOrEqual(2);
    expect(stats.vectorsUpserted).toBe(10);
  });

  it('isolates the point Qdrant rejects as bad input and upserts its neighbours', async () => {
    const bad = embedded(5).pointId;
    const sink = new RecordingSink((points) =>
      points.some((point) => point.id === bad)
        ? new ServiceError('qdrant', 'http://q', 'INVALID_ARGUMENT Wrong input: bad payload', {
            code: 'INVALID_ARGUMENT',
            rejectedInput: true,
          })
        : undefined,
    );
    const failures: ItemFailure[] = [];
    const stage = upsertStage(sink, failures, new IngestStats(), 8);
    for (let index = 0; index < 8; index += 1) await stage.add(embedded(index));
    await stage.finish();
    expect(failures.map((failure) => failure.item.docId)).toEqual(['doc-5']);
    expect(failures[0]!.stage).toBe('upsert');
    expect(sink.batches.flat().sort()).toEqual([0, 1, 2, 3, 4, 6, 7].map((i) => embedded(i).pointId).sort());
  });

  it('raises a failure that outlasts every retry', async () => {
    let attempts = 0;
    const sink = new RecordingSink(() => {
      attempts += 1;
      return new ServiceError('qdrant', 'http://q', 'UNAVAILABLE', { code: 'UNAVAILABLE', retryable: true });
    });
    const stage = upsertStage(sink, []);
    await stage.add(embedded(0));
    await expect(stage.finish()).rejects.toThrow('UNAVAILABLE');
    expect(attempts).toBe(3);
  });
});

class FakeEmbedder implements Embedder {
  requests: number[] = [];
  readonly warnings: string[] = [];
  constructor(
    private readonly size: number,
    private readonly reject: (texts: readonly string[]) => Error | undefined = () => undefined,
  ) {}
  async describe(): Promise<EmbedderInfo> {
    return {
      modelId: 'fake',
      limits: { maxInputs: 4, maxTokens: 1000, maxBytes: 1 << 20 },
      maxInputTokens: 512,
      route: 'fake',
    };
  }
  async close() {}
  async dimensions() {
    return this.size;
  }
  async embed(texts: readonly string[]): Promise<EmbedResult> {
    this.requests.push(texts.length);
    const error = this.reject(texts);
    if (error) throw error;
    return {
      vectors: texts.map(() => new Float32Array(this.size)),
      tokens: texts.length * 3,
      queueMs: 1,
      inferenceMs: 2,
    };
  }
}

function embedStage(embedder: Embedder, out: WorkItem[], failures: ItemFailure[], dimensions = 2) {
  return new EmbedStage(embedder, {
    limits: { maxInputs: 3, maxTokens: 1000, maxBytes: 1 << 20 },
    concurrency: 2,
    retry: noRetry,
    dimensions,
    onEmbedded: async (items) => {
      out.push(...items);
    },
    onFailed: (list) => failures.push(...list),
    onRetry: () => {},
  });
}

describe('EmbedStage', () => {
  it('embeds every item in batches within the input limit', async () => {
    const embedder = new FakeEmbedder(2);
    const out: WorkItem[] = [];
    const stage = embedStage(embedder, out, []);
    for (let index = 0; index < 7; index += 1) await stage.add(item(index));
    await stage.finish();
    expect(embedder.requests).toEqual([3, 3, 1]);
    expect(out.map((entry) => entry.docId).sort()).toEqual(
      [0, 1, 2, 3, 4, 5, 6].map((i) => `doc-${i}`).sort(),
    );
    expect(out.every((entry) => entry.vector?.length === 2)).toBe(true);
  });

  it('reports the one text TEI rejects and embeds the rest', async () => {
    const embedder = new FakeEmbedder(2, (texts) =>
      texts.includes('text 4')
        ? new ServiceError('tei', 'http://t', '/embed answered 422', { code: '422', rejectedInput: true })
        : undefined,
    );
    const out: WorkItem[] = [];
    const failures: ItemFailure[] = [];
    const stage = embedStage(embedder, out, failures);
    for (let index = 0; index < 6; index += 1) await stage.add(item(index));
    await stage.finish();
    expect(failures.map((failure) => failure.item.docId)).toEqual(['doc-4']);
    expect(out).toHaveLength(5);
  });

  it('stops on embeddings of the wrong size instead of upserting them', async () => {
    const stage = embedStage(new FakeEmbedder(3), [], []);
    await stage.add(item(0));
    await expect(stage.finish()).rejects.toThrow(
      'the embedder returned 3-dimensional embeddings, the collection takes 2',
    );
  });
});

describe('after a fatal error', () => {
  it('waits for every request in flight and hands back what was never acknowledged', async () => {
    let calls = 0;
    const settled: number[] = [];
    const sink: PointSink = {
      async upsert(points) {
        calls += 1;
        const call = calls;
        await new Promise((resolve) => setTimeout(resolve, call === 1 ? 1 : 30));
        settled.push(call);
        if (call === 1) throw new ServiceError('qdrant', 'http://q', 'NOT_FOUND gone', { code: 'NOT_FOUND' });
        return points.length;
      },
      pointBytes: () => 100,
      async close() {},
    };
    const stats = new IngestStats();
    const stage = upsertStage(sink, [], stats, 2);
    const added: Promise<void>[] = [];
    for (let index = 0; index < 5; index += 1) added.push(stage.add(embedded(index)));
    await Promise.allSettled(added);
    // Once the first request has failed (and the failure has passed through the queue), the stage is broken.
    await vi.waitFor(() => expect(settled).toContain(1));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(stage.add(embedded(9))).rejects.toThrow('NOT_FOUND');
    await expect(stage.finish()).rejects.toThrow('NOT_FOUND');
    // The second request was still in flight when the first failed: finish waited for it.
    expect(settled).toEqual([1, 2]);
    expect(stats.vectorsUpserted).toBe(2);
    expect(
      stage
        .takeUnsent()
        .map((entry) => entry.docId)
        .sort(),
    ).toEqual(['doc-0', 'doc-1', 'doc-4', 'doc-9']);
  });

  it('treats a batch in which every point is refused as fatal, not as 500 bad points', async () => {
    const sink = new RecordingSink(
      () =>
        new ServiceError('qdrant', 'http://q', 'INVALID_ARGUMENT Wrong input: schema', {
          code: 'INVALID_ARGUMENT',
          rejectedInput: true,
        }),
    );
    const failures: ItemFailure[] = [];
    const stage = upsertStage(sink, failures, new IngestStats(), 4);
    for (let index = 0; index < 4; index += 1) await stage.add(embedded(index)).catch(() => {});
    await expect(stage.finish()).rejects.toThrow('Wrong input: schema');
    expect(failures).toEqual([]);
    expect(stage.takeUnsent()).toHaveLength(4);
  });
});
