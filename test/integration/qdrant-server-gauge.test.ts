import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { Distance, QdrantClient } from '@qdrant/js-client-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServices } from '../support/qdrant-server/descriptors.js';
import { type CallEvent, type QdrantTestServer, startQdrantServer } from '../support/qdrant-server/index.js';

/** Resolves with the first event that `match` accepts. */
function nextEvent(server: QdrantTestServer, match: (event: CallEvent) => boolean): Promise<CallEvent> {
  return new Promise((resolve) => {
    const stop = server.gauge.listen((event) => {
      if (!match(event)) return;
      stop();
      resolve(event);
    });
  });
}

// The gauge is the test server's own, started here whatever TABOOT_TEST_QDRANT_URL says.
describe('Qdrant test server call gauge', () => {
  let server: QdrantTestServer;
  let client: QdrantClient;

  beforeAll(async () => {
    server = await startQdrantServer();
    client = new QdrantClient({ url: server.url, checkCompatibility: false, compression: false });
    await client.api('collections').create({
      collectionName: 'docs',
      vectorsConfig: { config: { case: 'params', value: { size: 2n, distance: Distance.Cosine } } },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('counts calls in flight per method and tells each start and end in order', async () => {
    const events: CallEvent[] = [];
    const stop = server.gauge.listen((event) => events.push(event));
    server.faults.latencyByMethod.set('Points/Count', 50);
    try {
      const both = Promise.all([
        client.api('points').count({ collectionName: 'docs' }),
        client.api('points').count({ collectionName: 'docs' }),
      ]);
      await nextEvent(server, (event) => event.method === 'Points/Count' && event.inFlight === 2);
      expect(server.gauge.inFlight.get('Points/Count')).toBe(2);
      await both;
      await client.api('collections').list({});
    } finally {
      stop();
      server.faults.reset();
    }
    expect(server.gauge.inFlight.get('Points/Count')).toBe(0);
    expect(events.map((event) => `${event.method} ${event.phase} ${event.inFlight}`)).toEqual([
      'Points/Count start 1',
      'Points/Count start 2',
      'Points/Count end 1',
      'Points/Count end 0',
      'Collections/List start 1',
      'Collections/List end 0',
    ]);
    const times = events.map((event) => event.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('ends a delayed call the client cancels, instead of counting it until the delay passes', async () => {
    server.faults.latencyByMethod.set('Points/Count', 600_000);
    const controller = new AbortController();
    try {
      const started = nextEvent(
        server,
        (event) => event.method === 'Points/Count' && event.phase === 'start',
      );
      // js-client-grpc replaces a call's signal with its own timeout's: cancel through connect itself.
      const points = createClient(
        (await loadServices()).points,
        createGrpcTransport({ baseUrl: server.url, useBinaryFormat: true }),
      );
      const call = points
        .count({ collectionName: 'docs' }, { signal: controller.signal })
        .catch((error: unknown) => error);
      await started;
      const ended = nextEvent(server, (event) => event.method === 'Points/Count' && event.phase === 'end');
      controller.abort();
      expect((await ended).inFlight).toBe(0);
      expect(await call).toBeInstanceOf(Error);
    } finally {
      server.faults.reset();
    }
  });
});
