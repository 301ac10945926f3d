import { create } from '@bufbuild/protobuf';
import { ChangeAliasesSchema } from '@qdrant/js-client-grpc';
import type { Qdrant } from './client.js';

/** The collection `alias` points at, or undefined when there is no such alias. */
export async function aliasTarget(qdrant: Qdrant, alias: string): Promise<string | undefined> {
  const response = await qdrant.call('list aliases', (apis) => apis.collections.listAliases({}));
  return response.aliases.find((entry) => entry.aliasName === alias)?.collectionName;
}

/**
 * Points `alias` at `collection` in one request. Qdrant re-points an existing alias in place, so
 * a search through it sees either the old collection or the new one, never neither.
 */
export async function pointAlias(qdrant: Qdrant, alias: string, collection: string): Promise<void> {
  const request = create(ChangeAliasesSchema, {
    actions: [{ action: { case: 'createAlias', value: { collectionName: collection, aliasName: alias } } }],
  });
  await qdrant.call(`point alias ${alias} at ${collection}`, (apis) =>
    apis.collections.updateAliases(request),
  );
}

/** The names of every collection. */
export async function listCollections(qdrant: Qdrant): Promise<string[]> {
  const response = await qdrant.call('list collections', (apis) => apis.collections.list({}));
  return response.collections.map((collection) => collection.name);
}
