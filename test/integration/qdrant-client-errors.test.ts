import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/errors.js';
import { Qdrant } from '../../src/qdrant/client.js';
import { type QdrantTestServer, startQdrantServer } from '../support/qdrant-server/index.js';

let server: QdrantTestServer;
let qdrant: Qdrant;

beforeAll(async () => {
  server = await startQdrantServer();
  qdrant = new Qdrant({ url: server.url, timeoutMs: 10_000 });
});
afterAll(async () => {
  await server?.close();
});

async function failure(): Promise<ServiceError> {
  const error = await qdrant.call('list collections', (apis) => apis.collections.list({})).catch((e) => e);
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

describe('Qdrant.call: which failures may be sent again', () => {
  it('retries a stream refused after GOAWAY (REFUSED_STREAM: not processed)', async () => {
    server.faults.goAwayNext(1, { method: 'Collections/List', refuse: true });
    const error = await failure();
    expect(error.message).toContain('NGHTTP2_REFUSED_STREAM');
    expect(error.retryable).toBe(true);
    // The next call opens a new connection and goes through.
    await expect(qdrant.call('list collections', (apis) => apis.collections.list({}))).resolves.toBeDefined();
  });

  it('does not retry any other INTERNAL error', async () => {
    server.faults.failNext(1, Code.Internal, 'Service internal error: injected', {
      method: 'Collections/List',
    });
    const error = await failure();
    expect(error.code).toBe('INTERNAL');
    expect(error.retryable).toBe(false);
  });

  it.each([
    ['UNAVAILABLE', Code.Unavailable, true],
    ['RESOURCE_EXHAUSTED', Code.ResourceExhausted, true],
    ['DEADLINE_EXCEEDED', Code.DeadlineExceeded, true],
    ['INVALID_ARGUMENT', Code.InvalidArgument, false],
    ['NOT_FOUND', Code.NotFound, false],
  ])('%s is retryable: %s', async (_name, code, retryable) => {
    server.faults.failNext(1, code, undefined, { method: 'Collections/List' });
    expect((await failure()).retryable).toBe(retryable);
  });
});
