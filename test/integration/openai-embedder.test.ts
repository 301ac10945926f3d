import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConfigInput, configSchema } from '../../src/config/schema.js';
import { createEmbedder } from '../../src/embed/create-embedder.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { ServiceError } from '../../src/errors.js';
import type { RetryEvent } from '../../src/pipeline/retry.js';
import { EmbedStage } from '../../src/pipeline/stages/embed.js';
import type { ItemFailure, WorkItem } from '../../src/pipeline/work-item.js';
import { cosine, teiCall } from '../support/tei-server/client.js';
import {
  countTokens,
  startTeiServer,
  type TeiServerOptions,
  type TeiTestServer,
} from '../support/tei-server/index.js';

/**
 * The OpenAI-compatible embedder (`tei.kind: "openai"`) against the test server in its OpenAI
 * flavor (vLLM's routes, limits and error bodies, OpenAI's 401): what `describe()` reports without
 * `/info`, both encodings, Matryoshka sizes, retries, refused input isolated by the embed stage,
 * and the refusals that must stop a run instead. Always against the servers it starts, in a
 * real-server run too.
 */
const MODEL = 'qwen3-embedding';
const servers: TeiTestServer[] = [];
const embedders: Embedder[] = [];
const plainServers: Server[] = [];

afterEach(async () => {
  await Promise.all(embedders.splice(0).map((embedder) => embedder.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(
    plainServers.splice(0).map((server) => new Promise((resolve) => server.close(() => resolve(undefined)))),
  );
});

async function start(options: TeiServerOptions = {}): Promise<TeiTestServer> {
  const server = await startTeiServer({ flavor: 'openai', servedModelName: MODEL, ...options });
  servers.push(server);
  return server;
}

function embedderFor(url: string, tei: NonNullable<ConfigInput['tei']> = {}): Embedder {
  const settings = configSchema.parse({
    tei: { kind: 'openai', url: `${url}/v1`, model: MODEL, timeoutMs: 10_000, ...tei },
  }).tei;
  const embedder = createEmbedder(settings, { concurrency: 2 });
  embedders.push(embedder);
  return embedder;
}

async function rejection(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

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

/** Every text through the embed stage in one batch of up to `maxInputs`, as ingest sends them. */
async function embedAll(embedder: Embedder, texts: string[], maxInputs = texts.length, maxRetries = 0) {
  const embedded: string[] = [];
  const failures: ItemFailure[] = [];
  const retries: RetryEvent[] = [];
  const stage = new EmbedStage(embedder, {
    limits: { maxInputs, maxTokens: 100_000, maxBytes: 1 << 20 },
    concurrency: 2,
    retry: { maxRetries, baseDelayMs: 1, maxDelayMs: 1 },
    dimensions: 1024,
    onEmbedded: async (items) => {
      embedded.push(...items.map((entry) => entry.text));
    },
    onFailed: (list) => failures.push(...list),
    onRetry: (event) => retries.push(event),
  });
  for (const [index, text] of texts.entries()) await stage.add(item(index, text));
  await stage.finish();
  return { embedded, failures, retries };
}

describe('OpenAI-compatible embedder: describe and dimensions without /info', () => {
  it('takes the model and limits from the config and the context length from GET /models', async () => {
    const server = await start({ maxInputLength: 8192 });
    const info = await embedderFor(server.url).describe();
    expect(info).toEqual({
      modelId: MODEL,
      limits: { maxInputs: 32, maxTokens: 16_384, maxBytes: 1_500_000 },
      maxInputTokens: 8192,
      route: 'OpenAI-compatible /embeddings (base64)',
    });
    expect(server.stats.requests['/info']).toBeUndefined();
    expect(server.stats.requests['/v1/models']).toBe(1);
  });

  it('lets the config override every limit', async () => {
    const server = await start();
    const embedder = embedderFor(server.url, {
      maxClientBatchSize: 8,
      maxBatchTokens: 4096,
      maxInputTokens: 512,
    });
    expect(await embedder.describe()).toMatchObject({
      limits: { maxInputs: 8, maxTokens: 4096 },
      maxInputTokens: 512,
    });
  });

  it('warns when the server does not list the configured model, and still describes it', async () => {
    const server = await start({ servedModelName: 'another-model' });
    const embedder = embedderFor(server.url);
    expect((await embedder.describe()).modelId).toBe(MODEL);
    expect(embedder.warnings).toEqual([
      `tei.model ${MODEL} is not among the models the server lists (another-model)`,
    ]);
  });

  it('learns the vector size from one embedding, Matryoshka size included', async () => {
    const server = await start();
    expect(await embedderFor(server.url).dimensions()).toBe(1024);
    expect(await embedderFor(server.url, { dimensions: 256 }).dimensions()).toBe(256);
    expect(server.stats.requests['/v1/embeddings']).toBe(2);
  });

  it('fails describe() on a refused key rather than at the first batch', async () => {
    const server = await start({ apiKey: 'right-key' });
    const error = await rejection(embedderFor(server.url, { apiKey: 'wrong-key' }).describe());
    expect(error.message).toContain('/v1/models answered 401: Incorrect API key provided.');
    expect(error.hint).toContain('tei.apiKey');
  });

  it('uses the endpoints that answer and warns about the one that does not', async () => {
    const server = await start();
    const dead = await start();
    await dead.faults.down();
    const embedder = embedderFor(server.url, { urls: [`${dead.url}/v1`, `${server.url}/v1`] });
    expect((await embedder.describe()).modelId).toBe(MODEL);
    expect(embedder.warnings).toHaveLength(1);
    expect(embedder.warnings[0]).toMatch(
      /^OpenAI-compatible server at http:\/\/127\.0\.0\.1:\d+\/v1: cannot connect \(ECONNREFUSED\); using the other endpoints$/,
    );
  });
});

describe('OpenAI-compatible embedder: embeddings', () => {
  it('reads base64 and float answers into the same vectors, with the server token count', async () => {
    const server = await start();
    const texts = ['scrape interval', 'alert routing rules'];
    const base64 = await embedderFor(server.url).embed(texts);
    const floats = await embedderFor(server.url, { encodingFormat: 'float' }).embed(texts);
    const reference = (
      (await teiCall(server.url, 'POST', '/v1/embeddings', { input: texts, model: MODEL })).json as {
        data: { embedding: number[] }[];
      }
    ).data;
    for (const [index, expected] of reference.entries()) {
      expect(Array.from(base64.vectors[index]!)).toEqual(expected.embedding.map(Math.fround));
      expect(Array.from(floats.vectors[index]!)).toEqual(expected.embedding.map(Math.fround));
    }
    const tokens = countTokens(texts[0]!) + countTokens(texts[1]!);
    expect(base64.tokens).toBe(tokens);
    expect(floats.tokens).toBe(tokens);
    expect(base64.queueMs).toBeUndefined();
  });

  it('sends the configured model: a model the server does not serve is a setting to fix, not bad input', async () => {
    const server = await start();
    const good = await embedderFor(server.url).embed(['alert routing']);
    expect(good.vectors).toHaveLength(1);
    const error = await rejection(embedderFor(server.url, { model: 'not-served' }).embed(['alert routing']));
    expect(error.message).toBe(
      `OpenAI-compatible server at ${server.url}/v1: /v1/embeddings answered 404: The model \`not-served\` does not exist.`,
    );
    expect(error).toMatchObject({ code: '404', retryable: false, rejectedInput: false });
    expect(error.hint).toContain('tei.model');
  });

  it('cuts a Matryoshka prefix with dimensions; a size the model lacks stops the run', async () => {
    const server = await start();
    const full = (await embedderFor(server.url).embed(['remote write'])).vectors[0]!;
    const cut = (await embedderFor(server.url, { dimensions: 64 }).embed(['remote write'])).vectors[0]!;
    expect(cut).toHaveLength(64);
    expect(cosine(cut, full.subarray(0, 64))).toBeCloseTo(1, 5);
    const error = await rejection(embedderFor(server.url, { dimensions: 2048 }).embed(['remote write']));
    expect(error).toMatchObject({ code: '400', rejectedInput: false });
    expect(error.hint).toContain('tei.dimensions');
  });

  it('says what to check on a missing or wrong API key', async () => {
    const server = await start({ apiKey: 'right-key' });
    const missing = await rejection(embedderFor(server.url).embed(['x']));
    expect(missing.message).toContain("/v1/embeddings answered 401: You didn't provide an API key.");
    expect(missing).toMatchObject({ code: '401', retryable: false, rejectedInput: false });
    expect(missing.hint).toBe(
      'Check tei.apiKey (env TEI_API_KEY, or "apiKey": "${OPENAI_API_KEY}" in the config file).',
    );
    const wrong = await rejection(embedderFor(server.url, { apiKey: 'wrong-key' }).embed(['x']));
    expect(wrong.message).toContain('/v1/embeddings answered 401: Incorrect API key provided.');
    expect(wrong.message).not.toContain('wrong-key');
    const right = await embedderFor(server.url, { apiKey: 'right-key' }).embed(['x']);
    expect(right.vectors).toHaveLength(1);
  });

  it('names the service and what to check when nothing listens at the URL', async () => {
    const server = await start();
    const url = server.url;
    await server.faults.down();
    const error = await rejection(embedderFor(url).embed(['x']));
    expect(error.message).toBe(`OpenAI-compatible server at ${url}/v1: cannot connect (ECONNREFUSED)`);
    expect(error).toMatchObject({ retryable: true });
    expect(error.hint).toBe('Is the embedding server running? Check tei.url.');
  });
});

describe('OpenAI-compatible embedder under the embed stage', () => {
  it('retries a 429 no sooner than its retry-after, and embeds everything', async () => {
    const server = await start();
    server.faults.failNext(1, 429, { retryAfterSeconds: 1 });
    const texts = ['first text', 'second text', 'third text'];
    const { embedded, failures, retries } = await embedAll(embedderFor(server.url), texts, 3, 2);
    expect(failures).toEqual([]);
    expect(embedded.sort()).toEqual([...texts].sort());
    expect(retries).toHaveLength(1);
    expect(retries[0]!.error).toMatchObject({ code: '429', retryable: true, retryAfterMs: 1000 });
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(1000);
  });

  it('isolates the one input over the context length (vLLM 400) and embeds the rest', async () => {
    const server = await start({ maxInputLength: 24 });
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const texts = Array.from({ length: 8 }, (_, i) => (i === 5 ? long : `healthy chunk ${i}`));
    const { embedded, failures } = await embedAll(embedderFor(server.url), texts);
    expect(failures.map((failure) => failure.item.text)).toEqual([long]);
    expect(failures[0]!.reason).toContain(
      "/v1/embeddings answered 400: This model's maximum context length is 24",
    );
    expect(embedded.sort()).toEqual(texts.filter((text) => text !== long).sort());
    // 8 -> 4 + 4 -> 2 + 2 -> 1 + 1: the whole batch, both halves, both quarters of the bad half, both eighths.
    expect(server.stats.requests['/v1/embeddings']).toBe(7);
    expect(server.stats.statuses[400]).toBe(4);
  });

  it('splits a batch over the server’s inputs per request until it passes, losing nothing', async () => {
    const server = await start({ maxClientBatchSize: 4 });
    const texts = Array.from({ length: 8 }, (_, i) => `chunk number ${i}`);
    const { embedded, failures } = await embedAll(embedderFor(server.url), texts);
    expect(failures).toEqual([]);
    expect(embedded.sort()).toEqual([...texts].sort());
    expect(server.stats.statuses[400]).toBe(1);
  });
});

/** A server that refuses base64 (as some do) or ignores `encoding_format` and answers floats. */
async function floatOnlyServer(refuse: boolean): Promise<{ url: string; formats: string[] }> {
  const formats: string[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const body = JSON.parse(raw) as { input: string[]; encoding_format?: string };
    formats.push(body.encoding_format ?? 'none');
    res.setHeader('content-type', 'application/json');
    if (refuse && body.encoding_format === 'base64') {
      res.statusCode = 400;
      res.end(
        JSON.stringify({ error: { message: "encoding_format must be 'float'", param: 'encoding_format' } }),
      );
      return;
    }
    const data = body.input.map((_, index) => ({
      object: 'embedding',
      index,
      embedding: [0.5, -0.25, index],
    }));
    res.end(JSON.stringify({ object: 'list', data, usage: { prompt_tokens: 3, total_tokens: 3 } }));
  });
  plainServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, formats };
}

describe('OpenAI-compatible embedder and servers without base64', () => {
  it('falls back to floats once a server refuses base64', async () => {
    const server = await floatOnlyServer(true);
    const embedder = embedderFor(server.url);
    const first = await embedder.embed(['a', 'b']);
    expect(first.vectors.map((vector) => Array.from(vector))).toEqual([
      [0.5, -0.25, 0],
      [0.5, -0.25, 1],
    ]);
    await embedder.embed(['c']);
    expect(server.formats).toEqual(['base64', 'float', 'float']);
  });

  it('reads floats from a server that ignores encoding_format', async () => {
    const server = await floatOnlyServer(false);
    const result = await embedderFor(server.url).embed(['a']);
    expect(Array.from(result.vectors[0]!)).toEqual([0.5, -0.25, 0]);
    expect(result.tokens).toBe(3);
    expect(server.formats).toEqual(['base64']);
  });
});
