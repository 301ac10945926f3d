import type { TeiInfo } from './tei-info.js';

/** Embedding request limits: inputs, (estimated) tokens and body bytes (under TEI's 2 MB payload limit). */
export interface EmbedBatchLimits {
  maxInputs: number;
  maxTokens: number;
  maxBytes: number;
}

/** TEI's default payload limit is 2,000,000 bytes; JSON escaping and the envelope need headroom. */
export const teiBodyBudgetBytes = 1_500_000;

export function batchLimitsFrom(
  info: Pick<TeiInfo, 'maxClientBatchSize' | 'maxBatchTokens'>,
  overrides: { maxClientBatchSize?: number | undefined; maxBatchTokens?: number | undefined },
): EmbedBatchLimits {
  return {
    maxInputs: overrides.maxClientBatchSize ?? info.maxClientBatchSize,
    maxTokens: overrides.maxBatchTokens ?? info.maxBatchTokens,
    maxBytes: teiBodyBudgetBytes,
  };
}
