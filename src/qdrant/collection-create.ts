import type { Config } from '../config/schema.js';
import { createTeiDispatcher } from '../embed/tei-http.js';
import { probeEmbeddingSize } from '../embed/tei-info.js';
import { Qdrant } from './client.js';
import { type CollectionSpec, specFromConfig } from './collection-spec.js';
import {
  type CreatePlan,
  type EnsureMode,
  type EnsureOutcome,
  ensureCollection,
  planCreate,
} from './collections.js';

export interface CreateCollectionOptions {
  /** Ask TEI for one embedding and use its length as the vector size. */
  autoVectorSize: boolean;
  mode: EnsureMode;
  /** Build the requests without sending them (TEI is still asked when `autoVectorSize`). */
  dryRun: boolean;
}

export type CreateCollectionResult =
  | { kind: 'plan'; name: string; spec: CollectionSpec; plan: CreatePlan }
  | { kind: 'outcome'; spec: CollectionSpec; outcome: EnsureOutcome; vectorSizeFromTei: boolean };

/** `collection create`: the collection described by `config`, made to exist and to match. */
export async function createCollection(
  config: Config,
  options: CreateCollectionOptions,
): Promise<CreateCollectionResult> {
  const spec = specFromConfig(config.collection);
  if (options.autoVectorSize) spec.vectorSize = await embeddingSizeFromTei(config);
  const name = config.collection.name;
  if (options.dryRun) return { kind: 'plan', name, spec, plan: planCreate(name, spec) };
  const outcome = await ensureCollection(new Qdrant(config.qdrant), name, spec, options.mode);
  return { kind: 'outcome', spec, outcome, vectorSizeFromTei: options.autoVectorSize };
}

async function embeddingSizeFromTei(config: Config): Promise<number> {
  const dispatcher = createTeiDispatcher(1);
  try {
    const url = config.tei.urls?.[0] ?? config.tei.url;
    return await probeEmbeddingSize(
      { url, apiKey: config.tei.apiKey, timeoutMs: config.tei.timeoutMs, dispatcher },
      config.tei.dimensions,
    );
  } finally {
    await dispatcher.close();
  }
}
