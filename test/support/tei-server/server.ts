import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type BatchEvent, Batcher } from './batcher.js';
import { dispatch, type Flavor } from './dispatch.js';
import { TeiFaults } from './faults.js';
import { listen, send } from './http.js';
import { Permits, type TeiConfig, type TeiContext } from './inference.js';
import { emptyStats, TeiMetrics, type TeiStats } from './metrics.js';
import { openAiFlavor } from './openai-flavor.js';
import { teiFlavor } from './tei-flavor.js';

export interface TeiServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * `tei` (default): TEI 1.9.3's routes and answers. `openai`: an OpenAI-compatible embedding server
   * (vLLM, Infinity, Ollama, llama.cpp, OpenAI): `POST /v1/embeddings`, `GET /v1/models`, OpenAI
   * error bodies, no `/info` or `/embed`.
   */
  flavor?: 'tei' | 'openai';
  /** Full embedding size; `dimensions` in a request cuts a Matryoshka prefix. Default 1024. */
  dimensions?: number;
  /** Inputs per request (TEI's `--max-client-batch-size`). Default 32. */
  maxClientBatchSize?: number;
  /** Tokens per batch the backend runs (TEI's `--max-batch-tokens`). Default 16384. */
  maxBatchTokens?: number;
  /** Inputs per batch (TEI's `--max-batch-requests`; TEI on CPU forces 4). Default: no limit. */
  maxBatchRequests?: number;
  /** Default 32768, reported (and enforced) capped at `maxBatchTokens` as TEI does. */
  maxInputLength?: number;
  /** Concurrency permits, one per input in flight. Default 512. */
  maxConcurrentRequests?: number;
  /** Request body limit in bytes (TEI's `--payload-limit`). Default 2_000_000. */
  payloadLimitBytes?: number;
  /** Default true, as TEI 1.9.3's `--auto-truncate`. */
  autoTruncate?: boolean;
  /**
   * When set, every route but `GET /health`, `/`, `/ping`, `/metrics` needs `Authorization: Bearer <key>`.
   */
  apiKey?: string;
  /** Default `Qwen/Qwen3-Embedding-0.6B`. */
  modelId?: string;
  /** `--served-model-name`: what `/info` and the OpenAI routes name the model. Default `modelId`. */
  servedModelName?: string;
  /** Sentence-Transformers prompts for `prompt_name`. Default: Qwen3-Embedding's `query` and `document`. */
  prompts?: Record<string, string>;
  /** How `/rerank` and `/v1/rerank` score. Default `overlap`. */
  reranker?: 'reverse' | 'overlap';
  /**
   * Tokens per second the backend processes, like a GPU: requests queue, one batch runs at a time and
   * takes `tokens / serviceRate` seconds. Default: batches take no time.
   */
  serviceRate?: number;
  /** Count a batch as rows × longest row (a backend without variable-length attention). Default false. */
  padded?: boolean;
  /** Called at every batch start and end, in order. */
  onBatch?: (event: BatchEvent) => void;
}

export interface TeiTestServer {
  /** `http://host:port`, no trailing slash. */
  url: string;
  port: number;
  faults: TeiFaults;
  /** Live counters (mutated as requests arrive). */
  stats: TeiStats;
  /** Stops the server, drops keep-alive sockets and ends pending waits; never hangs. */
  close(): Promise<void>;
}

const qwen3Prompts = {
  query: 'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:',
  document: '',
};

/** Starts the in-process TEI 1.9.3 stand-in; see `TeiServerOptions` for what it enforces. */
export async function startTeiServer(options: TeiServerOptions = {}): Promise<TeiTestServer> {
  const maxBatchTokens = positive('maxBatchTokens', options.maxBatchTokens, 16_384);
  const modelId = options.modelId ?? 'Qwen/Qwen3-Embedding-0.6B';
  const config: TeiConfig = {
    modelId,
    servedModelName: options.servedModelName ?? modelId,
    dimensions: positive('dimensions', options.dimensions, 1024),
    maxClientBatchSize: positive('maxClientBatchSize', options.maxClientBatchSize, 32),
    maxBatchTokens,
    maxBatchRequests:
      options.maxBatchRequests === undefined
        ? undefined
        : positive('maxBatchRequests', options.maxBatchRequests, 1),
    maxInputLength: Math.min(positive('maxInputLength', options.maxInputLength, 32_768), maxBatchTokens),
    maxConcurrentRequests: positive('maxConcurrentRequests', options.maxConcurrentRequests, 512),
    autoTruncate: options.autoTruncate ?? true,
    prompts: options.prompts ?? qwen3Prompts,
    reranker: options.reranker ?? 'overlap',
  };
  if (
    options.serviceRate !== undefined &&
    !(options.serviceRate > 0 && Number.isFinite(options.serviceRate))
  ) {
    throw new TypeError(`Expected \`serviceRate\` to be a positive number, got \`${options.serviceRate}\``);
  }
  if (options.flavor !== undefined && options.flavor !== 'openai' && options.flavor !== 'tei') {
    throw new TypeError(`Expected \`flavor\` to be \`tei\` or \`openai\`, got \`${options.flavor}\``);
  }
  const flavor: Flavor = options.flavor === 'openai' ? openAiFlavor() : teiFlavor();
  const dispatchOptions = {
    apiKey: options.apiKey,
    payloadLimit: positive('payloadLimitBytes', options.payloadLimitBytes, 2_000_000),
  };
  const host = options.host ?? '127.0.0.1';
  const stats = emptyStats();
  const metrics = new TeiMetrics(config.maxInputLength);
  const batcher = new Batcher(
    {
      maxBatchTokens,
      maxBatchRequests: config.maxBatchRequests,
      padded: options.padded ?? false,
      serviceRate: options.serviceRate,
    },
    stats,
    metrics,
    options.onBatch,
  );
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
    permits: new Permits(config.maxConcurrentRequests, stats),
    batcher,
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
    dispatch(ctx, flavor, dispatchOptions, req, res).catch((error: unknown) => {
      send(stats, res, { status: 500, body: String(error), contentType: 'text/plain', headers: {} }, false);
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
      batcher.close();
      for (const wake of [...sleepers]) wake();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await stopped;
    },
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`Expected \`${name}\` to be a positive integer, got \`${value}\``);
  }
  return value;
}
