import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { faultError, messages, Rejection, TeiError } from './errors.js';
import { TeiFaults } from './faults.js';
import { Permits, type TeiConfig, type TeiContext } from './inference.js';
import { emptyStats, TeiMetrics, type TeiStats } from './metrics.js';
import {
  cohereRerankRoute,
  embedRoute,
  infoRoute,
  metricsRoute,
  openAiRoute,
  type Reply,
  rerankRoute,
  tokenizeRoute,
} from './routes.js';

export interface TeiServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Full embedding size; `dimensions` in a request cuts a Matryoshka prefix. Default 1024. */
  dimensions?: number;
  /** Default 32. */
  maxClientBatchSize?: number;
  /** Default 16384. */
  maxBatchTokens?: number;
  /** Default 32768, reported (and enforced) capped at `maxBatchTokens` as TEI does. */
  maxInputLength?: number;
  /** Concurrency permits, one per input in flight. Default 512. */
  maxConcurrentRequests?: number;
  /** Request body limit in bytes (TEI's `--payload-limit`). Default 2_000_000. */
  payloadLimitBytes?: number;
  /** Default true (TEI's own default is false; taboot's deployments turn it on). */
  autoTruncate?: boolean;
  /** When set, every route but `GET /health`, `/`, `/ping`, `/metrics` needs `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Default `Qwen/Qwen3-Embedding-0.6B`. */
  modelId?: string;
  /** Sentence-Transformers prompts for `prompt_name`. Default: Qwen3-Embedding's `query` and `document`. */
  prompts?: Record<string, string>;
  /** How `/rerank` and `/v1/rerank` score. Default `overlap`. */
  reranker?: 'reverse' | 'overlap';
}

export interface TeiTestServer {
  /** `http://host:port`, no trailing slash. */
  url: string;
  port: number;
  faults: TeiFaults;
  /** Live counters (mutated as requests arrive). */
  stats: TeiStats;
  /** Stops the server, drops keep-alive sockets and ends pending latency waits; never hangs. */
  close(): Promise<void>;
}

const qwen3Prompts = {
  query: 'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:',
  document: '',
};

type Handler = (ctx: TeiContext, body: unknown) => Promise<Reply>;

const postRoutes: Record<string, { handler: Handler; openAiErrors: boolean }> = {
  '/embed': { handler: embedRoute, openAiErrors: false },
  '/': { handler: embedRoute, openAiErrors: false },
  '/invocations': { handler: embedRoute, openAiErrors: false },
  '/v1/embeddings': { handler: openAiRoute, openAiErrors: true },
  '/embeddings': { handler: openAiRoute, openAiErrors: true },
  '/rerank': { handler: rerankRoute, openAiErrors: false },
  '/v1/rerank': { handler: cohereRerankRoute, openAiErrors: true },
  '/tokenize': { handler: tokenizeRoute, openAiErrors: false },
};
const getRoutes = new Set(['/health', '/', '/ping', '/info', '/metrics']);
const publicGets = new Set(['/health', '/', '/ping', '/metrics']);

/** Starts the in-process TEI 1.9 stand-in; see `TeiServerOptions` for the limits it enforces. */
export async function startTeiServer(options: TeiServerOptions = {}): Promise<TeiTestServer> {
  const maxBatchTokens = positive('maxBatchTokens', options.maxBatchTokens, 16_384);
  const config: TeiConfig = {
    modelId: options.modelId ?? 'Qwen/Qwen3-Embedding-0.6B',
    dimensions: positive('dimensions', options.dimensions, 1024),
    maxClientBatchSize: positive('maxClientBatchSize', options.maxClientBatchSize, 32),
    maxBatchTokens,
    maxInputLength: Math.min(positive('maxInputLength', options.maxInputLength, 32_768), maxBatchTokens),
    maxConcurrentRequests: positive('maxConcurrentRequests', options.maxConcurrentRequests, 512),
    autoTruncate: options.autoTruncate ?? true,
    prompts: options.prompts ?? qwen3Prompts,
    reranker: options.reranker ?? 'overlap',
  };
  const payloadLimit = positive('payloadLimitBytes', options.payloadLimitBytes, 2_000_000);
  const host = options.host ?? '127.0.0.1';
  const stats = emptyStats();
  const metrics = new TeiMetrics(config.maxInputLength);
  const sockets = new Set<Socket>();
  const sleepers = new Set<() => void>();
  let closed = false;
  let down = false;

  const server = createServer({ keepAliveTimeout: 5_000 });
  const setDown = async (value: boolean): Promise<void> => {
    if (value === down || closed) return;
    down = value;
    if (value) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await stopped;
    } else {
      await listen(server, port, host);
    }
  };
  const ctx: TeiContext = {
    config,
    faults: new TeiFaults(setDown, () => down),
    stats,
    metrics,
    permits: new Permits(config.maxConcurrentRequests, stats, metrics),
    vectors: { full: new Float32Array(config.dimensions), out: new Float32Array(config.dimensions) },
    sleep: (ms) =>
      closed
        ? Promise.resolve()
        : new Promise((resolve) => {
            const done = () => {
              clearTimeout(timer);
              sleepers.delete(done);
              resolve();
            };
            const timer = setTimeout(done, ms);
            sleepers.add(done);
          }),
  };

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(ctx, options.apiKey, payloadLimit, req, res).catch((error: unknown) => {
      send(stats, res, { status: 500, body: String(error), contentType: 'text/plain', headers: {} });
    });
  });

  const port = await listen(server, options.port ?? 0, host);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    faults: ctx.faults,
    stats,
    async close() {
      if (closed) return;
      closed = true;
      for (const wake of [...sleepers]) wake();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await stopped;
    },
  };
}

