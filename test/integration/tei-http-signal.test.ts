import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeiDispatcher, type TeiEndpoint, teiRequest } from '../../src/embed/tei-http.js';
import { startTeiServer, type TeiTestServer } from '../support/tei-server/index.js';

let server: TeiTestServer;
let endpoint: TeiEndpoint;

beforeAll(async () => {
  server = await startTeiServer();
  endpoint = { url: server.url, timeoutMs: 10_000, dispatcher: createTeiDispatcher(4) };
});
afterAll(async () => {
  await server?.close();
});

const embed = (signal: AbortSignal) => teiRequest(endpoint, 'POST', '/embed', { inputs: ['hello'] }, signal);

describe('teiRequest and the signal a whole run shares', () => {
  it('leaves no listener on the shared signal once a request is answered', async () => {
    const shared = new AbortController();
    for (let i = 0; i < 5; i += 1) {
      await embed(shared.signal);
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    }
  });

  it('holds one listener per request in flight, and none once they are all answered', async () => {
    const shared = new AbortController();
    const requests = Array.from({ length: 12 }, () => embed(shared.signal));
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(12);
    await Promise.all(requests);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  });

  it('still cancels a request in flight when the shared signal aborts', async () => {
    server.faults.delay(60_000, { times: 1 });
    try {
      const shared = new AbortController();
      const request = embed(shared.signal);
      await expect.poll(() => server.stats.requests['/embed'] ?? 0).toBeGreaterThan(0);
      shared.abort(new Error('stop'));
      await expect(request).rejects.toThrow('stop');
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    } finally {
      await server.faults.reset();
    }
  });
});
