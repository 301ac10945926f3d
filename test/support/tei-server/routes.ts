import type { RequestBody } from './dispatch.js';
import { embedInto, finish, vectorBase64, vectorJson } from './embedder.js';
import { messages, Rejection, TeiError } from './errors.js';
import { isJson, json, type Reply } from './http.js';
import {
  checkBatchSize,
  inferAll,
  newTimings,
  promptFor,
  recordEmbedded,
  type TeiContext,
  type Timings,
  timingHeaders,
  tokenizeAll,
  withPermits,
} from './inference.js';
import { parseCohereRerank, parseEmbed, parseOpenAi, parseRerank, parseTokenize } from './requests.js';
import { scoreDocuments } from './scoring.js';
import { countChars, type Encoded, tokenize } from './tokenizer.js';

/**
 * TEI's route handlers (router/src/http/server.rs), each in TEI's order of checks: request count,
 * empty batch, batch size, one permit per input (429), tokenisation, the batcher, then the answer.
 */

/** axum's `Json` extractor: content type (415), body limit (413), syntax (400), in that order. */
export function jsonBody(request: RequestBody): unknown {
  if (!isJson(request.contentType)) throw new Rejection(415, messages.contentType);
  if (request.raw === undefined) throw new Rejection(413, messages.bodyTooLarge);
  if ('syntaxError' in request.parsed) throw new Rejection(400, messages.syntax(request.parsed.syntaxError));
  return request.parsed.value;
}

/** `POST /embed` (also `/` and `/invocations`): `[[f32]]`. */
export async function embedRoute(ctx: TeiContext, request: RequestBody): Promise<Reply> {
  const body = parseEmbed(jsonBody(request));
  const timings = newTimings();
  const single = typeof body.inputs === 'string';
  const texts = batchOf(ctx, body.inputs);
  return withPermits(ctx, texts.length, async () => {
    checkZeroDimensions(ctx, body.dimensions);
    const encoded = tokenizeAll(ctx, texts, {
      task: 'embed',
      truncate: body.truncate ?? ctx.config.autoTruncate,
      direction: body.truncationDirection,
      prompt: promptFor(ctx.config, body.promptName),
    });
    await inferAll(ctx, encoded, request.dropped, timings);
    const dimensions = checkDimensions(ctx, body.dimensions);
    const parts = encoded.map((item) => vectorJson(vectorOf(ctx, item.text, dimensions, body.normalize)));
    return succeed(ctx, single, texts, encoded, timings, `[${parts.join(',')}]`);
  });
}

/** `POST /v1/embeddings` (also `/embeddings`): OpenAI's list shape, always normalised. */
export async function openAiRoute(ctx: TeiContext, request: RequestBody): Promise<Reply> {
  const body = parseOpenAi(jsonBody(request));
  const timings = newTimings();
  const single = typeof body.input === 'string';
  const texts = batchOf(ctx, body.input);
  return withPermits(ctx, texts.length, async () => {
    checkZeroDimensions(ctx, body.dimensions);
    const encoded = tokenizeAll(ctx, texts, {
      task: 'embed',
      truncate: ctx.config.autoTruncate,
      direction: 'Right',
      prompt: undefined,
    });
    await inferAll(ctx, encoded, request.dropped, timings);
    const dimensions = checkDimensions(ctx, body.dimensions);
    const base64 = body.encodingFormat === 'base64';
    const data = encoded.map((item, index) => {
      const vector = vectorOf(ctx, item.text, dimensions, true);
      const embedding = base64 ? `"${vectorBase64(vector)}"` : vectorJson(vector);
      return `{"object":"embedding","embedding":${embedding},"index":${index}}`;
    });
    const tokens = tokenSum(encoded);
    // TEI answers its served model name whatever `model` the request named (it only logs a warning).
    const answer =
      `{"object":"list","data":[${data.join(',')}],"model":${JSON.stringify(ctx.config.servedModelName)},` +
      `"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}}`;
    return succeed(ctx, single, texts, encoded, timings, answer);
  });
}

/** `POST /rerank`: `[{index, text?, score}]`, best first. */
export async function rerankRoute(ctx: TeiContext, request: RequestBody): Promise<Reply> {
  const body = parseRerank(jsonBody(request));
  const timings = newTimings();
  if (body.texts.length === 0) {
    ctx.metrics.increment('te_request_failure{err="validation"}');
    throw new TeiError('Empty', messages.emptyTexts);
  }
  ctx.metrics.increment('te_request_count{method="batch"}');
  checkBatchSize(ctx, body.texts.length);
  return withPermits(ctx, body.texts.length, async () => {
    const encoded = tokenizeAll(
      ctx,
      body.texts.map((text) => `${body.query}\n${text}`),
      {
        task: 'predict',
        truncate: body.truncate ?? ctx.config.autoTruncate,
        direction: body.truncationDirection,
        prompt: undefined,
      },
    );
    await inferAll(ctx, encoded, request.dropped, timings);
    const scores = scoreDocuments(ctx.config.reranker, body.query, body.texts, body.rawScores);
    const ranks = scores.map((score, index) =>
      body.returnText ? { index, text: body.texts[index]!, score } : { index, score },
    );
    // TEI sorts ascending (stable) and reverses, so ties come out with the higher index first.
    ranks.sort((a, b) => a.score - b.score).reverse();
    ctx.metrics.increment('te_predict_success', encoded.length);
    ctx.metrics.increment('te_request_success{method="batch"}');
    const computeChars = countChars(body.query) * body.texts.length + chars(body.texts);
    return json(JSON.stringify(ranks), timingHeaders(ctx, timings, computeChars, tokenSum(encoded)));
  });
}

