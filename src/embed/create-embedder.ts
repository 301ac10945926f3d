import type { Config } from '../config/schema.js';
import type { Embedder } from './embedder.js';
import { TeiEmbedder } from './tei-embedder.js';

/**
 * The one place that turns the embedder config into a client. `concurrency` sizes the connection
 * pool: the requests the caller will keep in flight.
 */
export function createEmbedder(settings: Config['tei'], options: { concurrency?: number } = {}): Embedder {
  return new TeiEmbedder(settings, options.concurrency ?? settings.concurrency);
}
