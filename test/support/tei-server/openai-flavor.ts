import type { Flavor, Handler, RequestBody, Route } from './dispatch.js';
import { embedInto, finish, vectorBase64, vectorJson } from './embedder.js';
import { TeiError } from './errors.js';
import type { FaultStatus } from './faults.js';
import { json, type Reply } from './http.js';
import {
  inferAll,
  newTimings,
  recordEmbedded,
  type TeiContext,
  tokenizeAll,
  withPermits,
} from './inference.js';
import { metricsRoute } from './routes.js';
import { countTokens, encode } from './tokenizer.js';

/**
 * An OpenAI-compatible embedding server, as vLLM, Infinity, Ollama, llama.cpp's server and OpenAI
 * itself answer `POST /v1/embeddings`: no `/info`, no `/embed`. Errors are
 * `{"error": {"message", "type", "param", "code"}}`: for request errors vLLM's words and types
 * (`BadRequestError`, code = the HTTP status); a missing or wrong key gets OpenAI's own 401 body
 * (vLLM answers a bare `{"error": "Unauthorized"}` there). Limits: `maxClientBatchSize` inputs per
 * request and `maxInputLength` tokens per input (vLLM's max_model_len), both 400 when exceeded, as
 * vLLM answers; `truncate_prompt_tokens` (vLLM) truncates instead. Too many inputs in flight is 429
 * with `retry-after`. `/health` and `/metrics` stay open.
 */
export function openAiFlavor(): Flavor {
  const routes = new Map<string, Route[]>();
  const add = (path: string, method: 'GET' | 'POST', handler: Handler, open = false) => {
    routes.set(path, [...(routes.get(path) ?? []), { method, handler, open }]);
  };
  add('/health', 'GET', async () => ({ status: 200, body: '', contentType: '', headers: {} }), true);
  add('/metrics', 'GET', metricsRoute, true);
  add('/v1/models', 'GET', modelsRoute);
  add('/v1/embeddings', 'POST', embeddingsRoute);
  return {
    cors: false,
    routes,
    unauthorized: (authorization) =>
      authorization === undefined
        ? errorReply(401, 'invalid_request_error', missingKey, null, null)
        : errorReply(401, 'invalid_request_error', wrongKey, null, 'invalid_api_key'),
    faultReply: (_ctx, status) => faultReply(status),
    errorReply: (error) => {
      if (error instanceof OpenAiError)
        return errorReply(error.status, error.type, error.message, error.param);
      if (error instanceof TeiError && error.errorType === 'Overloaded') return overloaded();
      if (error instanceof TeiError) return errorReply(400, typeByStatus[400]!, error.message);
      return undefined;
    },
  };
}

const missingKey =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
const wrongKey = 'Incorrect API key provided.';

/** The OpenAI Python SDK's exception names, which vLLM uses as error types. */
const typeByStatus: Record<number, string> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  413: 'RequestEntityTooLargeError',
  422: 'UnprocessableEntityError',
  424: 'FailedDependencyError',
  429: 'RateLimitError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

class OpenAiError extends Error {
  readonly type: string;
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.type = typeByStatus[status] ?? 'InternalServerError';
  }
}

function errorReply(
  status: number,
  type: string,
  message: string,
  param: string | null = null,
  code: string | number | null = status,
): Reply {
  return json(JSON.stringify({ error: { message, type, param, code } }), {}, status);
}

function overloaded(): Reply {
  const reply = errorReply(429, typeByStatus[429]!, 'The server is overloaded: too many inputs in flight.');
  reply.headers['retry-after'] = '1';
  return reply;
}

function faultReply(status: FaultStatus): Reply {
  const words: Record<FaultStatus, string> = {
    413: 'Request body too large.',
    422: 'Unprocessable input.',
    424: 'The model backend failed.',
    429: 'The server is overloaded: too many inputs in flight.',
    500: 'Internal server error.',
    503: 'The server is not ready.',
  };
  return errorReply(status, typeByStatus[status]!, words[status]);
}

let responses = 0;

interface EmbeddingsRequest {
  input: string[];
  model: string | undefined;
  encodingFormat: 'float' | 'base64';
  dimensions: number | undefined;
  truncatePromptTokens: number | undefined;
}