/**
 * `POST /v1/rerank`, Cohere/Jina style: `{model, results: [{index, relevance_score, document?}], usage}`.
 * TEI has no such route; servers that serve Qwen3-Reranker do, and this one stands in for them.
 */
export async function cohereRerankRoute(ctx: TeiContext, request: RequestBody): Promise<Reply> {
  const body = parseCohereRerank(jsonBody(request));
  const timings = newTimings();
  if (body.documents.length === 0) throw new TeiError('Empty', '`documents` cannot be empty', 400);
  return withPermits(ctx, body.documents.length, async () => {
    const encoded = tokenizeAll(
      ctx,
      body.documents.map((text) => `${body.query}\n${text}`),
      { task: 'predict', truncate: true, direction: 'Right', prompt: undefined },
    );
    await inferAll(ctx, encoded, request.dropped, timings);
    const scores = scoreDocuments(ctx.config.reranker, body.query, body.documents, false);
    const ranked = scores
      .map((relevance_score, index) =>
        body.returnDocuments
          ? { index, relevance_score, document: { text: body.documents[index]! } }
          : { index, relevance_score },
      )
      .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
      .slice(0, body.topN ?? body.documents.length);
    const answer = {
      model: body.model ?? ctx.config.modelId,
      results: ranked,
      usage: { total_tokens: tokenSum(encoded) },
    };
    const computeChars = countChars(body.query) * body.documents.length + chars(body.documents);
    return json(JSON.stringify(answer), timingHeaders(ctx, timings, computeChars, tokenSum(encoded)));
  });
}

/** `POST /tokenize`: `[[{id, text, special, start, stop}]]`, no timing headers (TEI sends none here). */
export async function tokenizeRoute(ctx: TeiContext, request: RequestBody): Promise<Reply> {
  const body = parseTokenize(jsonBody(request));
  let texts: string[];
  if (typeof body.inputs === 'string') {
    texts = [body.inputs];
  } else {
    if (body.inputs.length === 0) throw new TeiError('Empty', messages.emptyBatch);
    checkBatchSize(ctx, body.inputs.length);
    texts = body.inputs;
  }
  const prompt = promptFor(ctx.config, body.promptName);
  const result = texts.map((text) => {
    if (text.length === 0) throw new TeiError('Empty', messages.emptyInput);
    return tokenize(prompt ? prompt + text : text, body.addSpecialTokens);
  });
  return json(JSON.stringify(result));
}

/** `GET /info`, field for field as TEI 1.9.3's `Info` struct serialises. */
export async function infoRoute(ctx: TeiContext): Promise<Reply> {
  const { config } = ctx;
  return json(
    JSON.stringify({
      model_id: config.modelId,
      model_sha: null,
      model_dtype: 'float16',
      served_model_name: config.servedModelName,
      model_type: { embedding: { pooling: 'last_token' } },
      max_concurrent_requests: config.maxConcurrentRequests,
      max_input_length: config.maxInputLength,
      max_batch_tokens: config.maxBatchTokens,
      max_batch_requests: config.maxBatchRequests ?? null,
      max_client_batch_size: config.maxClientBatchSize,
      auto_truncate: config.autoTruncate,
      tokenization_workers: 2,
      version: '1.9.3',
      sha: null,
      docker_label: null,
    }),
  );
}

export async function metricsRoute(ctx: TeiContext): Promise<Reply> {
  return { status: 200, body: ctx.metrics.render(), contentType: 'text/plain; charset=utf-8', headers: {} };
}

export async function healthRoute(): Promise<Reply> {
  return { status: 200, body: '', contentType: '', headers: {} };
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

function checkZeroDimensions(ctx: TeiContext, requested: number | undefined): void {
  if (requested === 0) {
    ctx.metrics.increment('te_request_failure{err="validation"}');
    throw new TeiError('Validation', messages.zeroDimensions);
  }
}

function checkDimensions(ctx: TeiContext, requested: number | undefined): number {
  const full = ctx.config.dimensions;
  if (requested === undefined) return full;
  if (requested > full) {
    ctx.metrics.increment('te_request_failure{err="validation"}');
    throw new TeiError('Validation', messages.tooManyDimensions);
  }
  return requested;
}

function vectorOf(ctx: TeiContext, text: string, dimensions: number, normalize: boolean): Float32Array {
  embedInto(ctx.vectors.full, text);
  return finish(ctx.vectors.full, dimensions, normalize, ctx.vectors.out);
}

function succeed(
  ctx: TeiContext,
  single: boolean,
  texts: readonly string[],
  encoded: readonly Encoded[],
  timings: Timings,
  body: string,
): Reply {
  recordEmbedded(ctx, encoded, timings);
  ctx.metrics.increment(`te_request_success{method="${single ? 'single' : 'batch'}"}`);
  return json(body, timingHeaders(ctx, timings, chars(texts), tokenSum(encoded)));
}

function tokenSum(encoded: readonly Encoded[]): number {
  let tokens = 0;
  for (const item of encoded) tokens += item.tokens;
  return tokens;
}

function chars(texts: readonly string[]): number {
  let total = 0;
  for (const text of texts) total += countChars(text);
  return total;
}
