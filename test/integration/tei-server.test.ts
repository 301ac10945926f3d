import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosine, decodeBase64Floats, norm, type TeiReply, teiCall } from '../support/tei-server/client.js';
import { startTeiServer, type TeiTestServer } from '../support/tei-server/index.js';

/**
 * Protocol fidelity of the TEI test server. With TABOOT_TEST_TEI_URL set (and TABOOT_TEST_TEI_API_KEY
 * when that server wants one), the same tests run against a real TEI 1.9 serving an embedding model,
 * so the stand-in can be checked against the real thing.
 */
const realUrl = process.env.TABOOT_TEST_TEI_URL;
const apiKey = process.env.TABOOT_TEST_TEI_API_KEY;

let server: TeiTestServer | undefined;
let url: string;
let info: Record<string, unknown>;
let maxInputLength: number;
let maxClientBatchSize: number;

const get = (path: string) => teiCall(url, 'GET', path, undefined, { apiKey });
const post = (path: string, body: unknown) => teiCall(url, 'POST', path, body, { apiKey });
const vectors = (reply: TeiReply) => reply.json as number[][];

beforeAll(async () => {
  if (realUrl) {
    url = realUrl;
  } else {
    server = await startTeiServer();
    url = server.url;
  }
  info = (await get('/info')).json as Record<string, unknown>;
  maxInputLength = info.max_input_length as number;
  maxClientBatchSize = info.max_client_batch_size as number;
});

afterAll(async () => {
  await server?.close();
});

const timingHeaderNames = [
  'x-compute-time',
  'x-compute-tokens',
  'x-compute-characters',
  'x-total-time',
  'x-tokenization-time',
  'x-queue-time',
  'x-inference-time',
];

function expectTimingHeaders(reply: TeiReply): void {
  for (const name of timingHeaderNames) expect(reply.headers[name], name).toMatch(/^\d+$/);
  expect(reply.headers['x-compute-type']).toMatch(/\S/);
}

