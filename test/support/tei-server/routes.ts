import { embedInto, finish, vectorBase64, vectorJson } from './embedder.js';
import { messages, TeiError } from './errors.js';
import {
  checkBatchSize,
  newTimings,
  promptFor,
  runInference,
  type TeiContext,
  timingHeaders,
} from './inference.js';
import { parseCohereRerank, parseEmbed, parseOpenAi, parseRerank, parseTokenize } from './requests.js';
import { scoreDocuments } from './scoring.js';
import { countChars, tokenize } from './tokenizer.js';

/** What a route answers on success; errors are thrown as `TeiError` / `Rejection`. */
export interface Reply {
  status: number;
  body: string;
  contentType: string;
  headers: Record<string, string>;
}

const json = (body: string, headers: Record<string, string> = {}): Reply => ({
  status: 200,
  body,
  contentType: 'application/json',
  headers,
});

/** `POST /embed` (also `/` and `/invocations`): `[[f32]]`. */
export async function embedRoute(ctx: TeiContext, raw: unknown): Promise<Reply> {
  const request = parseEmbed(raw);
  const timings = newTimings();
  const single = typeof request.inputs === 'string';
  const texts = batchOf(ctx, request.inputs);
  const dimensions = checkDimensions(ctx, request.dimensions);
  const prompt = promptFor(ctx.config, request.promptName);
  const encoded = await runInference(
    ctx,
    texts,
    {
      single,
      truncate: request.truncate ?? ctx.config.autoTruncate,
      direction: request.truncationDirection,
      prompt,
    },
    timings,
  );
  const parts: string[] = [];
  let tokens = 0;
  for (const item of encoded) {
    parts.push(vectorJson(vectorOf(ctx, item.text, dimensions, request.normalize)));
    tokens += item.tokens;
  }
  succeed(ctx, single, texts.length, tokens);
  return json(`[${parts.join(',')}]`, timingHeaders(ctx, timings, chars(texts), tokens));
}

/** `POST /v1/embeddings` (also `/embeddings`): OpenAI's list shape, always normalised. */
export async function openAiRoute(ctx: TeiContext, raw: unknown): Promise<Reply> {
  const request = parseOpenAi(raw);
  const timings = newTimings();
  const single = typeof request.input === 'string';
  const texts = batchOf(ctx, request.input);
  const dimensions = checkDimensions(ctx, request.dimensions);
  const encoded = await runInference(
    ctx,
    texts,
    { single, truncate: ctx.config.autoTruncate, direction: 'Right', prompt: undefined },
    timings,
  );
  const base64 = request.encodingFormat === 'base64';
  const data: string[] = [];
  let tokens = 0;
  encoded.forEach((item, index) => {
    const vector = vectorOf(ctx, item.text, dimensions, true);
    const embedding = base64 ? `"${vectorBase64(vector)}"` : vectorJson(vector);
    data.push(`{"object":"embedding","embedding":${embedding},"index":${index}}`);
    tokens += item.tokens;
  });
  succeed(ctx, single, texts.length, tokens);
  const body =
    `{"object":"list","data":[${data.join(',')}],"model":${JSON.stringify(ctx.config.modelId)},` +
    `"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}}`;
  return json(body, timingHeaders(ctx, timings, chars(texts), tokens));
}

/** `POST /rerank`: `[{index, text?, score}]`, best first. */
export async function rerankRoute(ctx: TeiContext, raw: unknown): Promise<Reply> {
  const request = parseRerank(raw);
  const timings = newTimings();
  ctx.metrics.increment('te_request_count{method="batch"}');
  if (request.texts.length === 0) {
    ctx.metrics.increment('te_request_failure{err="validation"}');
    throw new TeiError('Empty', messages.emptyTexts);
  }
  checkBatchSize(ctx, request.texts.length);
  const encoded = await runInference(
    ctx,
    request.texts.map((text) => `${request.query}\n${text}`),
    {
      single: false,
      truncate: request.truncate ?? ctx.config.autoTruncate,
      direction: request.truncationDirection,
      prompt: undefined,
    },
    timings,
  );
  const scores = scoreDocuments(ctx.config.reranker, request.query, request.texts, request.rawScores);
  const ranks = scores.map((score, index) =>
    request.returnText ? { index, text: request.texts[index]!, score } : { index, score },
  );
  // TEI sorts ascending (stable) and reverses, so ties come out with the higher index first.
  ranks.sort((a, b) => a.score - b.score).reverse();
  const tokens = encoded.reduce((sum, item) => sum + item.tokens, 0);
  ctx.metrics.increment('te_request_success{method="batch"}');
  const computeChars = countChars(request.query) * request.texts.length + chars(request.texts);
  return json(JSON.stringify(ranks), timingHeaders(ctx, timings, computeChars, tokens));
}

