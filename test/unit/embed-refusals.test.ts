import { describe, expect, it } from 'vitest';
import { openAiProtocol } from '../../src/embed/openai-protocol.js';
import { readErrorBody, retryAfterMs, teiProtocol } from '../../src/embed/tei-http.js';

/** What each server's refusal means to taboot: retry it, split the batch, or stop with a hint. */
function openAi(status: number, body: unknown) {
  return openAiProtocol.classify(status, readErrorBody(Buffer.from(JSON.stringify(body))));
}

const vllm = (message: string, status = 400, param: string | null = null) => ({
  error: { message, type: 'BadRequestError', param, code: status },
});

describe('OpenAI-compatible refusals', () => {
  it.each([
    [
      'vLLM: an input over max_model_len',
      400,
      vllm(
        "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens in the input for embedding generation. Please reduce the length of the input.",
      ),
    ],
    [
      'vLLM: too many inputs',
      400,
      vllm("'input' has 64 items, more than the 32 this server takes.", 400, 'input'),
    ],
    ['vLLM: an empty input', 400, vllm("'input' cannot contain an empty string", 400, 'input')],
    [
      'OpenAI: an input over the context',
      400,
      {
        error: {
          message:
            "This model's maximum context length is 8192 tokens, however you requested 9000 tokens (9000 in your prompt; 0 for the completion). Please reduce your prompt; or completion length.",
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      },
    ],
    ['a body over the limit', 413, { error: { message: 'Request body too large.' } }],
    ['a validation error', 422, { detail: 'Input should be a valid string' }],
  ])('%s is bad input: the batch is split', (_, status, body) => {
    expect(openAi(status, body)).toEqual({ retryable: false, rejectedInput: true, hint: undefined });
  });

  it.each([
    ['Infinity: an unknown model', vllm('Invalid model: list index out of range'), 'tei.model'],
    [
      'Infinity: a Matryoshka size the model cannot cut',
      vllm("<class 'MatryoshkaDimError'> -> matryoshka_dim=2048 is not supported"),
      'tei.dimensions',
    ],
    [
      'vLLM: a bad dimensions field',
      vllm('Dimensions must be greater than 0', 400, 'dimensions'),
      'tei.dimensions',
    ],
    [
      'a model that does not embed',
      vllm('The model `chat-model` does not support embeddings API'),
      'tei.model',
    ],
    ['an unknown encoding', vllm("'encoding_format' should be 'float' or 'base64'"), 'tei.encodingFormat'],
  ])('%s is a setting to fix: the run stops with a hint', (_, body, hint) => {
    const refusal = openAi(400, body);
    expect(refusal).toMatchObject({ retryable: false, rejectedInput: false });
    expect(refusal.hint).toContain(hint);
  });

  it('retries rate limits, timeouts and server errors, but not an exhausted quota or a missing feature', () => {
    expect(openAi(429, { error: { message: 'Rate limit reached', type: 'requests' } }).retryable).toBe(true);
    const quota = openAi(429, {
      error: {
        message: 'You exceeded your current quota',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      },
    });
    expect(quota).toMatchObject({ retryable: false, rejectedInput: false });
    expect(quota.hint).toContain('quota');
    for (const status of [408, 500, 502, 503, 504]) expect(openAi(status, {}).retryable).toBe(true);
    const llamaCpp = openAi(501, {
      error: { code: 501, message: 'This server does not support embeddings. Start it with `--embeddings`' },
    });
    expect(llamaCpp).toMatchObject({ retryable: false, rejectedInput: false });
  });

  it('tells a wrong model from a wrong URL on 404', () => {
    expect(
      openAi(404, { error: { message: 'The model `x` does not exist.', param: 'model', code: 404 } }).hint,
    ).toContain('tei.model');
    expect(openAi(404, { error: 'model "x" not found, try pulling it first' }).hint).toContain('tei.model');
    expect(openAi(404, { detail: 'Not Found' }).hint).toContain('Check tei.url');
  });

  it('points at the API key on 401 and 403', () => {
    for (const status of [401, 403])
      expect(openAi(status, { detail: 'Unauthorized' }).hint).toContain('tei.apiKey');
  });
});

describe('TEI refusals', () => {
  it('splits on 413 and 422, retries 424, 429, 502-504, and nothing else', () => {
    const classify = (status: number) =>
      teiProtocol.classify(status, { message: '', param: undefined, type: undefined });
    expect(classify(422)).toMatchObject({ rejectedInput: true, retryable: false });
    expect(classify(413)).toMatchObject({ rejectedInput: true, retryable: false });
    for (const status of [424, 429, 502, 503, 504]) expect(classify(status).retryable).toBe(true);
    // TEI answers 400 to an empty batch, which taboot never sends: a bug, not bad input.
    expect(classify(400)).toMatchObject({ rejectedInput: false, retryable: false });
    expect(classify(401).hint).toBe('Check tei.apiKey (env TEI_API_KEY).');
  });
});

describe('readErrorBody', () => {
  it.each([
    [
      'TEI native',
      { error: 'Input validation error', error_type: 'validation' },
      ['Input validation error', undefined, 'validation'],
    ],
    [
      'OpenAI nested',
      { error: { message: 'bad', type: 'invalid_request_error', param: 'input', code: 'too_long' } },
      ['bad', 'input', 'too_long'],
    ],
    [
      'vLLM numeric code',
      { error: { message: 'bad', type: 'BadRequestError', param: null, code: 400 } },
      ['bad', undefined, 'BadRequestError'],
    ],
    ['flat', { message: 'flat one', code: 'x', type: 'y' }, ['flat one', undefined, 'x']],
    ['FastAPI', { detail: 'Unauthorized' }, ['Unauthorized', undefined, undefined]],
  ])('reads %s error bodies', (_, body, [message, param, type]) => {
    expect(readErrorBody(Buffer.from(JSON.stringify(body)))).toEqual({ message, param, type });
  });

  it('keeps text that is not JSON, cut to 500 characters', () => {
    expect(readErrorBody(Buffer.from('<html>Bad Gateway</html>')).message).toBe('<html>Bad Gateway</html>');
    expect(readErrorBody(Buffer.from('x'.repeat(2000))).message).toHaveLength(500);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    [{ 'retry-after': '2' }, 2000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after-ms': '250', 'retry-after': '9' }, 250],
    [{ 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }, 3000],
    [{ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }, undefined],
    [{ 'retry-after': '0' }, undefined],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
  ])('%j -> %s', (headers, expected) => {
    expect(retryAfterMs(headers, now)).toBe(expected);
  });
});
