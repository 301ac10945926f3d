import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Embedder, EmbedderInfo, EmbedResult } from '../../src/embed/embedder.js';
import { ServiceError } from '../../src/errors.js';
import { EmbedStage, type EmbedStageOptions } from '../../src/pipeline/stages/embed.js';
import type { WorkItem } from '../../src/pipeline/work-item.js';

function item(index: number, estimatedTokens = 3): WorkItem {
  return {
    file: 'docs/a.md',
    line: 1,
    docId: `doc-${index}`,
    chunkIndex: 0,
    text: `text ${index}`,
    payload: {},
    pointId: `00000000-0000-5000-8000-${String(index).padStart(12, '0')}`,
    estimatedTokens,
    vector: undefined,
  };
}

/** Answers each request when the test says (`answer`), or at once with `queueMs` when `instant`. */
class ScriptedEmbedder implements Embedder {
  readonly warnings: string[] = [];
  readonly waiting: Array<{ texts: readonly string[]; answer: () => void }> = [];
  inFlight = 0;
  maxInFlight = 0;
  failures: Error[] = [];

  constructor(private readonly instant?: { queueMs: number }) {}

  async describe(): Promise<EmbedderInfo> {
    throw new Error('not asked');
  }
  async dimensions() {
    return 2;
  }
  async close() {}
  async embed(texts: readonly string[]): Promise<EmbedResult> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const failure = this.failures.shift();
      if (failure) throw failure;
      if (!this.instant) await new Promise<void>((resolve) => this.waiting.push({ texts, answer: resolve }));
      else await new Promise((resolve) => setImmediate(resolve));
      return {
        vectors: texts.map(() => new Float32Array(2)),
        tokens: undefined,
        queueMs: this.instant?.queueMs,
        inferenceMs: undefined,
      };
    } finally {
      this.inFlight -= 1;
    }
  }
}

function stage(embedder: Embedder, options: Partial<EmbedStageOptions> = {}): EmbedStage {
  return new EmbedStage(embedder, {
    limits: { maxInputs: 2, maxTokens: 1000, maxBytes: 1 << 20 },
    concurrency: 1,
    retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
    dimensions: 2,
    onEmbedded: async () => {},
    onFailed: () => {},
    onRetry: () => {},
    ...options,
  });
}

describe('EmbedStage', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts the time chunks waited with no request in flight, not the time the embedder held them', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const embedder = new ScriptedEmbedder();
    let release!: () => void;
    let handedOn = 0;
    const starved: number[] = [];
    const embed = stage(embedder, {
      sortWindow: 1,
      // The next stage is full: the first batch's hand-over blocks until the test releases it.
      onEmbedded: async () => {
        handedOn += 1;
        if (handedOn === 1) await new Promise<void>((resolve) => (release = resolve));
      },
      onStarved: (ms) => starved.push(ms),
    });
    for (let i = 0; i < 3; i += 1) await embed.add(item(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(embedder.waiting.map((request) => request.texts)).toEqual([['text 0', 'text 1']]);
    // In flight for 300 ms while chunk 2 waits: the embedder has work.
    await vi.advanceTimersByTimeAsync(300);
    embedder.waiting.shift()!.answer();
    await vi.advanceTimersByTimeAsync(0);
    // Answered, but the only place is held by the blocked hand-over: chunk 2 waits with nothing in flight.
    await vi.advanceTimersByTimeAsync(500);
    expect(embedder.waiting).toHaveLength(0);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(embedder.waiting.map((request) => request.texts)).toEqual([['text 2']]);
    embedder.waiting.shift()!.answer();
    await embed.finish();
    expect(starved.reduce((sum, ms) => sum + ms, 0)).toBe(500);
  });

  it('sends chunks sorted by length within its window, each with its own vector', async () => {
    const embedder = new ScriptedEmbedder({ queueMs: 0 });
    const sent: Array<readonly string[]> = [];
    const original = embedder.embed.bind(embedder);
    embedder.embed = (texts) => {
      sent.push(texts);
      return original(texts);
    };
    const out: WorkItem[] = [];
    const embed = stage(embedder, {
      sortWindow: 4,
      onEmbedded: async (items) => {
        out.push(...items);
      },
    });
    for (const [index, tokens] of [400, 10, 390, 20].entries()) await embed.add(item(index, tokens));
    await embed.finish();
    // The second window runs longest first, so that it meets the first one's longest texts.
    expect(sent).toEqual([
      ['text 1', 'text 3'],
      ['text 0', 'text 2'],
    ]);
    expect(out.map((entry) => entry.docId).sort()).toEqual(['doc-0', 'doc-1', 'doc-2', 'doc-3']);
  });

  it('with auto concurrency, puts more requests in flight while the queue stays short, up to three quarters of what the server admits', async () => {
    const embedder = new ScriptedEmbedder({ queueMs: 0 });
    const limits: number[] = [];
    const embed = stage(embedder, {
      concurrency: 'auto',
      maxInFlight: 12,
      onConcurrency: (limit) => limits.push(limit),
    });
    expect(embed.concurrency).toBe(4);
    for (let i = 0; i < 400; i += 1) await embed.add(item(i));
    await embed.finish();
    expect(limits).toEqual([5, 7, 9]);
    expect(embedder.maxInFlight).toBe(9);
  });

  it('lets every request in flight listen on the cancel signal without a leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const cancel = new AbortController();
    const embedder = new ScriptedEmbedder();
    const listening = embedder.embed.bind(embedder);
    // As undici does: one abort listener per request.
    embedder.embed = (texts) => {
      const listener = () => {};
      cancel.signal.addEventListener('abort', listener);
      return listening(texts).finally(() => cancel.signal.removeEventListener('abort', listener));
    };
    const embed = stage(embedder, { concurrency: 16, signal: cancel.signal, sortWindow: 1 });
    for (let i = 0; i < 40; i += 1) await embed.add(item(i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(embedder.waiting).toHaveLength(16);
    while (embedder.waiting.length > 0) {
      embedder.waiting.shift()!.answer();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await embed.finish();
    process.off('warning', onWarning);
    expect(warnings).toEqual([]);
  });

  it('with auto concurrency, halves the requests in flight when the server answers 429', async () => {
    const embedder = new ScriptedEmbedder({ queueMs: 300 });
    embedder.failures.push(
      new ServiceError('tei', 'http://t', '/v1/embeddings answered 429 Model is overloaded', {
        code: '429',
        retryable: true,
      }),
    );
    const limits: number[] = [];
    const embed = stage(embedder, { concurrency: 'auto', onConcurrency: (limit) => limits.push(limit) });
    for (let i = 0; i < 40; i += 1) await embed.add(item(i));
    await embed.finish();
    expect(limits).toEqual([2]);
  });
});
