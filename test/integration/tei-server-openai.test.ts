import { afterEach, describe, expect, it } from 'vitest';
import { cosine, decodeBase64Floats, norm, teiCall } from '../support/tei-server/client.js';
import {
  countTokens,
  startTeiServer,
  type TeiServerOptions,
  type TeiTestServer,
} from '../support/tei-server/index.js';

/**
 * The test server as an OpenAI-compatible embedding server (`flavor: 'openai'`): vLLM's routes, limits
 * and error bodies, OpenAI's 401. The tests start their own test server, so they run in a
 * real-server run too.
 */
const servers: TeiTestServer[] = [];

async function start(options: TeiServerOptions = {}): Promise<TeiTestServer> {
  const server = await startTeiServer({ flavor: 'openai', ...options });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

interface EmbeddingList {
  object: string;
  model: string;
  data: { object: string; index: number; embedding: number[] | string }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

const errorBody = (
  message: unknown,
  type: string,
  code: number | string | null,
  param: string | null = null,
) => ({
  error: { message, type, param, code },
});

describe('OpenAI-compatible flavor', () => {
  it('embeds a string or a list of strings into OpenAI list shape with usage and the served model', async () => {
    const server = await start({ servedModelName: 'qwen3-embedding' });
    const reply = await teiCall(server.url, 'POST', '/v1/embeddings', {
      input: ['scrape interval', 'alert routing'],
      model: 'qwen3-embedding',
    });
    expect(reply.status).toBe(200);
    const body = reply.json as EmbeddingList;
    expect(body.object).toBe('list');
    expect(body.model).toBe('qwen3-embedding');
    expect(body.data.map((item) => [item.object, item.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
    ]);
    expect(norm(body.data[0]!.embedding as number[])).toBeCloseTo(1, 4);
    const tokens = countTokens('scrape interval') + countTokens('alert routing');
    expect(body.usage).toMatchObject({ prompt_tokens: tokens, total_tokens: tokens });
    const single = (await teiCall(server.url, 'POST', '/v1/embeddings', { input: 'alert routing' }))
      .json as EmbeddingList;
    expect(cosine(single.data[0]!.embedding as number[], body.data[1]!.embedding as number[])).toBeCloseTo(
      1,
      6,
    );
  });

  it('answers base64 little-endian float32 and cuts dimensions', async () => {
    const server = await start();
    const input = 'matryoshka prefix';
    const floats = (await teiCall(server.url, 'POST', '/v1/embeddings', { input, dimensions: 64 }))
      .json as EmbeddingList;
    const packed = (
      await teiCall(server.url, 'POST', '/v1/embeddings', {
        input,
        dimensions: 64,
        encoding_format: 'base64',
      })
    ).json as EmbeddingList;
    const decoded = decodeBase64Floats(packed.data[0]!.embedding as string);
    expect(decoded).toHaveLength(64);
    expect(Array.from(decoded)).toEqual((floats.data[0]!.embedding as number[]).map(Math.fround));
  });

  it('lists the served model on GET /v1/models with its max_model_len', async () => {
    const server = await start({ maxInputLength: 8192 });
    const reply = await teiCall(server.url, 'GET', '/v1/models');
    expect(reply.json).toMatchObject({
      object: 'list',
      data: [{ id: 'Qwen/Qwen3-Embedding-0.6B', object: 'model', max_model_len: 8192 }],
    });
  });

  it('has no /info and no /embed', async () => {
    const server = await start();
    expect((await teiCall(server.url, 'GET', '/info')).status).toBe(404);
    expect((await teiCall(server.url, 'POST', '/embed', { inputs: 'x' })).status).toBe(404);
    expect((await teiCall(server.url, 'GET', '/health')).status).toBe(200);
  });

  it('answers 400 with vLLM words for an input over max_model_len, unless truncate_prompt_tokens', async () => {
    const server = await start({ maxInputLength: 8 });
    const text = 'a b c d e f g h i j';
    const reply = await teiCall(server.url, 'POST', '/v1/embeddings', { input: ['short', text] });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual(
      errorBody(
        "This model's maximum context length is 8 tokens. However, you requested 11 tokens in the input for embedding generation. Please reduce the length of the input.",
        'BadRequestError',
        400,
      ),
    );
    const cut = await teiCall(server.url, 'POST', '/v1/embeddings', {
      input: text,
      truncate_prompt_tokens: 4,
    });
    expect(cut.status).toBe(200);
    expect((cut.json as EmbeddingList).usage.prompt_tokens).toBe(4);
  });

  it('answers 400 for more inputs than maxClientBatchSize, an empty list and a bad encoding_format', async () => {
    const server = await start({ maxClientBatchSize: 2 });
    const tooMany = await teiCall(server.url, 'POST', '/v1/embeddings', { input: ['a', 'b', 'c'] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json).toEqual(
      errorBody(
        "'input' has 3 items, more than the 2 this server takes in one request.",
        'BadRequestError',
        400,
        'input',
      ),
    );
    const empty = await teiCall(server.url, 'POST', '/v1/embeddings', { input: [] });
    expect(empty.status).toBe(400);
    const format = await teiCall(server.url, 'POST', '/v1/embeddings', {
      input: 'x',
      encoding_format: 'int8',
    });
    expect(format.status).toBe(400);
    expect((format.json as { error: { param: string } }).error.param).toBe('encoding_format');
  });

  it('answers 404 NotFoundError for a model it does not serve', async () => {
    const server = await start();
    const reply = await teiCall(server.url, 'POST', '/v1/embeddings', {
      input: 'x',
      model: 'text-embedding-3-small',
    });
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual(
      errorBody('The model `text-embedding-3-small` does not exist.', 'NotFoundError', 404, 'model'),
    );
  });

  it('answers 429 with retry-after when too many inputs are in flight', async () => {
    const server = await start({ maxConcurrentRequests: 1 });
    server.faults.latencyMs = 60_000;
    const holding = teiCall(server.url, 'POST', '/v1/embeddings', { input: 'holds the permit' }).catch(
      () => undefined,
    );
    await until(() => server.stats.inFlightInputs === 1);
    const reply = await teiCall(server.url, 'POST', '/v1/embeddings', { input: 'waits' });
    expect(reply.status).toBe(429);
    expect(reply.headers['retry-after']).toBe('1');
    expect((reply.json as { error: { type: string } }).error.type).toBe('RateLimitError');
    await server.close();
    await holding;
  });

  it("answers 401 with OpenAI's body for a missing or wrong Bearer key; /health stays open", async () => {
    const server = await start({ apiKey: 'sk-test' });
    const missing = await teiCall(server.url, 'POST', '/v1/embeddings', { input: 'x' });
    expect(missing.status).toBe(401);
    expect(missing.json).toEqual(
      errorBody(expect.stringContaining("You didn't provide an API key"), 'invalid_request_error', null),
    );
    const wrong = await teiCall(server.url, 'POST', '/v1/embeddings', { input: 'x' }, { apiKey: 'sk-nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual(
      errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'),
    );
    expect(wrong.text).not.toContain('sk-nope');
    expect((await teiCall(server.url, 'GET', '/v1/models')).status).toBe(401);
    expect((await teiCall(server.url, 'GET', '/health')).status).toBe(200);
    const allowed = await teiCall(
      server.url,
      'POST',
      '/v1/embeddings',
      { input: 'x' },
      { apiKey: 'sk-test' },
    );
    expect(allowed.status).toBe(200);
  });

  it.each([
    [429, 'RateLimitError'],
    [503, 'ServiceUnavailableError'],
    [500, 'InternalServerError'],
    [422, 'UnprocessableEntityError'],
  ] as const)('answers an injected %i in the OpenAI error shape (%s)', async (status, type) => {
    const server = await start();
    server.faults.failNext(1, status, { retryAfterSeconds: 3 });
    const reply = await teiCall(server.url, 'POST', '/v1/embeddings', { input: 'x' });
    expect(reply.status).toBe(status);
    expect(reply.json).toEqual(errorBody(expect.any(String), type, status));
    expect(reply.headers['retry-after']).toBe('3');
  });

  it('batches like TEI under a service rate and exposes the busy seconds on /metrics', async () => {
    const server = await start({ serviceRate: 100_000 });
    await teiCall(server.url, 'POST', '/v1/embeddings', { input: ['one', 'two three'] });
    const tokens = countTokens('one') + countTokens('two three');
    expect(server.stats.backend.tokens).toBe(tokens);
    const metrics = (await teiCall(server.url, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/^te_backend_busy_seconds [\d.e-]+$/m);
  });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}