describe('TEI health, info and metrics', () => {
  it('GET /health answers 200 with an empty body', async () => {
    const reply = await get('/health');
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('');
  });

  it('GET /info reports the model and the router limits under TEI field names', async () => {
    expect(info).toMatchObject({
      model_id: expect.any(String),
      model_dtype: expect.any(String),
      served_model_name: expect.any(String),
      model_type: { embedding: { pooling: expect.any(String) } },
      max_concurrent_requests: expect.any(Number),
      max_input_length: expect.any(Number),
      max_batch_tokens: expect.any(Number),
      max_client_batch_size: expect.any(Number),
      auto_truncate: expect.any(Boolean),
      tokenization_workers: expect.any(Number),
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(Object.keys(info)).toEqual(
      expect.arrayContaining(['model_sha', 'max_batch_requests', 'sha', 'docker_label']),
    );
    expect(maxInputLength).toBeLessThanOrEqual(info.max_batch_tokens as number);
    // null unless set; TEI's CPU backend forces 4.
    const maxBatchRequests = info.max_batch_requests;
    expect(maxBatchRequests === null || Number.isInteger(maxBatchRequests)).toBe(true);
  });

  it('GET /metrics exposes te_* Prometheus series after an embed', async () => {
    await post('/embed', { inputs: 'metrics probe' });
    const reply = await get('/metrics');
    expect(reply.status).toBe(200);
    expect(reply.text).toMatch(/^te_request_count\{method="single"\} \d+$/m);
    expect(reply.text).toMatch(/^# TYPE te_queue_size gauge$/m);
    expect(reply.text).toMatch(/^te_request_duration_count \d+$/m);
  });

  it('an unknown route answers 404', async () => {
    expect((await post('/no-such-route', {})).status).toBe(404);
  });
});

describe('headers on every answer', () => {
  it('carries vary and access-control-allow-origin: * on successes, errors and 404s', async () => {
    const replies = [
      await get('/health'),
      await get('/info'),
      await post('/embed', { inputs: 'cors' }),
      await post('/embed', { inputs: [] }),
      await post('/no-such-route', {}),
    ];
    for (const reply of replies) {
      expect(reply.headers['access-control-allow-origin']).toBe('*');
      expect(reply.headers.vary).toMatch(/origin/i);
    }
  });

  it('sends x-compute-type and timings on success and no x-* header on an error', async () => {
    expectTimingHeaders(await post('/embed', { inputs: 'headers' }));
    const failed = await post('/embed', { inputs: 'x', dimensions: 0 });
    expect(failed.status).toBe(422);
    expect(Object.keys(failed.headers).filter((name) => name.startsWith('x-'))).toEqual([]);
  });

  it('answers a CORS preflight allowing GET and POST', async () => {
    const response = await request(new URL('/embed', url), {
      method: 'OPTIONS',
      headers: { origin: 'http://example.com', 'access-control-request-method': 'POST' },
    });
    await response.body.dump();
    expect(response.statusCode).toBe(200);
    expect(String(response.headers['access-control-allow-methods'])).toMatch(/GET.*POST/);
    expect(response.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('POST /embed', () => {
  it('embeds a single string as a one-row matrix of unit length, with timing headers', async () => {
    const reply = await post('/embed', { inputs: 'What is Deep Learning?' });
    expect(reply.status).toBe(200);
    const rows = vectors(reply);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.length).toBeGreaterThanOrEqual(32);
    expect(norm(rows[0]!)).toBeCloseTo(1, 4);
    expectTimingHeaders(reply);
    expect(reply.headers['x-compute-characters']).toBe('22');
  });

  it('embeds a batch in input order, each row as it would be alone', async () => {
    const texts = ['scrape interval for targets', 'alertmanager routing tree'];
    const batch = vectors(await post('/embed', { inputs: texts }));
    const alone = vectors(await post('/embed', { inputs: texts[1] }));
    expect(batch).toHaveLength(2);
    expect(cosine(batch[1]!, alone[0]!)).toBeGreaterThan(0.999);
    expect(cosine(batch[0]!, alone[0]!)).toBeLessThan(0.99);
  });

  it('returns raw vectors with normalize=false, pointing the same way as the normalised one', async () => {
    const text = 'recording rules precompute expressions';
    const unit = vectors(await post('/embed', { inputs: text }))[0]!;
    const raw = vectors(await post('/embed', { inputs: text, normalize: false }))[0]!;
    expect(Math.abs(norm(raw) - 1)).toBeGreaterThan(1e-3);
    expect(cosine(raw, unit)).toBeGreaterThan(0.999);
  });

  it('cuts a Matryoshka prefix with dimensions and renormalises it', async () => {
    const text = 'relabel_configs rewrite the label set of a target';
    const full = vectors(await post('/embed', { inputs: text, normalize: false }))[0]!;
    const cut = vectors(await post('/embed', { inputs: text, dimensions: 256 }))[0]!;
    expect(cut).toHaveLength(256);
    expect(norm(cut)).toBeCloseTo(1, 4);
    expect(cosine(cut, full.slice(0, 256))).toBeGreaterThan(0.999);
  });

  it('puts texts that share words closer than unrelated texts', async () => {
    const [query, related, unrelated] = vectors(
      await post('/embed', {
        inputs: [
          'how do I change the scrape interval',
          'The scrape interval sets how often Prometheus scrapes targets.',
          'Bananas are rich in potassium and grow in tropical climates.',
        ],
      }),
    );
    expect(cosine(query!, related!)).toBeGreaterThan(cosine(query!, unrelated!) + 0.1);
  });

  it('answers 400 Empty, with the validation prefix, for an empty batch', async () => {
    const reply = await post('/embed', { inputs: [] });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      error: 'Input validation error: `inputs` cannot be empty',
      error_type: 'Empty',
    });
  });

  it('answers 400 Empty for an empty string', async () => {
    const reply = await post('/embed', { inputs: [''] });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      error: 'Input validation error: `inputs` cannot be empty',
      error_type: 'Empty',
    });
  });

  it('answers 422 Validation for a batch over max_client_batch_size', async () => {
    const size = maxClientBatchSize + 1;
    const reply = await post('/embed', { inputs: Array.from({ length: size }, (_, i) => `text ${i}`) });
    expect(reply.status).toBe(422);
    expect(reply.json).toEqual({
      error: `batch size ${size} > maximum allowed batch size ${maxClientBatchSize}`,
      error_type: 'Validation',
    });
  });

  it('answers 422 Validation for an input over max_input_length tokens without truncate', async () => {
    const reply = await post('/embed', { inputs: 'alpha '.repeat(maxInputLength + 10), truncate: false });
    expect(reply.status).toBe(422);
    const body = reply.json as { error: string; error_type: string };
    expect(body.error_type).toBe('Validation');
    expect(body.error).toMatch(
      new RegExp(
        `^Input validation error: \`inputs\` must have less than ${maxInputLength} tokens. Given: \\d+$`,
      ),
    );
  });

  it('answers 422 Validation for dimensions 0', async () => {
    const reply = await post('/embed', { inputs: 'x', dimensions: 0 });
    expect(reply.status).toBe(422);
    expect(reply.json).toEqual({
      error: 'Input validation error: `dimensions` should be positive',
      error_type: 'Validation',
    });
  });

  it('truncates an over-long input to max_input_length tokens with truncate', async () => {
    const reply = await post('/embed', { inputs: 'alpha '.repeat(maxInputLength + 10), truncate: true });
    expect(reply.status).toBe(200);
    expect(reply.headers['x-compute-tokens']).toBe(String(maxInputLength));
  });

  it('counts the same tokens in /embed as /tokenize does', async () => {
    const text = 'Prometheus scrapes metrics from instrumented jobs, directly or via an intermediary.';
    const tokens = (await post('/tokenize', { inputs: text })).json as unknown[][];
    const reply = await post('/embed', { inputs: text });
    expect(reply.headers['x-compute-tokens']).toBe(String(tokens[0]!.length));
  });
});

describe('POST /v1/embeddings', () => {
  it('answers the OpenAI list shape with usage and the served model id', async () => {
    const reply = await post('/v1/embeddings', { input: ['first text', 'second text'], model: 'ignored' });
    expect(reply.status).toBe(200);
    const body = reply.json as {
      object: string;
      data: { object: string; embedding: number[]; index: number }[];
      model: string;
      usage: { prompt_tokens: number; total_tokens: number };
    };
    expect(body.object).toBe('list');
    expect(body.model).toBe(info.model_id);
    expect(body.data.map((item) => [item.object, item.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
    ]);
    expect(norm(body.data[0]!.embedding)).toBeCloseTo(1, 4);
    expect(body.usage.prompt_tokens).toBe(Number(reply.headers['x-compute-tokens']));
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens);
    expectTimingHeaders(reply);
  });

  it('encodes base64 as the little-endian float32 bytes of the float answer', async () => {
    const input = ['base64 carries the same floats', 'as the float format'];
    const floats = (await post('/v1/embeddings', { input })).json as { data: { embedding: number[] }[] };
    const packed = (await post('/v1/embeddings', { input, encoding_format: 'base64' })).json as {
      data: { embedding: string }[];
    };
    for (let i = 0; i < input.length; i++) {
      const decoded = decodeBase64Floats(packed.data[i]!.embedding);
      expect(Array.from(decoded)).toEqual(floats.data[i]!.embedding.map(Math.fround));
    }
  });

  it('honours dimensions', async () => {
    const reply = await post('/v1/embeddings', { input: 'short vectors', dimensions: 128 });
    const body = reply.json as { data: { embedding: number[] }[] };
    expect(body.data[0]!.embedding).toHaveLength(128);
  });

  it('answers errors OpenAI-shaped: {message, code, type}', async () => {
    const empty = await post('/v1/embeddings', { input: [] });
    expect(empty.status).toBe(400);
    expect(empty.json).toEqual({
      message: 'Input validation error: `inputs` cannot be empty',
      code: 400,
      type: 'Empty',
    });
    const size = maxClientBatchSize + 1;
    const tooMany = await post('/v1/embeddings', { input: Array.from({ length: size }, () => 'x') });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json).toEqual({
      message: `batch size ${size} > maximum allowed batch size ${maxClientBatchSize}`,
      code: 422,
      type: 'Validation',
    });
  });

  it('names the served model whatever model the request asked for', async () => {
    const reply = await post('/v1/embeddings', { input: 'x', model: 'some-other-model' });
    expect(reply.status).toBe(200);
    expect((reply.json as { model: string }).model).toBe(info.served_model_name);
  });
});

describe('POST /tokenize', () => {
  it('answers one token list per input with ids, offsets and the special end token', async () => {
    const text = 'Hello, wonderful world';
    const [tokens] = (await post('/tokenize', { inputs: text })).json as {
      id: number;
      text: string;
      special: boolean;
      start: number | null;
      stop: number | null;
    }[][];
    const normal = tokens!.filter((token) => !token.special);
    // Byte-level BPE may leave the leading space out of a token's offsets: compare without whitespace.
    const covered = normal.map((token) => text.slice(token.start!, token.stop!)).join('');
    expect(covered.replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
    expect(normal.every((token, i) => i === 0 || token.start! >= normal[i - 1]!.stop!)).toBe(true);
    expect(normal.every((token) => Number.isInteger(token.id))).toBe(true);
    const special = tokens!.filter((token) => token.special);
    expect(special.every((token) => token.start === null && token.stop === null)).toBe(true);
  });

  it('answers 400 Empty without the validation prefix for an empty batch', async () => {
    const reply = await post('/tokenize', { inputs: [] });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ error: '`inputs` cannot be empty', error_type: 'Empty' });
  });

  it('leaves special tokens out with add_special_tokens=false', async () => {
    const [tokens] = (await post('/tokenize', { inputs: ['plain words'], add_special_tokens: false }))
      .json as { special: boolean }[][];
    expect(tokens!.some((token) => token.special)).toBe(false);
  });
});

describe('request bodies TEI rejects before its handlers', () => {
  it('answers 400 text for malformed JSON', async () => {
    const reply = await teiCall(url, 'POST', '/embed', undefined, { apiKey, rawBody: '{"inputs": ' });
    expect(reply.status).toBe(400);
    expect(reply.text).toMatch(/^Failed to parse the request body as JSON: /);
  });

  it('answers 422 text for JSON of the wrong shape', async () => {
    const reply = await post('/embed', { input: 'wrong field name' });
    expect(reply.status).toBe(422);
    expect(reply.text).toMatch(/^Failed to deserialize the JSON body into the target type: .*`inputs`/);
  });

  it('answers 415 without a JSON content type', async () => {
    const reply = await teiCall(url, 'POST', '/embed', undefined, {
      apiKey,
      rawBody: '{"inputs":"x"}',
      contentType: 'text/plain',
    });
    expect(reply.status).toBe(415);
    expect(reply.text).toBe('Expected request with `Content-Type: application/json`');
  });

  it('answers 413 text for a body over the payload limit', async () => {
    const reply = await post('/embed', { inputs: 'x'.repeat(2_100_000) });
    expect(reply.status).toBe(413);
    expect(reply.text).toBe('Failed to buffer the request body: length limit exceeded');
  });
});
