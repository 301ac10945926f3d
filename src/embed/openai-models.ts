import { ServiceError } from '../errors.js';
import { type TeiEndpoint, teiRequest } from './tei-http.js';

/** One entry of `GET {url}/models`, as far as taboot uses it. */
export interface ServedModel {
  id: string;
  /** vLLM's context length (`max_model_len`); other servers leave it out. */
  maxModelLen: number | undefined;
}

/**
 * `GET {url}/models`: the models an OpenAI-compatible server serves (vLLM, Infinity, Ollama,
 * llama.cpp and OpenAI all answer it). Resolves undefined when the server has no such route or
 * answers something else than a model list, since the embeddings route is all taboot needs; a server
 * that cannot be reached, or refuses the key, rejects.
 */
export async function fetchServedModels(
  endpoint: TeiEndpoint,
  signal?: AbortSignal,
): Promise<ServedModel[] | undefined> {
  let body: Buffer;
  try {
    body = (await teiRequest(endpoint, 'GET', 'models', undefined, signal)).body;
  } catch (error) {
    // Any HTTP answer but a refused key means no usable listing, not a server that is down.
    const status = error instanceof ServiceError ? (error.code ?? '') : '';
    if (/^\d+$/.test(status) && status !== '401' && status !== '403') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return undefined;
  return data.flatMap((item: unknown) => {
    const entry = item as { id?: unknown; max_model_len?: unknown } | null;
    if (typeof entry?.id !== 'string') return [];
    const maxModelLen =
      typeof entry.max_model_len === 'number' && Number.isSafeInteger(entry.max_model_len)
        ? entry.max_model_len
        : undefined;
    return [{ id: entry.id, maxModelLen }];
  });
}
