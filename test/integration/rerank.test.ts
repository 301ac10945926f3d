import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/errors.js';
import { createReranker, type RerankerClient, type RerankerSettings } from '../../src/search/rerank.js';
import { startTeiServer, type TeiServerOptions, type TeiTestServer } from '../support/tei-server/index.js';

const servers: TeiTestServer[] = [];
const rawServers: Server[] = [];
const clients: RerankerClient[] = [];

async function startTei(options: TeiServerOptions = {}): Promise<TeiTestServer> {
  const server = await startTeiServer(options);
  servers.push(server);
  return server;
}

function reranker(settings: Partial<RerankerSettings> & { url: string }): RerankerClient {
  const client = createReranker({ kind: 'tei', timeoutMs: 5_000, ...settings });
  clients.push(client);
  return client;
}

interface Captured {
  path: string;
  authorization: string | undefined;
  body: unknown;
}

/** A server that records each request and answers with `reply`, for shapes the TEI test server never sends. */
async function startRaw(
  reply: (request: Captured) => { status?: number; body: string; contentType?: string },
): Promise<{ url: string; requests: Captured[] }> {
  const requests: Captured[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      const captured = {
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body: JSON.parse(text),
      };
      requests.push(captured);
      const answer = reply(captured);
      res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'application/json' });
      res.end(answer.body);
    });
  });
  rawServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(
    rawServers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function caught(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    return error as ServiceError;
  }
  throw new Error('expected the call to fail');
}

const documents = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];

describe.each(['tei', 'cohere'] as const)('%s reranker against the TEI test server', (kind) => {
  it('returns the reranker order, best first, cut to topN', async () => {
    const server = await startTei({ reranker: 'reverse' });
    const results = await reranker({ url: server.url, kind }).rerank('query', documents, 3);
    expect(results.map((result) => result.index)).toEqual([4, 3, 2]);
    for (const result of results) expect(result.score).toBeGreaterThan(0);
    expect(results[0]!.score).toBeGreaterThan(results[1]!.score);
    expect(results[1]!.score).toBeGreaterThan(results[2]!.score);
    expect(server.stats.requests[kind === 'tei' ? '/rerank' : '/v1/rerank']).toBe(1);
  });

  it('ranks the documents that share the query words first', async () => {
    const server = await startTei({ reranker: 'overlap' });
    const results = await reranker({ url: server.url, kind }).rerank(
      'scrape targets',
      ['alerting rules', 'scrape configuration for targets', 'recording rules', 'scrape interval'],
      2,
    );
    expect(results.map((result) => result.index)).toEqual([1, 3]);
  });

  it('splits more documents than maxBatchSize into requests and merges them with global indexes', async () => {
    const server = await startTei({ reranker: 'reverse' });
    const many = Array.from({ length: 70 }, (_, i) => `document ${i}`);
    const results = await reranker({ url: server.url, kind, maxBatchSize: 32 }).rerank('query', many, 4);
    // Each batch scores its own last document highest, equally: ties go to the lower index.
    expect(results.map((result) => result.index)).toEqual([31, 63, 69, 30]);
    expect(server.stats.requests[kind === 'tei' ? '/rerank' : '/v1/rerank']).toBe(3);
  });

  it('answers [] for no documents without a request', async () => {
    const server = await startTei();
    expect(await reranker({ url: server.url, kind }).rerank('query', [], 5)).toEqual([]);
    expect(server.stats.requests['/rerank'] ?? 0).toBe(0);
    expect(server.stats.requests['/v1/rerank'] ?? 0).toBe(0);
  });

  it('sends the api key as a bearer token and names the setting on 401', async () => {
    const server = await startTei({ apiKey: 'sesame', reranker: 'reverse' });
    const allowed = await reranker({ url: server.url, kind, apiKey: 'sesame' }).rerank('q', documents, 1);
    expect(allowed).toHaveLength(1);
    const error = await caught(
      reranker({ url: server.url, kind, apiKey: 'wrong' }).rerank('q', documents, 1),
    );
    expect(error.service).toBe('reranker');
    expect(error.code).toBe('401');
    expect(error.retryable).toBe(false);
    expect(error.hint).toBe('Check search.reranker.apiKey.');
  });

  it('reports an unreachable server as a retryable reranker error naming the URL', async () => {
    const server = await startTei();
    await server.faults.down();
    const error = await caught(reranker({ url: server.url, kind }).rerank('q', documents, 1));
    expect(error.service).toBe('reranker');
    expect(error.url).toBe(server.url);
    expect(error.message).toBe(`reranker at ${server.url}: cannot connect (ECONNREFUSED)`);
    expect(error.retryable).toBe(true);
    expect(error.hint).toBe('Is the reranker running? Check search.reranker.url.');
  });

  it('reports 503 as retryable and 429 with its retry-after', async () => {
    const server = await startTei();
    const client = reranker({ url: server.url, kind });
    server.faults.failNext(1, 503);
    const unhealthy = await caught(client.rerank('q', documents, 1));
    expect(unhealthy.code).toBe('503');
    expect(unhealthy.retryable).toBe(true);
    expect(unhealthy.message).toContain('unhealthy');

    server.faults.failNext(1, 429, { retryAfterSeconds: 2 });
    const overloaded = await caught(client.rerank('q', documents, 1));
    expect(overloaded.code).toBe('429');
    expect(overloaded.retryAfterMs).toBe(2000);
    expect(overloaded.message).toBe(
      `reranker at ${server.url}: ${kind === 'tei' ? '/rerank' : '/v1/rerank'} answered 429: Model is overloaded`,
    );

    expect(await client.rerank('q', documents, 1)).toHaveLength(1);
  });

  it('reports a timeout as retryable', async () => {
    const server = await startTei();
    server.faults.latencyMs = 2_000;
    const error = await caught(reranker({ url: server.url, kind, timeoutMs: 100 }).rerank('q', documents, 1));
    expect(error.code).toBe('TIMEOUT');
    expect(error.retryable).toBe(true);
  });

  it('stops on an aborted signal with the abort, not a service error', async () => {
    const server = await startTei();
    const controller = new AbortController();
    controller.abort();
    await expect(
      reranker({ url: server.url, kind }).rerank('q', documents, 1, controller.signal),
    ).rejects.not.toBeInstanceOf(ServiceError);
  });
});

