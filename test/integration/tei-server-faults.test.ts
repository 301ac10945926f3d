import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { skipSuiteOnReal } from '../support/real-servers.js';
import { cosine, teiCall } from '../support/tei-server/client.js';
import { startTeiServer, type TeiServerOptions, type TeiTestServer } from '../support/tei-server/index.js';

/**
 * Behaviour only the test server has: fault injection, stats, rerankers, options. Skipped while the
 * protocol tests run against a real TEI (TABOOT_TEST_TEI_URL).
 */
const suite = (name: string, body: () => void) =>
  describe(name, () => {
    skipSuiteOnReal('tei', 'fault injection, stats and rerankers exist only in the test server');
    body();
  });
const servers: TeiTestServer[] = [];

async function start(options: TeiServerOptions = {}): Promise<TeiTestServer> {
  const server = await startTeiServer(options);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

suite('fault injection', () => {
  it.each([
    [429, { error: 'Model is overloaded', error_type: 'Overloaded' }],
    [503, { error: 'unhealthy', error_type: 'Unhealthy' }],
    [424, { error: 'Backend error: Inference error: injected fault', error_type: 'Backend' }],
    [500, { error: 'Internal Server Error', error_type: 'Backend' }],
  ] as const)('failNext answers %i with TEI body %j, then recovers', async (status, body) => {
    const server = await start();
    server.faults.failNext(2, status);
    for (let i = 0; i < 2; i++) {
      const reply = await teiCall(server.url, 'POST', '/embed', { inputs: 'x' });
      expect(reply.status).toBe(status);
      expect(reply.json).toEqual(body);
    }
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: 'x' })).status).toBe(200);
  });

  it('failEvery answers every n-th POST with the status until reset', async () => {
    const server = await start();
    server.faults.failEvery(2, 503);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await teiCall(server.url, 'POST', '/embed', { inputs: 'x' })).status);
    expect((await teiCall(server.url, 'GET', '/info')).status).toBe(200);
    expect(statuses).toEqual([200, 503, 200, 503, 200]);
    await server.faults.reset();
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: 'x' })).status).toBe(200);
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: 'x' })).status).toBe(200);
  });

  it('failNext on /v1/embeddings answers the OpenAI shape and leaves other routes alone', async () => {
    const server = await start();
    server.faults.failNext(1, 429, { route: '/v1/embeddings', retryAfterSeconds: 2 });
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: 'x' })).status).toBe(200);
    expect((await teiCall(server.url, 'GET', '/info')).status).toBe(200);
    const reply = await teiCall(server.url, 'POST', '/v1/embeddings', { input: 'x' });
    expect(reply.status).toBe(429);
    expect(reply.json).toEqual({ message: 'Model is overloaded', code: 429, type: 'Overloaded' });
    expect(reply.headers['retry-after']).toBe('2');
  });

  it('a fault without a route spares GET probes; a named GET route fails', async () => {
    const server = await start();
    server.faults.failNext(1, 503);
    expect((await teiCall(server.url, 'GET', '/health')).status).toBe(200);
    server.faults.failNext(1, 503, { route: '/health' });
    const health = await teiCall(server.url, 'GET', '/health');
    expect(health.status).toBe(503);
    expect(health.json).toEqual({ error: 'unhealthy', error_type: 'Unhealthy' });
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: 'x' })).status).toBe(503);
  });

  it('resetNext drops the connection without an answer, then serves again', async () => {
    const server = await start();
    server.faults.resetNext(1, { route: '/embed' });
    await expect(teiCall(server.url, 'POST', '/embed', { inputs: 'x' })).rejects.toThrow();
    expect(server.stats.resets).toBe(1);
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: 'x' })).status).toBe(200);
  });

  it('down() refuses connections until up() on the same port', async () => {
    const server = await start();
    await server.faults.down();
    await expect(teiCall(server.url, 'GET', '/health')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await server.faults.up();
    expect((await teiCall(server.url, 'GET', '/health')).status).toBe(200);
  });

  it('reset() clears pending faults and brings the server up', async () => {
    const server = await start();
    server.faults.failNext(5, 429);
    server.faults.latencyMs = 50;
    await server.faults.down();
    await server.faults.reset();
    const reply = await teiCall(server.url, 'POST', '/embed', { inputs: 'x' });
    expect(reply.status).toBe(200);
    expect(reply.headers['x-inference-time']).toBe('0');
  });

  it('latencyMs is reported as inference time', async () => {
    const server = await start();
    server.faults.latencyMs = 30;
    const reply = await teiCall(server.url, 'POST', '/embed', { inputs: ['a', 'b'] });
    expect(reply.status).toBe(200);
    expect(reply.headers['x-inference-time']).toBe('30');
  });

  it('rejects a fault count that is not a positive integer', async () => {
    const server = await start();
    expect(() => server.faults.failNext(0, 429)).toThrow(
      'Expected `count` to be a positive integer, got `0`',
    );
  });
});

