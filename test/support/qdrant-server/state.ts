import type { StoredCollection } from './collection.js';
import { qdrantErrors } from './errors.js';

/** Everything the server holds: collections by name and the simulated indexing delay. */
export class ServerState {
  readonly collections = new Map<string, StoredCollection>();
  /** How long each write keeps a collection optimizing (Yellow, index lagging), in ms. */
  indexingDelayMs: number;

  constructor(indexingDelayMs = 0) {
    this.indexingDelayMs = indexingDelayMs;
  }

  get(name: string): StoredCollection {
    const collection = this.collections.get(name);
    if (!collection) throw qdrantErrors.collectionNotFound(name);
    return collection;
  }
}