describe('request bodies', () => {
  it('TEI gets {query, texts, truncate: true, raw_scores: false} on /rerank', async () => {
    const raw = await startRaw(() => ({ body: '[{"index":1,"score":0.9},{"index":0,"score":0.1}]' }));
    const results = await reranker({ url: raw.url, kind: 'tei', model: 'ignored', apiKey: 'k' }).rerank(
      'q',
      ['a', 'b'],
      2,
    );
    expect(results).toEqual([
      { index: 1, score: 0.9 },
      { index: 0, score: 0.1 },
    ]);
    expect(raw.requests).toEqual([
      {
        path: '/rerank',
        authorization: 'Bearer k',
        body: { query: 'q', texts: ['a', 'b'], truncate: true, raw_scores: false },
      },
    ]);
  });

  it('Cohere/Jina gets {model, query, documents, top_n} on /v1/rerank', async () => {
    const raw = await startRaw(() => ({ body: '{"results":[{"index":1,"relevance_score":0.8}]}' }));
    const results = await reranker({
      url: raw.url,
      kind: 'cohere',
      model: 'Qwen/Qwen3-Reranker-0.6B',
    }).rerank('q', ['a', 'b', 'c'], 1);
    expect(results).toEqual([{ index: 1, score: 0.8 }]);
    expect(raw.requests).toEqual([
      {
        path: '/v1/rerank',
        authorization: undefined,
        body: { model: 'Qwen/Qwen3-Reranker-0.6B', query: 'q', documents: ['a', 'b', 'c'], top_n: 1 },
      },
    ]);
  });

  it('leaves model out when none is set and sorts an unsorted reply itself', async () => {
    const raw = await startRaw(() => ({
      body: '{"results":[{"index":0,"relevance_score":0.2},{"index":2,"relevance_score":0.7},{"index":1,"relevance_score":0.7}]}',
    }));
    const results = await reranker({ url: raw.url, kind: 'cohere' }).rerank('q', ['a', 'b', 'c'], 3);
    expect(results.map((result) => result.index)).toEqual([1, 2, 0]);
    expect(raw.requests[0]!.body).toEqual({ query: 'q', documents: ['a', 'b', 'c'], top_n: 3 });
  });
});