suite('concurrency limit', () => {
  it('answers 429 to a single input and to a batch when too few permits are left (try_acquire per input)', async () => {
    const server = await start({ maxConcurrentRequests: 2 });
    server.faults.latencyMs = 60_000;
    const holding = teiCall(server.url, 'POST', '/embed', { inputs: ['holds one permit'] }).catch(
      () => undefined,
    );
    await until(() => server.stats.inFlightInputs === 1);
    const batch = await teiCall(server.url, 'POST', '/embed', { inputs: ['needs', 'two permits'] });
    expect(batch.status).toBe(429);
    expect(batch.json).toEqual({ error: 'Model is overloaded', error_type: 'Overloaded' });
    expect(server.stats.inFlightInputs).toBe(1);
    const second = teiCall(server.url, 'POST', '/embed', { inputs: 'takes the last one' }).catch(
      () => undefined,
    );
    await until(() => server.stats.inFlightInputs === 2);
    const single = await teiCall(server.url, 'POST', '/embed', { inputs: 'single input' });
    expect(single.status).toBe(429);
    expect(server.stats.maxInFlightInputs).toBe(2);
    await server.close();
    await Promise.all([holding, second]);
  });
});

suite('API key', () => {
  it('requires the Bearer key on inference routes and /info but not on /health or /metrics', async () => {
    const server = await start({ apiKey: 'sekret' });
    const denied = await teiCall(server.url, 'POST', '/embed', { inputs: 'x' });
    expect(denied.status).toBe(401);
    expect(denied.text).toBe('');
    expect((await teiCall(server.url, 'GET', '/info')).status).toBe(401);
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: 'x' }, { apiKey: 'wrong' })).status).toBe(
      401,
    );
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: 'x' }, { apiKey: 'sekret' })).status).toBe(
      200,
    );
    expect((await teiCall(server.url, 'GET', '/health')).status).toBe(200);
    expect((await teiCall(server.url, 'GET', '/metrics')).status).toBe(200);
  });
});