/**
 * `POST /v1/rerank`, Cohere/Jina style: `{model, results: [{index, relevance_score, document?}], usage}`.
 * TEI has no such route; servers that serve Qwen3-Reranker do, and this one stands in for them.
 */
export async function cohereRerankRoute(ctx: TeiContext, raw: unknown): Promise<Reply> {
  const request = parseCohereRerank(raw);
  const timings = newTimings();
  if (request.documents.length === 0) throw new TeiError('Empty', '`documents` cannot be empty', 400);
  const encoded = await runInference(
    ctx,
    request.documents.map((text) => `${request.query}\n${text}`),
    { single: false, truncate: true, direction: 'Right', prompt: undefined },
    timings,
  );
  const scores = scoreDocuments(ctx.config.reranker, request.query, request.documents, false);
  const ranked = scores
    .map((relevance_score, index) =>
      request.returnDocuments
        ? { index, relevance_score, document: { text: request.documents[index]! } }
        : { index, relevance_score },
    )
    .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
    .slice(0, request.topN ?? request.documents.length);
  const tokens = encoded.reduce((sum, item) => sum + item.tokens, 0);
  const body = {
    model: request.model ?? ctx.config.modelId,
    results: ranked,
    usage: { total_tokens: tokens },
  };
  const computeChars = countChars(request.query) * request.documents.length + chars(request.documents);
  return json(JSON.stringify(body), timingHeaders(ctx, timings, computeChars, tokens));
}

/** `POST /tokenize`: `[[{id, text, special, start, stop}]]`, no timing headers (TEI sends none here). */
export async function tokenizeRoute(ctx: TeiContext, raw: unknown): Promise<Reply> {
  const request = parseTokenize(raw);
  let texts: string[];
  if (typeof request.inputs === 'string') {
    texts = [request.inputs];
  } else {
    if (request.inputs.length === 0) throw new TeiError('Empty', messages.emptyBatch);
    checkBatchSize(ctx, request.inputs.length);
    texts = request.inputs;
  }
  const prompt = promptFor(ctx.config, request.promptName);
  const result = texts.map((text) => {
    if (text.length === 0) throw new TeiError('Empty', messages.emptyInput);
    return tokenize(prompt ? prompt + text : text, request.addSpecialTokens);
  });
  return json(JSON.stringify(result));
}

/** `GET /info`, field for field as TEI's `Info` struct serialises. */
export function infoRoute(ctx: TeiContext): Reply {
  const { config } = ctx;
  return json(
    JSON.stringify({
      model_id: config.modelId,
      model_sha: null,
      model_dtype: 'float16',
      model_type: { embedding: { pooling: 'last_token' } },
      max_concurrent_requests: config.maxConcurrentRequests,
      max_input_length: config.maxInputLength,
      max_batch_tokens: config.maxBatchTokens,
      max_batch_requests: null,
      max_client_batch_size: config.maxClientBatchSize,
      auto_truncate: config.autoTruncate,
      tokenization_workers: 2,
      version: '1.9.0',
      sha: null,
      docker_label: null,
    }),
  );
}

export function metricsRoute(ctx: TeiContext): Reply {
  return { status: 200, body: ctx.metrics.render(), contentType: 'text/plain; charset=utf-8', headers: {} };
}

function batchOf(ctx: TeiContext, inputs: string | string[]): string[] {
  const single = typeof inputs === 'string';
  ctx.metrics.increment(`te_request_count{method="${single ? 'single' : 'batch'}"}`);
  if (single) return [inputs];
  if (inputs.length === 0) {
    ctx.metrics.increment('te_request_failure{err="validation"}');
    throw new TeiError('Empty', messages.emptyBatch);
  }
  checkBatchSize(ctx, inputs.length);
  return inputs;
}

function checkDimensions(ctx: TeiContext, requested: number | undefined): number {
  const full = ctx.config.dimensions;
  if (requested === undefined) return full;
  if (requested < 1 || requested > full)
    throw new TeiError('Validation', messages.badDimensions(full, requested));
  return requested;
}

function vectorOf(ctx: TeiContext, text: string, dimensions: number, normalize: boolean): Float32Array {
  embedInto(ctx.vectors.full, text);
  return finish(ctx.vectors.full, dimensions, normalize, ctx.vectors.out);
}

function succeed(ctx: TeiContext, single: boolean, inputs: number, tokens: number): void {
  ctx.stats.inputsEmbedded += inputs;
  ctx.stats.promptTokens += tokens;
  ctx.metrics.increment(`te_request_success{method="${single ? 'single' : 'batch'}"}`);
  ctx.metrics.increment('te_embed_count', inputs);
  ctx.metrics.increment('te_embed_success', inputs);
}

function chars(texts: string[]): number {
  let total = 0;
  for (const text of texts) total += countChars(text);
  return total;
}