async function embeddingsRoute(ctx: TeiContext, request: RequestBody): Promise<Reply> {
  const body = parseRequest(ctx, request);
  const { config } = ctx;
  if (body.model !== undefined && body.model !== config.servedModelName) {
    throw new OpenAiError(404, `The model \`${body.model}\` does not exist.`, 'model');
  }
  if (body.input.length > config.maxClientBatchSize) {
    throw new OpenAiError(
      400,
      `'input' has ${body.input.length} items, more than the ${config.maxClientBatchSize} this server takes in one request.`,
      'input',
    );
  }
  const dimensions = body.dimensions ?? config.dimensions;
  if (dimensions < 1) throw new OpenAiError(400, 'Dimensions must be greater than 0', 'dimensions');
  if (dimensions > config.dimensions) {
    throw new OpenAiError(400, `Dimensions must be at most ${config.dimensions}`, 'dimensions');
  }
  const timings = newTimings();
  return withPermits(ctx, body.input.length, async () => {
    const limit = body.truncatePromptTokens;
    for (const text of body.input) {
      const tokens = countTokens(text);
      if (limit === undefined && tokens > config.maxInputLength) {
        throw new OpenAiError(
          400,
          `This model's maximum context length is ${config.maxInputLength} tokens. However, you requested ${tokens} tokens in the input for embedding generation. Please reduce the length of the input.`,
        );
      }
    }
    const truncated =
      limit === undefined ? body.input : body.input.map((text) => encode(text, true, limit, 'Right').text);
    const encoded = tokenizeAll(ctx, truncated, {
      task: 'embed',
      truncate: true,
      direction: 'Right',
      prompt: undefined,
    });
    await inferAll(ctx, encoded, request.dropped, timings);
    const data = encoded.map((item, index) => {
      embedInto(ctx.vectors.full, item.text);
      const vector = finish(ctx.vectors.full, dimensions, true, ctx.vectors.out);
      const embedding = body.encodingFormat === 'base64' ? `"${vectorBase64(vector)}"` : vectorJson(vector);
      return `{"index":${index},"object":"embedding","embedding":${embedding}}`;
    });
    recordEmbedded(ctx, encoded, timings);
    const tokens = encoded.reduce((sum, item) => sum + item.tokens, 0);
    responses += 1;
    return json(
      `{"id":"embd-${responses}","object":"list","created":${Math.floor(Date.now() / 1000)},` +
        `"model":${JSON.stringify(config.servedModelName)},"data":[${data.join(',')}],` +
        `"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens},"completion_tokens":0,"prompt_tokens_details":null}}`,
    );
  });
}

async function modelsRoute(ctx: TeiContext): Promise<Reply> {
  const { config } = ctx;
  return json(
    JSON.stringify({
      object: 'list',
      data: [
        {
          id: config.servedModelName,
          object: 'model',
          created: Math.floor(Date.now() / 1000),
          owned_by: 'vllm',
          root: config.modelId,
          parent: null,
          max_model_len: config.maxInputLength,
          permission: [],
        },
      ],
    }),
  );
}

/** vLLM's `EmbeddingCompletionRequest`, with its request validation answered as 400. */
function parseRequest(ctx: TeiContext, request: RequestBody): EmbeddingsRequest {
  if (request.raw === undefined) throw new OpenAiError(413, 'Request body too large.');
  if ('syntaxError' in request.parsed) {
    throw new OpenAiError(400, `JSON decode error: ${request.parsed.syntaxError}`);
  }
  const body = request.parsed.value;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new OpenAiError(400, 'Input should be a valid dictionary');
  }
  const fields = body as Record<string, unknown>;
  const raw = fields.input;
  let input: string[];
  if (typeof raw === 'string') input = [raw];
  else if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) input = raw as string[];
  else if (raw === undefined) throw new OpenAiError(400, "Field required: 'input'", 'input');
  else throw new OpenAiError(400, "'input' should be a string or a list of strings", 'input');
  if (input.length === 0) throw new OpenAiError(400, "'input' cannot be an empty list", 'input');
  if (input.some((text) => text.length === 0)) {
    throw new OpenAiError(400, "'input' cannot contain an empty string", 'input');
  }
  const format = fields.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw new OpenAiError(400, "'encoding_format' should be 'float' or 'base64'", 'encoding_format');
  }
  return {
    input,
    model: optional(fields, 'model', 'string') as string | undefined,
    encodingFormat: format,
    dimensions: optionalInteger(fields, 'dimensions'),
    truncatePromptTokens: truncation(ctx, optionalInteger(fields, 'truncate_prompt_tokens')),
  };
}

function truncation(ctx: TeiContext, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const max = ctx.config.maxInputLength;
  if (value === -1) return max;
  if (value < 1) {
    throw new OpenAiError(
      400,
      'truncate_prompt_tokens must be -1 or a positive integer',
      'truncate_prompt_tokens',
    );
  }
  if (value > max) {
    throw new OpenAiError(
      400,
      `truncate_prompt_tokens value (${value}) is greater than max_model_len (${max}). Please, select a smaller truncation size.`,
      'truncate_prompt_tokens',
    );
  }
  return value;
}

function optional(fields: Record<string, unknown>, key: string, type: 'string'): unknown {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type) throw new OpenAiError(400, `'${key}' should be a valid ${type}`, key);
  return value;
}

function optionalInteger(fields: Record<string, unknown>, key: string): number | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new OpenAiError(400, `'${key}' should be a valid integer`, key);
  }
  return value;
}
