import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/errors.js';
import { UpsertStage } from '../../src/pipeline/stages/upsert.js';
import { IngestStats } from '../../src/pipeline/stats.js';
import type { WorkItem } from '../../src/pipeline/work-item.js';
import { progressSnapshot, startProgress, waitingNotes } from '../../src/ui/ingest-progress.js';
import { ackRate, type EtaInput, estimateRemainingMs } from '../../src/ui/ingest-rates.js';
import { Output } from '../../src/ui/output.js';
import { describeCode, RetryWatch, retryEvent } from '../../src/ui/retry-watch.js';

/** An acknowledgement of `vectors` every `everyMs` from `fromMs` to `toMs`. */
function acks(fromMs: number, toMs: number, everyMs: number, vectors = 500): Array<[number, number]> {
  const marks: Array<[number, number]> = [];
  for (let at = fromMs; at <= toMs; at += everyMs) marks.push([at, vectors]);
  return marks;
}

describe('the vec/s shown while running', () => {
  it('is undefined before the first acknowledgement', () => {
    expect(ackRate([], 10_000, 5_000)).toBeUndefined();
  });

  it('counts neither the start-up time nor the first batch, which was made during it', () => {
    // First acknowledgement at 8 s, then 500 vectors every 0.5 s: 1,000 vec/s.
    const marks = acks(8_000, 10_000, 500);
    expect(ackRate(marks, 10_000, 5_000)).toBe(1_000);
  });

  it('follows the last window once the run is longer', () => {
    const marks = [...acks(0, 30_000, 500), ...acks(30_250, 40_000, 250)];
    expect(ackRate(marks, 40_000, 5_000)).toBe(2_000);
  });
});

describe('the ETA', () => {
  const input = (overrides: Partial<EtaInput>): EtaInput => ({
    bytesDone: 100,
    bytesTotal: 100,
    chunks: 40_000,
    failed: 0,
    vectorsUpserted: 0,
    acknowledgements: [],
    ...overrides,
  });

  it('is not shown until acknowledgements have come in for 5 s', () => {
    const marks = acks(10_000, 14_500, 500);
    expect(
      estimateRemainingMs(input({ acknowledgements: marks, vectorsUpserted: 5_000 }), 14_900),
    ).toBeUndefined();
    expect(
      estimateRemainingMs(input({ acknowledgements: marks, vectorsUpserted: 5_000 }), 15_000),
    ).toBeDefined();
  });

  it('is the work left over the smoothed rate, whatever the start-up cost', () => {
    // 10 s before the first acknowledgement, then 1,000 vec/s; at 20 s 10,500 of 40,000 are in.
    // Elapsed time over the share done (the old estimate) said 36 s; 29.5 s are left.
    const marks = acks(10_000, 20_000, 500);
    const eta = estimateRemainingMs(input({ acknowledgements: marks, vectorsUpserted: 10_500 }), 20_000);
    expect(eta).toBe(29_500);
  });

  it('extrapolates the vectors to come from the share of input read, and leaves out failed chunks', () => {
    const marks = acks(0, 10_000, 500);
    // A quarter of the bytes read gave 2,000 chunks: 8,000 expected, 5,250 in, 750 failed.
    const eta = estimateRemainingMs(
      input({ bytesDone: 25, chunks: 2_000, failed: 750, vectorsUpserted: 5_250, acknowledgements: marks }),
      10_000,
    );
    expect(eta).toBe(2_000);
  });

  it('is not shown before any input is measured, or when nothing is left', () => {
    const marks = acks(0, 10_000, 500);
    expect(estimateRemainingMs(input({ bytesDone: 0, acknowledgements: marks }), 10_000)).toBeUndefined();
    expect(
      estimateRemainingMs(input({ chunks: 100, vectorsUpserted: 100, acknowledgements: marks }), 10_000),
    ).toBeUndefined();
  });
});