suite('options and stats', () => {
  it('reports its options in /info, capping max_input_length at max_batch_tokens', async () => {
    const server = await start({
      maxClientBatchSize: 4,
      maxBatchTokens: 100,
      maxInputLength: 500,
      modelId: 'm',
    });
    const info = (await teiCall(server.url, 'GET', '/info')).json;
    expect(info).toMatchObject({
      model_id: 'm',
      max_client_batch_size: 4,
      max_batch_tokens: 100,
      max_input_length: 100,
    });
  });

  it('counts requests per route, embedded inputs, tokens and truncations', async () => {
    const server = await start({ maxInputLength: 8 });
    await teiCall(server.url, 'POST', '/embed', { inputs: ['one', 'two three'] });
    await teiCall(server.url, 'POST', '/v1/embeddings', { input: 'a b c d e f g h i j k l' });
    await teiCall(server.url, 'POST', '/embed', { inputs: [] });
    expect(server.stats.requests).toEqual({ '/embed': 2, '/v1/embeddings': 1 });
    expect(server.stats.statuses).toEqual({ 200: 2, 400: 1 });
    expect(server.stats.inputsEmbedded).toBe(3);
    expect(server.stats.truncations).toBe(1);
    expect(server.stats.promptTokens).toBe(2 + 3 + 8);
  });

  it('answers 422 for an input over max_input_length when auto_truncate is off', async () => {
    const server = await start({ maxInputLength: 8, autoTruncate: false });
    const reply = await teiCall(server.url, 'POST', '/v1/embeddings', { input: 'a b c d e f g h i j' });
    expect(reply.status).toBe(422);
    expect(reply.json).toEqual({
      message: 'Input validation error: `inputs` must have less than 8 tokens. Given: 11',
      code: 422,
      type: 'Validation',
    });
  });

  it('prepends the named prompt and rejects an unknown prompt_name', async () => {
    const server = await start();
    const plain = await teiCall(server.url, 'POST', '/embed', { inputs: 'cpu usage' });
    const query = await teiCall(server.url, 'POST', '/embed', { inputs: 'cpu usage', prompt_name: 'query' });
    expect(Number(query.headers['x-compute-tokens'])).toBeGreaterThan(
      Number(plain.headers['x-compute-tokens']),
    );
    const unknown = await teiCall(server.url, 'POST', '/embed', { inputs: 'x', prompt_name: 'nope' });
    expect(unknown.status).toBe(422);
    expect((unknown.json as { error: string }).error).toContain('`default-prompt-name` is set to `nope`');
  });

  it('embeds identical text identically across servers (deterministic)', async () => {
    const a = await start();
    const b = await start({ dimensions: 1024 });
    const body = { inputs: 'deterministic vectors' };
    const va = (await teiCall(a.url, 'POST', '/embed', body)).json as number[][];
    const vb = (await teiCall(b.url, 'POST', '/embed', body)).json as number[][];
    expect(va).toEqual(vb);
    expect(cosine(va[0]!, vb[0]!)).toBeCloseTo(1, 6);
  });

  it('close() returns while a slow request is still waiting', async () => {
    const server = await start();
    server.faults.latencyMs = 60_000;
    const pending = request(`${server.url}/embed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: 'slow' }),
    }).then(
      (response) => response.statusCode,
      () => 'failed',
    );
    await until(() => server.stats.inFlightInputs === 1);
    await server.close();
    expect(await pending).toBe('failed');
  });
});

suite('rerank', () => {
  it('/rerank ranks by word overlap, best first, with text and scores in (0, 1)', async () => {
    const server = await start();
    const reply = await teiCall(server.url, 'POST', '/rerank', {
      query: 'scrape interval',
      texts: ['alerting rules', 'the scrape interval is 15s', 'scrape targets'],
      return_text: true,
    });
    expect(reply.status).toBe(200);
    const ranks = reply.json as { index: number; text: string; score: number }[];
    expect(ranks.map((rank) => rank.index)).toEqual([1, 2, 0]);
    expect(ranks[0]!.text).toBe('the scrape interval is 15s');
    expect(ranks.every((rank) => rank.score > 0 && rank.score < 1)).toBe(true);
    expect(reply.headers['x-compute-tokens']).toMatch(/^\d+$/);
  });

  it('/rerank leaves text out by default and gives logits with raw_scores', async () => {
    const server = await start();
    const reply = await teiCall(server.url, 'POST', '/rerank', {
      query: 'a',
      texts: ['a', 'b'],
      raw_scores: true,
    });
    expect(reply.json).toEqual([
      { index: 0, score: 4 },
      { index: 1, score: -4 },
    ]);
  });

  it("reranker 'reverse' returns documents in reverse input order on both routes", async () => {
    const server = await start({ reranker: 'reverse' });
    const texts = ['first', 'second', 'third'];
    const tei = (await teiCall(server.url, 'POST', '/rerank', { query: 'q', texts })).json as {
      index: number;
    }[];
    expect(tei.map((rank) => rank.index)).toEqual([2, 1, 0]);
    const cohere = (
      await teiCall(server.url, 'POST', '/v1/rerank', { query: 'q', documents: texts, top_n: 2 })
    ).json as { results: { index: number; relevance_score: number }[] };
    expect(cohere.results.map((result) => result.index)).toEqual([2, 1]);
  });

  it('/v1/rerank answers {model, results, usage} and can return documents', async () => {
    const server = await start();
    const reply = await teiCall(server.url, 'POST', '/v1/rerank', {
      model: 'Qwen/Qwen3-Reranker-0.6B',
      query: 'memory usage',
      documents: ['cpu usage', { text: 'memory usage by process' }],
      return_documents: true,
    });
    expect(reply.json).toMatchObject({
      model: 'Qwen/Qwen3-Reranker-0.6B',
      results: [
        { index: 1, relevance_score: expect.any(Number), document: { text: 'memory usage by process' } },
        { index: 0, relevance_score: expect.any(Number), document: { text: 'cpu usage' } },
      ],
      usage: { total_tokens: expect.any(Number) },
    });
  });

  it('/rerank answers 400 Empty for no texts and 422 over the batch size', async () => {
    const server = await start({ maxClientBatchSize: 2 });
    const empty = await teiCall(server.url, 'POST', '/rerank', { query: 'q', texts: [] });
    expect(empty.status).toBe(400);
    expect(empty.json).toEqual({ error: '`texts` cannot be empty', error_type: 'Empty' });
    const tooMany = await teiCall(server.url, 'POST', '/rerank', { query: 'q', texts: ['a', 'b', 'c'] });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json).toEqual({
      error: 'batch size 3 > maximum allowed batch size 2',
      error_type: 'Validation',
    });
  });
});
