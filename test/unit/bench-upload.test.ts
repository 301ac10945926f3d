import { describe, expect, it } from 'vitest';
import {
  generatedPointId,
  type UploadOptions,
  uploadVectors,
  upsertFigures,
} from '../../src/bench/scenarios/upsert.js';
import { generateVectors } from '../../src/bench/vectors.js';
import { configSchema } from '../../src/config/schema.js';
import { ServiceError } from '../../src/errors.js';
import type { EncodablePoint } from '../../src/qdrant/point-encoder.js';
import { estimatePointBytes } from '../../src/qdrant/point-encoder.js';
import type { PointSink } from '../../src/qdrant/point-sink.js';

const settings = configSchema.parse({}).qdrant;

function options(overrides: Partial<UploadOptions> = {}): UploadOptions {
  return {
    collection: 'bench',
    count: 1_000,
    dim: 8,
    distribution: 'uniform',
    seed: 3,
    batchSize: 100,
    batchBytes: 16 * 1024 * 1024,
    parallel: 3,
    wait: false,
    maxRetries: 2,
    ...overrides,
  };
}

/** A sink that keeps what it is sent and answers when the test lets it (or at once). */
class RecordingSink implements PointSink {
  readonly batches: Array<Array<{ id: string; vector: number[]; bucket: unknown }>> = [];
  inFlight = 0;
  mostInFlight = 0;
  closed = false;
  constructor(
    private readonly answer: (
      points: readonly EncodablePoint[],
      call: number,
    ) => Promise<void> = async () => {},
  ) {}

  async upsert(points: readonly EncodablePoint[]): Promise<number> {
    const call = this.batches.length;
    // Copied now: the uploader refills acknowledged vectors.
    this.batches.push(
      points.map((point) => ({
        id: String(point.id),
        vector: Array.from(point.vector),
        bucket: point.payload.bucket,
      })),
    );
    this.inFlight += 1;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      await this.answer(points, call);
    } finally {
      this.inFlight -= 1;
    }
    return points.length * 64;
  }

  pointBytes(point: EncodablePoint): number {
    return estimatePointBytes(point);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const quiet = () => {
  const warnings: string[] = [];
  return { events: { phase() {}, progress() {}, warn: (line: string) => warnings.push(line) }, warnings };
};

describe('bench upsert upload (the UpsertStage that ingest uses)', () => {
  it('sends every generated point once, in batches of batchSize, parallel in flight, ids as UUIDs', async () => {
    const sink = new RecordingSink();
    const { events } = quiet();
    const upload = await uploadVectors(settings, options(), events, undefined, sink);
    const points = sink.batches.flat();
    expect(sink.batches.map((batch) => batch.length)).toEqual(Array(10).fill(100));
    expect(sink.mostInFlight).toBe(3);
    expect(sink.closed).toBe(true);
    expect(points.map((point) => point.id)).toEqual(
      Array.from({ length: 1_000 }, (_, i) => generatedPointId(i)),
    );
    expect(points[123]).toMatchObject({ id: '00000000-0000-0000-0000-00000000007b', bucket: 23 });
    // The vectors are the seeded sequence.
    const expected = generateVectors(1_000, 8, { seed: 3 });
    expect(points.map((point) => point.vector)).toEqual(expected.map((vector) => Array.from(vector)));
    expect(upload.latencies.count).toBe(10);
    expect(upload.timeline.total).toBe(1_000);
    const figures = upsertFigures(options(), upload, 2);
    expect(figures).toMatchObject({ count: 1_000, batch_size: 100, parallel: 3, index_seconds: 2 });
    expect(figures.p50_ms).toBeLessThanOrEqual(figures.p99_ms);
  });

  it('sends the seeded clustered sequence although it refills acknowledged vectors', async () => {
    const sink = new RecordingSink();
    await uploadVectors(
      settings,
      options({ distribution: 'clustered', count: 2_000, parallel: 2 }),
      quiet().events,
      undefined,
      sink,
    );
    const expected = generateVectors(2_000, 8, { seed: 3, distribution: 'clustered' });
    expect(sink.batches.flat().map((point) => point.vector)).toEqual(
      expected.map((vector) => Array.from(vector)),
    );
  });

  it('cuts batches by encoded bytes as ingest does', async () => {
    const sink = new RecordingSink();
    const perPoint = estimatePointBytes({
      id: generatedPointId(0),
      vector: new Float32Array(8),
      payload: { bucket: 0 },
    });
    await uploadVectors(
      settings,
      options({ count: 100, batchBytes: perPoint * 10 }),
      quiet().events,
      undefined,
      sink,
    );
    expect(Math.max(...sink.batches.map((batch) => batch.length))).toBeLessThanOrEqual(10);
    expect(sink.batches.flat()).toHaveLength(100);
  });

  it('retries a batch Qdrant could not take, warning once per retry', async () => {
    const sink = new RecordingSink(async (_points, call) => {
      if (call === 0) throw new ServiceError('qdrant', 'http://q', 'UNAVAILABLE: busy', { retryable: true });
    });
    const { events, warnings } = quiet();
    await uploadVectors(settings, options({ count: 200 }), events, undefined, sink);
    expect(warnings).toEqual([expect.stringMatching(/^Qdrant retry 1: /)]);
    expect(new Set(sink.batches.flat().map((point) => point.id)).size).toBe(200);
  });

  it('isolates a point Qdrant rejects and then fails, naming how many were rejected', async () => {
    const bad = generatedPointId(42);
    const sink = new RecordingSink(async (points) => {
      if (points.some((point) => point.id === bad)) {
        throw new ServiceError('qdrant', 'http://q', 'INVALID_ARGUMENT: Wrong input', {
          rejectedInput: true,
        });
      }
    });
    const run = uploadVectors(settings, options({ count: 300 }), quiet().events, undefined, sink);
    await expect(run).rejects.toThrow(/^Qdrant rejected 1 generated point: .*Wrong input/);
    expect(sink.batches.some((batch) => batch.length === 1 && batch[0]!.id === bad)).toBe(true);
  });

  it('adds no more points after a signal and lets the requests in flight finish', async () => {
    const controller = new AbortController();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sink = new RecordingSink(async (_points, call) => {
      if (call === 0) {
        controller.abort();
        await held;
      }
    });
    const run = uploadVectors(
      settings,
      options({ count: 10_000, parallel: 1 }),
      quiet().events,
      controller.signal,
      sink,
    );
    setImmediate(release);
    await expect(run).rejects.toThrow();
    expect(sink.batches.flat().length).toBeLessThan(10_000);
    expect(sink.inFlight).toBe(0);
    expect(sink.closed).toBe(true);
  });
});
