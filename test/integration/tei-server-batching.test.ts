import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { teiCall } from '../support/tei-server/client.js';
import {
  type BatchEvent,
  countTokens,
  startTeiServer,
  type TeiServerOptions,
  type TeiTestServer,
} from '../support/tei-server/index.js';

/**
 * The test server's model of TEI's dynamic batcher (core/src/queue.rs, core/src/infer.rs) and its
 * GPU-like service rate. Checked by batch events and counters, never by durations. The tests start
 * their own test server, so they run in a real-server run too.
 */
const servers: TeiTestServer[] = [];

async function start(
  options: TeiServerOptions = {},
): Promise<{ server: TeiTestServer; events: BatchEvent[] }> {
  const events: BatchEvent[] = [];
  const server = await startTeiServer({
    ...options,
    onBatch: (event) => {
      events.push(event);
      options.onBatch?.(event);
    },
  });
  servers.push(server);
  return { server, events };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A text of exactly `tokens` tokens (end-of-text included), starting with `label` (at most 6 letters). */
function textOf(label: string, tokens: number): string {
  const text = [label, ...Array.from({ length: tokens - 2 }, () => 'w')].join(' ');
  expect(countTokens(text)).toBe(tokens);
  return text;
}

function embed(server: TeiTestServer, inputs: string | string[]) {
  return teiCall(server.url, 'POST', '/embed', { inputs });
}

async function metric(server: TeiTestServer, name: string): Promise<number> {
  const reply = await teiCall(server.url, 'GET', '/metrics');
  const line = reply.text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

const starts = (events: BatchEvent[]) => events.filter((event) => event.phase === 'start');

describe('batch forming, as core/src/queue.rs forms batches', () => {
  it('runs one batch at a time, in FIFO order, splitting a request across batches at max_batch_tokens', async () => {
    let second: Promise<unknown> | undefined;
    const { server, events } = await start({
      maxBatchTokens: 20,
      serviceRate: 2_000,
      onBatch: (event) => {
        // The second request arrives while the first request's first batch runs.
        if (event.phase === 'start' && event.batch === 1) second = embed(server, [textOf('sec0', 4)]);
      },
    });
    const first = Array.from({ length: 8 }, (_, i) => textOf(`first${i}`, 4));
    expect((await embed(server, first)).status).toBe(200);
    await second;
    expect(events.map((event) => `${event.phase}${event.batch}`)).toEqual([
      'start1',
      'end1',
      'start2',
      'end2',
      'start3',
      'end3',
    ]);
    expect(starts(events).map((event) => event.texts.length)).toEqual([5, 3, 1]);
    expect(starts(events).flatMap((event) => event.texts)).toEqual([...first, textOf('sec0', 4)]);
    expect(starts(events).every((event) => event.tokens <= 20)).toBe(true);
  });

  it('never skips past an input that does not fit: it waits for the next batch', async () => {
    const { server, events } = await start({ maxBatchTokens: 20 });
    const inputs = [textOf('a', 8), textOf('b', 8), textOf('c', 8), textOf('d', 2)];
    expect((await embed(server, inputs)).status).toBe(200);
    expect(starts(events).map((event) => event.texts)).toEqual([
      [inputs[0], inputs[1]],
      [inputs[2], inputs[3]],
    ]);
  });

  it('with padded, counts rows x longest row against max_batch_tokens', async () => {
    const inputs = [textOf('a', 4), textOf('b', 4), textOf('c', 10)];
    const varlen = await start({ maxBatchTokens: 20 });
    await embed(varlen.server, inputs);
    expect(starts(varlen.events).map((event) => event.texts.length)).toEqual([3]);
    const padded = await start({ maxBatchTokens: 20, padded: true });
    await embed(padded.server, inputs);
    expect(starts(padded.events).map((event) => event.texts.length)).toEqual([2, 1]);
  });

  it('ends a batch at max_batch_requests and reports it in /info', async () => {
    const { server, events } = await start({ maxBatchRequests: 4 });
    await embed(
      server,
      Array.from({ length: 10 }, (_, i) => `input ${i}`),
    );
    expect(starts(events).map((event) => event.texts.length)).toEqual([4, 4, 2]);
    const info = (await teiCall(server.url, 'GET', '/info')).json as { max_batch_requests: number | null };
    expect(info.max_batch_requests).toBe(4);
    const unlimited = await start();
    const plain = (await teiCall(unlimited.server.url, 'GET', '/info')).json as { max_batch_requests: null };
    expect(plain.max_batch_requests).toBeNull();
  });

  it('records batch sizes and tokens, and a 0 each time the queue drains, as TEI does', async () => {
    const { server } = await start();
    const inputs = ['one two', 'three'];
    await embed(server, inputs);
    const tokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
    expect(await metric(server, 'te_batch_next_size_sum')).toBe(2);
    expect(await metric(server, 'te_batch_next_tokens_sum')).toBe(tokens);
    // Only an empty batch falls in the le="1" bucket here: the one batch formed held two inputs.
    expect(await metric(server, 'te_batch_next_size_bucket{le="1"}')).toBeGreaterThanOrEqual(1);
    expect(await metric(server, 'te_queue_size')).toBe(0);
  });

  it('drops the queued inputs of a client that has gone, counting them as TEI does', async () => {
    // The first batch runs 0.6 s: time enough for the abort to reach the server while it runs.
    const { server, events } = await start({ serviceRate: 100, maxBatchTokens: 64 });
    const running = embed(server, textOf('run', 60));
    await until(() => starts(events).length === 1);
    // Formed at once as the next batch while the first runs (TEI prefetches one batch).
    const prefetched = embed(server, textOf('pre', 2));
    await until(() => server.stats.inFlightInputs === 2 && server.stats.backend.queued === 0);
    const controller = new AbortController();
    const abandoned = request(`${server.url}/embed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: ['gone 1', 'gone 2'] }),
      signal: controller.signal,
    }).catch(() => 'aborted');
    await until(() => server.stats.backend.queued === 2);
    expect(await metric(server, 'te_queue_size')).toBe(2);
    controller.abort();
    expect(await abandoned).toBe('aborted');
    expect((await running).status).toBe(200);
    expect((await prefetched).status).toBe(200);
    await until(() => server.stats.backend.dropped === 2);
    expect(await metric(server, 'te_request_failure{err="dropped"}')).toBe(2);
    expect(starts(events).flatMap((event) => event.texts)).toEqual([textOf('run', 60), textOf('pre', 2)]);
  });
});

describe('service rate and busy time', () => {
  it('counts tokens / rate as busy seconds and exposes it with the real and padded tokens', async () => {
    const { server } = await start({ serviceRate: 50_000 });
    const inputs = [textOf('a', 3), textOf('b', 7), textOf('c', 12)];
    await embed(server, inputs);
    await embed(server, textOf('d', 5));
    const { backend } = server.stats;
    expect(backend.batches).toBe(2);
    expect(backend.tokens).toBe(3 + 7 + 12 + 5);
    expect(backend.paddedTokens).toBe(3 * 12 + 5);
    expect(backend.busySeconds).toBeCloseTo((3 + 7 + 12 + 5) / 50_000, 12);
    expect(await metric(server, 'te_backend_busy_seconds')).toBeCloseTo(backend.busySeconds, 12);
    expect(await metric(server, 'te_backend_tokens')).toBe(27);
    expect(await metric(server, 'te_backend_padded_tokens')).toBe(41);
  });

  it('with padded, charges rows x longest row for the same batch', async () => {
    const { server } = await start({ serviceRate: 50_000, padded: true });
    await embed(server, [textOf('a', 3), textOf('b', 7), textOf('c', 12)]);
    expect(server.stats.backend.tokens).toBe(22);
    expect(server.stats.backend.paddedTokens).toBe(36);
    expect(server.stats.backend.busySeconds).toBeCloseTo(36 / 50_000, 12);
  });

  it('counts no busy time without a service rate, and exposes the counters from the start', async () => {
    const { server } = await start();
    expect(await metric(server, 'te_backend_busy_seconds')).toBe(0);
    await embed(server, 'free');
    expect(server.stats.backend.busySeconds).toBe(0);
    expect(await metric(server, 'te_backend_tokens')).toBe(countTokens('free'));
  });

  it('rejects a service rate that is not a positive number', async () => {
    await expect(startTeiServer({ serviceRate: 0 })).rejects.toThrow(
      'Expected `serviceRate` to be a positive number, got `0`',
    );
  });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}
