import type { Config } from '../config/schema.js';
import { createEmbedder } from '../embed/create-embedder.js';
import { Qdrant } from '../qdrant/client.js';
import { type CollectionSpec, specFromConfig } from '../qdrant/collection-spec.js';
import {
  type CreatePlan,
  type EnsureMode,
  type EnsureOutcome,
  ensureCollection,
  planCreate,
} from '../qdrant/collections.js';

/**
 * `collection create`, end to end: the vector size (from the config, or from one embedding of the
 * configured embedder), then Qdrant. It sits outside src/qdrant because it joins two services; the
 * Qdrant side (`ensureCollection`, `planCreate`) knows nothing of embedders.
 */
export interface CreateCollectionOptions {
  /** Ask the embedder for one embedding and use its length as the vector size. */
  autoVectorSize: boolean;
  mode: EnsureMode;
  /** Build the requests without sending them (the embedder is still asked when `autoVectorSize`). */
  dryRun: boolean;
}

export type CreateCollectionResult =
  | { kind: 'plan'; name: string; spec: CollectionSpec; plan: CreatePlan }
  | {
      kind: 'outcome';
      spec: CollectionSpec;
      outcome: EnsureOutcome;
      /** The model whose embedding gave the vector size (`--vector-size auto`); else undefined. */
      vectorSizeFrom: string | undefined;
    };

/** The collection described by `config`, made to exist and to match. */
export async function createCollection(
  config: Config,
  options: CreateCollectionOptions,
): Promise<CreateCollectionResult> {
  const spec = specFromConfig(config.collection);
  const probed = options.autoVectorSize ? await probeVectorSize(config) : undefined;
  if (probed) spec.vectorSize = probed.size;
  const name = config.collection.name;
  if (options.dryRun) return { kind: 'plan', name, spec, plan: planCreate(name, spec) };
  const outcome = await ensureCollection(new Qdrant(config.qdrant), name, spec, options.mode);
  return { kind: 'outcome', spec, outcome, vectorSizeFrom: probed?.model };
}

/** One embedding from the configured embedder (with its Matryoshka size), and the model that made it. */
async function probeVectorSize(config: Config): Promise<{ size: number; model: string }> {
  const embedder = createEmbedder(config.tei, { concurrency: 1 });
  try {
    const size = await embedder.dimensions();
    return { size, model: (await embedder.describe()).modelId };
  } finally {
    await embedder.close();
  }
}
