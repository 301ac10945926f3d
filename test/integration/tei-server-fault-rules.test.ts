import { afterEach, describe, expect, it } from 'vitest';
import { teiCall } from '../support/tei-server/client.js';
import { startTeiServer, type TeiServerOptions, type TeiTestServer } from '../support/tei-server/index.js';

/**
 * Fault rules a fault matrix needs: a seeded share or every n-th request, errors, dropped
 * connections, late answers, and rejections of a chosen input. The tests start their own test
 * server, so they run in a real-server run too.
 */
const servers: TeiTestServer[] = [];

async function start(options: TeiServerOptions = {}): Promise<TeiTestServer> {
  const server = await startTeiServer(options);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** The status of each of `count` single-input embeds, sent one after the other; 0 for no answer. */
async function statuses(server: TeiTestServer, count: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) {
    const reply = await teiCall(server.url, 'POST', '/embed', { inputs: `request ${i}` }).catch(
      () => undefined,
    );
    seen.push(reply?.status ?? 0);
  }
  return seen;
}

describe('faults at a seeded rate', () => {
  it('fails the same requests for the same seed, about `rate` of them', async () => {
    const a = await start();
    const b = await start();
    const c = await start();
    a.faults.failRate(0.2, 503, { seed: 42 });
    b.faults.failRate(0.2, 503, { seed: 42 });
    c.faults.failRate(0.2, 503, { seed: 7 });
    const [first, again, other] = [await statuses(a, 100), await statuses(b, 100), await statuses(c, 100)];
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    const failed = first.filter((status) => status === 503).length;
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(35);
    expect(first.every((status) => status === 200 || status === 503)).toBe(true);
  });

  it('drops the connection of a seeded share of requests with resetRate', async () => {
    const server = await start();
    server.faults.resetRate(0.3, { seed: 3 });
    const seen = await statuses(server, 40);
    const dropped = seen.filter((status) => status === 0).length;
    expect(dropped).toBe(server.stats.resets);
    expect(dropped).toBeGreaterThan(3);
    expect(seen.filter((status) => status === 200).length).toBe(40 - dropped);
  });

  it('keeps each rule on its own schedule when several match', async () => {
    const server = await start();
    server.faults.failEvery(3, 429);
    server.faults.failEvery(2, 424);
    // Request 6 is picked by both: the first rule acts, and the second still counted it.
    expect(await statuses(server, 7)).toEqual([200, 424, 429, 424, 200, 429, 200]);
  });

  it('rejects a rate outside 0 to 1', async () => {
    const server = await start();
    expect(() => server.faults.failRate(1.5, 503)).toThrow(
      'Expected `rate` to be a number from 0 to 1, got `1.5`',
    );
  });
});

describe('dropped connections every n-th request', () => {
  it('resetEvery drops the n-th, 2n-th, ... request and answers the others', async () => {
    const server = await start();
    server.faults.resetEvery(3);
    expect(await statuses(server, 7)).toEqual([200, 200, 0, 200, 200, 0, 200]);
    expect(server.stats.resets).toBe(2);
  });
});

describe('slow answers', () => {
  it('holds back the picked answers by a delay drawn from the seeded function, others go by', async () => {
    const server = await start();
    const draws: [number, number][] = [];
    server.faults.delay(
      (random, hit) => {
        draws.push([hit, random()]);
        return 60_000;
      },
      { every: 2 },
    );
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: 'first' })).status).toBe(200);
    let settled = false;
    const slow = teiCall(server.url, 'POST', '/embed', { inputs: 'second' }).then(
      (reply) => reply.status,
      () => 'no answer',
    );
    void slow.finally(() => {
      settled = true;
    });
    await until(() => draws.length === 1);
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: 'third' })).status).toBe(200);
    expect(settled).toBe(false);
    await server.close();
    expect(await slow).toBe('no answer');
    const again = await start();
    const replay: number[] = [];
    again.faults.delay((random) => {
      replay.push(random());
      return 0;
    });
    await teiCall(again.url, 'POST', '/embed', { inputs: 'x' });
    expect(replay[0]).toBe(draws[0]![1]);
    expect(draws[0]![0]).toBe(1);
  });

  it('delays a fixed time on the named route only', async () => {
    const server = await start();
    server.faults.delay(60_000, { route: '/v1/embeddings' });
    let settled = false;
    const slow = teiCall(server.url, 'POST', '/v1/embeddings', { input: 'delayed' }).then(
      (reply) => reply.status,
      () => 'no answer',
    );
    void slow.finally(() => {
      settled = true;
    });
    await until(() => server.stats.requests['/v1/embeddings'] === 1);
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: 'not delayed' })).status).toBe(200);
    expect(settled).toBe(false);
    await server.close();
    expect(await slow).toBe('no answer');
    expect(() => server.faults.delay(-1)).toThrow('Expected `delayMs` to be a non-negative number, got `-1`');
  });
});

describe('rejections of a chosen input', () => {
  it('answers 413 with the body-limit text to any request holding the input', async () => {
    const server = await start();
    server.faults.inject({ status: 413 }, { input: (text) => text.includes('poison') });
    const rejected = await teiCall(server.url, 'POST', '/embed', { inputs: ['fine', 'poison pill'] });
    expect(rejected.status).toBe(413);
    expect(rejected.text).toBe('Failed to buffer the request body: length limit exceeded');
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: ['fine'] })).status).toBe(200);
  });

  it('answers 422 Validation, in the shape of the route, to a request holding the input', async () => {
    const server = await start({ maxInputLength: 64 });
    server.faults.inject({ status: 422 }, { input: (text) => text === 'too long', times: 2 });
    const native = await teiCall(server.url, 'POST', '/embed', { inputs: ['too long'] });
    expect(native.status).toBe(422);
    expect(native.json).toEqual({
      error: 'Input validation error: `inputs` must have less than 64 tokens. Given: 65',
      error_type: 'Validation',
    });
    const openAi = await teiCall(server.url, 'POST', '/v1/embeddings', { input: ['too long'] });
    expect(openAi.json).toEqual({
      message: 'Input validation error: `inputs` must have less than 64 tokens. Given: 65',
      code: 422,
      type: 'Validation',
    });
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: ['too long'] })).status).toBe(200);
  });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}