describe('waiting on a service', () => {
  it('says how many requests wait and for how long, once the oldest has waited 2 s', () => {
    const stats = new IngestStats();
    const t0 = stats.startedAt;
    const done = stats.upsertRequests.begin(t0 + 1_000);
    stats.upsertRequests.begin(t0 + 5_000);
    stats.upsertRequests.begin(t0 + 9_000);
    stats.embedRequests.begin(t0 + 10_000);
    expect(waitingNotes(stats, t0 + 2_900)).toEqual([]);
    expect(waitingNotes(stats, t0 + 10_800)).toEqual([
      'waiting for Qdrant: 3 requests in flight, oldest 9.8 s',
    ]);
    done();
    expect(waitingNotes(stats, t0 + 12_100)).toEqual([
      'waiting for TEI: 1 request in flight, oldest 2.1 s',
      'waiting for Qdrant: 2 requests in flight, oldest 7.1 s',
    ]);
  });

  it('counts an upsert while Qdrant holds it, from the upsert stage', async () => {
    const stats = new IngestStats();
    let answer: (bytes: number) => void = () => {};
    let sent: () => void = () => {};
    const reached = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const stage = new UpsertStage(
      {
        upsert: () =>
          new Promise<number>((resolve) => {
            answer = resolve;
            sent();
          }),
        pointBytes: () => 100,
        close: async () => {},
      },
      {
        batchSize: 1,
        batchBytes: 1 << 20,
        parallel: 1,
        retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 },
        onUpserted: () => {},
        onFailed: () => {},
        onRetry: () => {},
        inFlight: stats.upsertRequests,
      },
    );
    const item = {
      file: 'a.jsonl',
      line: 1,
      docId: 'a',
      chunkIndex: 0,
      text: 'a',
      payload: {},
      pointId: '00000000-0000-5000-8000-000000000001',
      estimatedTokens: 1,
      vector: new Float32Array([1, 0]),
    } satisfies WorkItem;
    await stage.add(item);
    const finished = stage.finish();
    await reached;
    const oldest = stats.upsertRequests.oldestStartedAt!;
    expect(waitingNotes(stats, oldest + 9_800)).toEqual([
      'waiting for Qdrant: 1 request in flight, oldest 9.8 s',
    ]);
    answer(100);
    await finished;
    expect(stats.upsertRequests.count).toBe(0);
    expect(waitingNotes(stats, oldest + 20_000)).toEqual([]);
  });

  it('puts requests in flight and the oldest wait in the ndjson progress event', () => {
    const stats = new IngestStats();
    stats.upsertRequests.begin(stats.startedAt + 1_000);
    expect(progressSnapshot(stats, stats.startedAt + 4_000)).toMatchObject({
      event: 'progress',
      upserts_in_flight: 1,
      oldest_upsert_s: 3,
      embeds_in_flight: 0,
      oldest_embed_s: null,
      eta_s: null,
    });
  });
});

const overloaded = (message = '/v1/embeddings answered 429: Model is overloaded') =>
  new ServiceError('tei', 'http://tei:8080', message, { code: '429', retryable: true });

describe('retries', () => {
  it('name what a code means', () => {
    expect(describeCode('429')).toBe('429 overloaded');
    expect(describeCode('CONNECTION')).toBe('connection lost');
    expect(describeCode('UNAVAILABLE')).toBe('UNAVAILABLE');
  });

  it('make one notice when they cluster on a service, and no more until the window has passed', () => {
    const watch = new RetryWatch(10_000, 3);
    expect(watch.record('tei', '429', 0)).toBeUndefined();
    expect(watch.record('qdrant', 'UNAVAILABLE', 500)).toBeUndefined();
    expect(watch.record('tei', '429', 1_000)).toBeUndefined();
    expect(watch.record('tei', '429', 2_000)).toBe(
      'TEI is struggling: 3 retries in the last 10 s (429 overloaded)',
    );
    expect(watch.record('tei', 'CONNECTION', 3_000)).toBeUndefined();
    expect(watch.record('tei', '429', 11_000)).toBeUndefined();
    expect(watch.record('tei', '429', 12_500)).toBe(
      'TEI is struggling: 3 retries in the last 10 s (2× 429 overloaded, 1× connection lost)',
    );
  });

  it('do not cluster when spread out', () => {
    const watch = new RetryWatch(10_000, 3);
    expect([0, 6_000, 12_000, 18_000].map((at) => watch.record('qdrant', 'UNAVAILABLE', at))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('become an ndjson event with the service, attempt, delay, code and message', () => {
    const event = retryEvent('tei', { attempt: 2, delayMs: 400, error: overloaded() }, 12_345);
    expect(event).toEqual({
      event: 'retry',
      elapsed_s: 12.3,
      service: 'tei',
      attempt: 2,
      delay_ms: 400,
      code: '429',
      message: 'TEI at http://tei:8080: /v1/embeddings answered 429: Model is overloaded',
    });
  });
});

function captured() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return { stream, text: () => text };
}

describe('progress modes and retries', () => {
  function run(mode: 'plain' | 'ndjson', retries: number): string {
    const stderr = captured();
    const output = new Output({
      json: false,
      quiet: false,
      debug: false,
      color: false,
      stdout: captured().stream,
      stderr: stderr.stream,
    });
    const progress = startProgress(new IngestStats(), output, mode);
    for (let attempt = 1; attempt <= retries; attempt += 1)
      progress.retry('tei', { attempt, delayMs: 200, error: overloaded() });
    progress.stop();
    return stderr.text();
  }

  it('--progress ndjson writes one retry event per retry', () => {
    const events = run('ndjson', 2)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; attempt?: number });
    expect(events.filter((event) => event.event === 'retry').map((event) => event.attempt)).toEqual([1, 2]);
    expect(events.at(-1)?.event).toBe('progress');
  });

  it('--progress plain prints a notice when retries cluster, not one line per retry', () => {
    const lines = run('plain', 5).trim().split('\n');
    expect(lines.filter((line) => line.includes('struggling'))).toEqual([
      'warning: TEI is struggling: 3 retries in the last 10 s (429 overloaded)',
    ]);
    expect(lines.at(-1)).toMatch(/^ingest: 0\/0 files/);
  });
});
