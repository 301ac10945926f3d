import { ServiceError } from '../errors.js';
import type { ErrorBody, Refusal, ServerProtocol } from './tei-http.js';

/**
 * How OpenAI-compatible embedding servers refuse a request, read from their sources: vLLM answers
 * request errors 400 (an input over `max_model_len`, too many inputs, a bad field) and an unknown
 * model 404; Infinity answers an unknown model or a Matryoshka size it cannot cut 400; Ollama an
 * unknown model 404; llama.cpp's server without `--embeddings` 501; OpenAI 400 for an input over
 * the context, 404 for an unknown model, 429 for rate limits (`retry-after`, `retry-after-ms`) and
 * for an exhausted quota (`insufficient_quota`, which waiting does not cure).
 *
 * A refused request is bad input (`rejectedInput`: the embed stage splits the batch until the
 * offending text is alone) only when nothing says a setting is at fault: a 400 that blames the
 * model, the Matryoshka size or the encoding would fail every text, so it stops the run instead.
 */
export const openAiProtocol: ServerProtocol = {
  service: 'openai',
  classify,
  unreachableHint: 'Is the embedding server running? Check tei.url.',
};

/** Request fields that are settings, not the texts. */
const settingParams = new Set(['model', 'dimensions', 'encoding_format', 'user']);

/** Words of refusals that blame the model or the Matryoshka size rather than a text. */
const settingWords =
  /\b(?:invalid|unknown|unsupported) model\b|\bmodel\b[^.]*\b(?:not found|does not exist|not (?:loaded|deployed|supported)|does not support)|does not support embeddings|matryoshka|\bdimensions? must\b|\bencoding_format\b/i;

function classify(status: number, error: ErrorBody): Refusal {
  if (status === 401 || status === 403) {
    return {
      retryable: false,
      rejectedInput: false,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own ${VAR} syntax, shown as is.
      hint: 'Check tei.apiKey (env TEI_API_KEY, or "apiKey": "${OPENAI_API_KEY}" in the config file).',
    };
  }
  if (status === 429) {
    const quota = error.type === 'insufficient_quota';
    return {
      retryable: !quota,
      rejectedInput: false,
      hint: quota ? "The account's quota is used up: waiting will not help." : undefined,
    };
  }
  if (status === 404) return { retryable: false, rejectedInput: false, hint: notFoundHint(error) };
  if (status === 408 || (status >= 500 && status !== 501)) return { retryable: true, rejectedInput: false };
  if (status === 400 || status === 413 || status === 422) {
    const setting =
      (error.param !== undefined && settingParams.has(error.param)) || settingWords.test(error.message);
    return {
      retryable: false,
      rejectedInput: !setting,
      hint: setting ? settingHint(error) : undefined,
    };
  }
  return { retryable: false, rejectedInput: false };
}

/** A server that refuses `encoding_format: "base64"` (an older one, or one that knows only floats). */
export function refusesBase64(error: unknown): boolean {
  return (
    error instanceof ServiceError &&
    (error.code === '400' || error.code === '422') &&
    /encoding_format|base64/i.test(error.message)
  );
}

function notFoundHint(error: ErrorBody): string {
  if (error.param === 'model' || /\bmodel\b/i.test(error.message)) {
    return 'Check tei.model: GET {tei.url}/models lists the models the server serves.';
  }
  return (
    'Check tei.url: it is the OpenAI base URL, to which taboot appends /embeddings ' +
    '(vLLM, Ollama, llama.cpp, OpenAI: ending in /v1; Infinity: the bare host and port).'
  );
}

function settingHint(error: ErrorBody): string {
  if (error.param === 'dimensions' || /matryoshka|dimensions?/i.test(error.message)) {
    return 'Check tei.dimensions: the model may not take that size, or none at all.';
  }
  if (error.param === 'encoding_format' || /encoding_format/i.test(error.message)) {
    return 'Set tei.encodingFormat to "float".';
  }
  return 'Check tei.model: GET {tei.url}/models lists the models the server serves.';
}
