import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Counters } from './accounting.js';
import type { ServerState } from './state.js';

const startedAt = new Date();

/**
 * The part of Qdrant's REST API (port 6333) that tools read beside gRPC: `GET /` and
 * `GET /telemetry?details_level=N` in Qdrant 1.19's shape, with `requests.grpc.responses` counting
 * this server's gRPC calls per method and status code. A build without GPU support
 * (`app.features.gpu` false). Anything else answers 404.
 */
export async function startRest(options: {
  host: string;
  port: number;
  apiKey: string | undefined;
  state: ServerState;
  counters: Counters;
}): Promise<{ url: string; server: Server }> {
  const { state, counters } = options;
  const server = createServer((request, response) => {
    const started = performance.now();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown) => {
      response.statusCode = status;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(body));
    };
    const key = request.headers['api-key'] ?? request.headers.authorization?.replace(/^Bearer /, '');
    if (options.apiKey !== undefined && key !== options.apiKey) {
      send(401, { status: { error: 'Must provide an API key or an Authorization bearer token' } });
      return;
    }
    if (request.method === 'GET' && url.pathname === '/') {
      send(200, { title: 'qdrant - vector search engine', version: '1.19.0' });
      return;
    }
    if (request.method === 'GET' && url.pathname === '/telemetry') {
      const level = Number(url.searchParams.get('details_level') ?? 0) || 0;
      const app: Record<string, unknown> = {
        name: 'qdrant',
        version: '1.19.0',
        startup: startedAt.toISOString(),
      };
      if (level >= 1) {
        app.features = {
          debug: false,
          service_debug_feature: false,
          recovery_mode: false,
          gpu: false,
          rocksdb: false,
          staging: false,
        };
      }
      send(200, {
        result: {
          id: 'qdrant-test-server',
          app,
          collections: { number_of_collections: state.collections.size },
          requests: { rest: { responses: {} }, grpc: { responses: counters.telemetry(level) } },
        },
        status: 'ok',
        time: (performance.now() - started) / 1000,
      });
      return;
    }
    send(404, { status: { error: `Not found: ${url.pathname}` } });
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return { url: `http://${options.host}:${port}`, server };
}