describe('malformed replies', () => {
  it.each<[string, RerankerSettings['kind'], string, string]>([
    ['not JSON', 'tei', '<html>oops</html>', 'not JSON: "<html>oops</html>"'],
    ['an object instead of a list', 'tei', '{"results":[]}', 'expected a list of {index, score}'],
    ['an index out of range', 'tei', '[{"index":2,"score":0.5}]', 'result 0 has index 2, expected 0 to 1'],
    ['a fractional index', 'tei', '[{"index":0.5,"score":0.5}]', 'result 0 has index 0.5, expected 0 to 1'],
    ['a missing score', 'tei', '[{"index":0}]', 'result 0 has score undefined, expected a number'],
    [
      'a duplicated index',
      'tei',
      '[{"index":0,"score":0.5},{"index":0,"score":0.4}]',
      'index 0 appears twice',
    ],
    ['a list instead of {results}', 'cohere', '[]', 'expected {results: [{index, relevance_score}]}'],
    ['null', 'cohere', 'null', 'expected {results: [{index, relevance_score}]}'],
    [
      'a string score',
      'cohere',
      '{"results":[{"index":0,"relevance_score":"high"}]}',
      'result 0 has relevance_score "high", expected a number',
    ],
  ])('%s (%s) is a clear, non-retryable reranker error', async (_name, kind, body, why) => {
    const raw = await startRaw(() => ({ body }));
    const error = await caught(reranker({ url: raw.url, kind }).rerank('q', ['a', 'b'], 2));
    const route = kind === 'tei' ? '/rerank' : '/v1/rerank';
    expect(error.message).toBe(`reranker at ${raw.url}: ${route} answered an unexpected body: ${why}`);
    expect(error.service).toBe('reranker');
    expect(error.code).toBe('BAD_RESPONSE');
    expect(error.retryable).toBe(false);
  });

  it('TEI serving a model without a classifier head is not retryable and says what to use', async () => {
    const raw = await startRaw(() => ({
      status: 424,
      body: '{"error":"Backend error: Inference error: model is not a re-ranker model","error_type":"Backend"}',
    }));
    const error = await caught(reranker({ url: raw.url, kind: 'tei' }).rerank('q', ['a'], 1));
    expect(error.message).toBe(
      `reranker at ${raw.url}: /rerank answered 424: Backend error: Inference error: model is not a re-ranker model`,
    );
    expect(error.retryable).toBe(false);
    expect(error.hint).toContain('search.reranker.kind: cohere');
  });

  it('a missing route points at search.reranker.kind', async () => {
    const raw = await startRaw(() => ({ status: 404, body: '', contentType: 'text/plain' }));
    const error = await caught(reranker({ url: raw.url, kind: 'cohere' }).rerank('q', ['a'], 1));
    expect(error.code).toBe('404');
    expect(error.retryable).toBe(false);
    expect(error.hint).toBe(
      'The server has no /v1/rerank route: search.reranker.kind cohere expects a Cohere/Jina-style /v1/rerank; use kind tei for TEI.',
    );
  });
});

describe('argument checks', () => {
  it('rejects a topN that is not a positive integer', async () => {
    const client = reranker({ url: 'http://127.0.0.1:9' });
    await expect(client.rerank('q', ['a'], 0)).rejects.toThrow(
      'Expected `topN` to be a positive integer, got `0`',
    );
    await expect(client.rerank('q', ['a'], 1.5)).rejects.toThrow(
      'Expected `topN` to be a positive integer, got `1.5`',
    );
  });

  it('rejects a maxBatchSize that is not a positive integer', () => {
    expect(() =>
      createReranker({ url: 'http://127.0.0.1:9', kind: 'tei', timeoutMs: 1000, maxBatchSize: 0 }),
    ).toThrow('Expected `maxBatchSize` to be a positive integer, got `0`');
  });
});
