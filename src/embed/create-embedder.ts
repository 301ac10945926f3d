import type { Config } from '../config/schema.js';
import { type Embedder, maxAutoConcurrency } from './embedder.js';
import { TeiEmbedder } from './tei-embedder.js';

/**
 * The one place that turns the embedder config into a client. `concurrency` sizes the connection
 * pool: the requests the caller will keep in flight (`auto`: the most it may reach).
 */
export function createEmbedder(
  settings: Config['tei'],
  options: { concurrency?: number | 'auto' } = {},
): Embedder {
  const concurrency = options.concurrency ?? settings.concurrency;
  return new TeiEmbedder(settings, concurrency === 'auto' ? maxAutoConcurrency : concurrency);
}
