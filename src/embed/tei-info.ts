import { ServiceError } from '../errors.js';
import { type TeiEndpoint, teiRequest } from './tei-http.js';

/** The parts of TEI's `GET /info` taboot uses. */
export interface TeiInfo {
  modelId: string;
  modelDtype: string | undefined;
  maxInputLength: number;
  maxBatchTokens: number;
  maxClientBatchSize: number;
  maxConcurrentRequests: number;
  autoTruncate: boolean;
  version: string | undefined;
}

export async function fetchTeiInfo(endpoint: TeiEndpoint, signal?: AbortSignal): Promise<TeiInfo> {
  const response = await teiRequest(endpoint, 'GET', '/info', undefined, signal);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new ServiceError('tei', endpoint.url, '/info did not answer JSON: is this a TEI server?');
  }
  const num = (key: string, fallback: number) =>
    typeof raw[key] === 'number' ? (raw[key] as number) : fallback;
  return {
    modelId: typeof raw.model_id === 'string' ? raw.model_id : 'unknown',
    modelDtype: typeof raw.model_dtype === 'string' ? raw.model_dtype : undefined,
    // TEI's own defaults, for servers that leave a field out.
    maxInputLength: num('max_input_length', 512),
    maxBatchTokens: num('max_batch_tokens', 16_384),
    maxClientBatchSize: num('max_client_batch_size', 32),
    maxConcurrentRequests: num('max_concurrent_requests', 512),
    autoTruncate: raw.auto_truncate === true,
    version: typeof raw.version === 'string' ? raw.version : undefined,
  };
}

/** Embed one short text to learn the model's output size (honouring Matryoshka `dimensions`). */
export async function probeEmbeddingSize(endpoint: TeiEndpoint, dimensions?: number): Promise<number> {
  const response = await teiRequest(endpoint, 'POST', '/embed', {
    inputs: ['taboot embedding size probe'],
    truncate: true,
    ...(dimensions ? { dimensions } : {}),
  });
  const parsed = JSON.parse(response.body.toString('utf8')) as unknown;
  const first = Array.isArray(parsed) ? parsed[0] : undefined;
  if (!Array.isArray(first) || first.length === 0) {
    throw new ServiceError('tei', endpoint.url, '/embed answered without an embedding');
  }
  return first.length;
}
