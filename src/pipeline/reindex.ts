import type { Config } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { aliasTarget, listCollections, pointAlias } from '../qdrant/aliases.js';
import { Qdrant } from '../qdrant/client.js';
import { specFromConfig } from '../qdrant/collection-spec.js';
import { collectionExists, deleteCollection, ensureCollection } from '../qdrant/collections.js';
import { IngestLock } from '../qdrant/ingest-lock.js';
import type { IngestEvents, IngestOptions } from './ingest.js';
import { type IngestJobResult, ingestJob } from './ingest-job.js';
import type { IngestStats } from './stats.js';
import type { IngestSummary } from './summary.js';

export interface ReindexOptions extends Omit<IngestOptions, 'prune' | 'reembed' | 'bulk'> {
  /** Earlier collections of the alias to keep after the switch (for a quick switch back). */
  keep: number;
}

export type ReindexOutcome = NonNullable<IngestSummary['reindex']>;

/**
 * Blue/green re-index behind an alias: a new collection `<alias>_<UTC timestamp>` with the
 * configured settings, a full bulk ingest into it (indexing deferred, then waited for until the
 * collection is green and indexed), then one alias change, after which searches through the alias
 * see the new collection; until then they see the old one, whole. The alias's lock is held
 * throughout, so no `ingest` into the alias writes into the old collection meanwhile and is lost
 * at the switch. A run that fails or is interrupted leaves the alias alone and deletes what it
 * built. Earlier collections beyond `keep` are deleted after the switch.
 */
export async function reindexJob(
  options: ReindexOptions,
  events: IngestEvents & { onStart?(stats: IngestStats): void; onPhase?(line: string): void },
): Promise<IngestJobResult> {
  const { config } = options;
  const alias = config.collection.name;
  const qdrant = new Qdrant(config.qdrant);
  const lock = await IngestLock.acquire(qdrant, alias, (line) => events.onWarning?.(line));
  try {
    const previous = await aliasTarget(qdrant, alias);
    if (!previous && (await collectionExists(qdrant, alias))) {
      throw new UsageError(
        `${alias} is a collection, not an alias: reindex switches an alias between collections`,
        {
          hint:
            `Reindex under a new alias name (set collection.name) and point searches at it, or ` +
            `rename: taboot reindex with another name, then delete ${alias} and create the alias ${alias} yourself.`,
        },
      );
    }
    const collection = `${alias}_${timestamp()}`;
    await ensureCollection(qdrant, collection, specFromConfig(config.collection), 'create');
    events.onPhase?.(`building ${collection} for alias ${alias}${previous ? ` (now ${previous})` : ''}`);
    const built: Config = { ...config, collection: { ...config.collection, name: collection } };
    const result = await ingestJob({ ...options, config: built, dryRun: false, bulk: true }, events).catch(
      async (error: unknown) => {
        await deleteCollection(qdrant, collection).catch(() => {});
        throw error;
      },
    );
    const outcome: ReindexOutcome = {
      alias,
      collection,
      switched: false,
      previous: previous ?? null,
      deleted: [],
    };
    if (result.fatal !== undefined || result.summary.interrupted) {
      await deleteCollection(qdrant, collection).catch(() => {});
      events.onPhase?.(`left alias ${alias} as it was; deleted the unfinished ${collection}`);
      result.summary.reindex = outcome;
      return result;
    }
    await pointAlias(qdrant, alias, collection);
    outcome.switched = true;
    events.onPhase?.(`alias ${alias} now points at ${collection}`);
    outcome.deleted = await deleteOldGenerations(qdrant, alias, collection, options.keep);
    for (const name of outcome.deleted) events.onPhase?.(`deleted the earlier collection ${name}`);
    result.summary.reindex = outcome;
    return result;
  } finally {
    await lock.release().catch(() => {});
  }
}

/** `20261130T044812Z`: sorts in time order, and is a valid collection name. */
function timestamp(now = new Date()): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Deletes this alias's generations (`<alias>_<timestamp>`) older than the newest `keep`, never `current`. */
async function deleteOldGenerations(
  qdrant: Qdrant,
  alias: string,
  current: string,
  keep: number,
): Promise<string[]> {
  const pattern = new RegExp(`^${alias.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_\\d{8}T\\d{6}Z$`);
  const older = (await listCollections(qdrant))
    .filter((name) => pattern.test(name) && name !== current)
    .sort()
    .reverse();
  const doomed = older.slice(keep);
  for (const name of doomed) await deleteCollection(qdrant, name);
  return doomed;
}