async function handle(
  ctx: TeiContext,
  apiKey: string | undefined,
  payloadLimit: number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { stats, faults } = ctx;
  const method = req.method ?? 'GET';
  const path = (req.url ?? '/').split('?')[0]!;
  stats.requests[path] = (stats.requests[path] ?? 0) + 1;
  const body = await readBody(req, payloadLimit);
  const post = postRoutes[path];
  const known = post !== undefined || getRoutes.has(path);
  if (!known) return send(stats, res, empty(404));
  if ((method === 'POST' && !post) || (method === 'GET' && !getRoutes.has(path))) {
    return send(stats, res, { ...empty(405), headers: { allow: post ? 'POST' : 'GET,HEAD' } });
  }
  if (method !== 'GET' && method !== 'POST') return send(stats, res, empty(405));
  const isPublic = method === 'GET' && publicGets.has(path);
  if (apiKey !== undefined && !isPublic && req.headers.authorization !== `Bearer ${apiKey}`) {
    return send(stats, res, empty(401));
  }
  if (faults.takeReset(method, path)) {
    stats.resets += 1;
    req.socket.destroy();
    return;
  }
  const failure = faults.takeFailure(method, path);
  if (failure) {
    const reply = errorReply(faultError(failure.status), post?.openAiErrors ?? false);
    if (failure.retryAfterSeconds !== undefined)
      reply.headers['retry-after'] = String(failure.retryAfterSeconds);
    return send(stats, res, reply);
  }
  if (method === 'GET') {
    if (path === '/info') return send(stats, res, infoRoute(ctx));
    if (path === '/metrics') return send(stats, res, metricsRoute(ctx));
    return send(stats, res, empty(200));
  }
  try {
    if (!isJson(req.headers['content-type'])) throw new Rejection(415, messages.contentType);
    if (body === undefined) throw new Rejection(413, messages.bodyTooLarge);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new Rejection(400, messages.syntax((error as Error).message));
    }
    send(stats, res, await post!.handler(ctx, parsed));
  } catch (error) {
    if (error instanceof TeiError) return send(stats, res, errorReply(error, post!.openAiErrors));
    if (error instanceof Rejection) {
      return send(stats, res, {
        status: error.status,
        body: error.message,
        contentType: 'text/plain; charset=utf-8',
        headers: {},
      });
    }
    throw error;
  }
}

function errorReply(error: TeiError, openAi: boolean): Reply {
  return {
    status: error.status,
    body: openAi ? error.openAiBody() : error.nativeBody(),
    contentType: 'application/json',
    headers: {},
  };
}

function empty(status: number): Reply {
  return { status, body: '', contentType: '', headers: {} };
}

function send(stats: TeiStats, res: ServerResponse, reply: Reply): void {
  stats.statuses[reply.status] = (stats.statuses[reply.status] ?? 0) + 1;
  if (res.destroyed || res.headersSent) return;
  const headers: Record<string, string | number> = {
    ...reply.headers,
    'content-length': Buffer.byteLength(reply.body),
  };
  if (reply.contentType) headers['content-type'] = reply.contentType;
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

/** The whole body, or undefined when it is over `limit` bytes (the rest is read and dropped). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

function isJson(contentType: string | undefined): boolean {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || /^application\/[^/]+\+json$/.test(mime);
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`Expected \`${name}\` to be a positive integer, got \`${value}\``);
  }
  return value;
}
