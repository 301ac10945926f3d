import { errorMessage, ServiceError } from '../errors.js';
import type { EmbedResult } from './embedder.js';
import { type TeiEndpoint, type TeiResponse, teiProtocol } from './tei-http.js';

/**
 * What every embedder does with an answer, whatever the server: decode it (a body that does not
 * decode is the server's fault, named with its route), check that one vector came per input, and
 * read TEI's timing headers (which TEI also sends on `/v1/embeddings`, and other servers do not).
 */
export function decodeOrThrow<T>(endpoint: TeiEndpoint, route: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    throw new ServiceError(
      serviceOf(endpoint),
      endpoint.url,
      `${route} answered a body taboot cannot read: ${errorMessage(error)}`,
      { cause: error },
    );
  }
}

export function checkCount(endpoint: TeiEndpoint, vectors: Float32Array[], expected: number): Float32Array[] {
  if (vectors.length !== expected) {
    throw new ServiceError(
      serviceOf(endpoint),
      endpoint.url,
      `asked for ${expected} embeddings, got ${vectors.length}`,
    );
  }
  return vectors;
}

/** `tokens`: the server's count from the body (`usage.prompt_tokens`) when no header gives one. */
export function withTimings(vectors: Float32Array[], response: TeiResponse, tokens?: number): EmbedResult {
  const header = (name: string): number | undefined => {
    const value = Number(response.headers[name]);
    return Number.isFinite(value) ? value : undefined;
  };
  return {
    vectors,
    tokens: header('x-compute-tokens') ?? tokens,
    queueMs: header('x-queue-time'),
    inferenceMs: header('x-inference-time'),
  };
}

function serviceOf(endpoint: TeiEndpoint) {
  return (endpoint.protocol ?? teiProtocol).service;
}
