import { create } from '@bufbuild/protobuf';
import { UpdateCollectionSchema } from '@qdrant/js-client-grpc';
import type { Qdrant } from './client.js';
import { getCollection } from './collections.js';
import { jsonToValue, payloadToJson } from './payload-json.js';

/** A collection's metadata (`CollectionConfig.metadata`) as JSON. */
export async function readCollectionMetadata(qdrant: Qdrant, name: string): Promise<Record<string, unknown>> {
  const info = await getCollection(qdrant, name);
  return payloadToJson(info.config?.metadata ?? {});
}

/**
 * Sets metadata keys of a collection (`UpdateCollection.metadata`). Qdrant merges them into what is
 * stored, key by key: keys not named are kept, and a key's value is replaced whole.
 */
export async function updateCollectionMetadata(
  qdrant: Qdrant,
  name: string,
  entries: Record<string, unknown>,
): Promise<void> {
  const metadata = Object.fromEntries(
    Object.entries(entries).map(([key, value]) => [key, jsonToValue(value)]),
  );
  const request = create(UpdateCollectionSchema, { collectionName: name, metadata });
  await qdrant.call(`update metadata of collection ${name}`, (apis) => apis.collections.update(request));
}
