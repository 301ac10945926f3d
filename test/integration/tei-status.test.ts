import { afterEach, describe, expect, it } from 'vitest';
import { createTeiDispatcher, teiEndpoints } from '../../src/embed/tei-http.js';
import { readTeiStatus } from '../../src/gpu/tei-status.js';
import { teiCall } from '../support/tei-server/client.js';
import { startTeiServer, type TeiTestServer } from '../support/tei-server/index.js';

/**
 * `gpu-status`'s TEI section against the TEI test server, whose batcher records an empty batch each
 * time its queue drains, as TEI's queue.rs does: the batch figures must match the batches it ran.
 * Always against the test server it starts (the test counts its batches), in a real-server run too.
 */
let server: TeiTestServer | undefined;

afterEach(async () => {
  await server?.close();
});

describe('TEI status from /metrics', () => {
  it('reports the batches the server ran and their mean size, not the drains of its queue', async () => {
    server = await startTeiServer({ maxBatchRequests: 3 });
    for (const count of [5, 2, 7]) {
      const inputs = Array.from({ length: count }, (_, i) => `text number ${i} of ${count}`);
      expect((await teiCall(server.url, 'POST', '/embed', { inputs })).status).toBe(200);
    }
    const dispatcher = createTeiDispatcher(1);
    try {
      const [endpoint] = teiEndpoints({ url: server.url, timeoutMs: 5000 }, dispatcher);
      const status = await readTeiStatus(endpoint!, 5000);
      const { backend } = server.stats;
      expect(backend.batches).toBeGreaterThan(3);
      expect(status.metrics).toMatchObject({ available: true, batches: backend.batches });
      expect(status.metrics.meanBatchSize).toBeCloseTo(backend.inputs / backend.batches, 9);
      expect(status.metrics.meanBatchTokens).toBeCloseTo(backend.tokens / backend.batches, 9);
    } finally {
      await dispatcher.close();
    }
  });
});
