import type { EmbedderConfig } from '../config/schema.js';
import { type Embedder, maxAutoConcurrency } from './embedder.js';
import { OpenAiEmbedder } from './openai-embedder.js';
import { TeiEmbedder } from './tei-embedder.js';

/**
 * The one place that turns the embedder config into a client, by `tei.kind`: TEI's own API or an
 * OpenAI-compatible `/embeddings` server. `concurrency` sizes the connection pool: the requests the
 * caller will keep in flight (`auto`: the most it may reach).
 */
export function createEmbedder(
  settings: EmbedderConfig,
  options: { concurrency?: number | 'auto' } = {},
): Embedder {
  const concurrency = options.concurrency ?? settings.concurrency;
  const connections = concurrency === 'auto' ? maxAutoConcurrency : concurrency;
  return settings.kind === 'openai'
    ? new OpenAiEmbedder(settings, connections)
    : new TeiEmbedder(settings, connections);
}
