import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  CollectionDescriptionSchema,
  CollectionExistsResponseSchema,
  CollectionExistsSchema,
  CollectionOperationResponseSchema,
  GetCollectionInfoResponseSchema,
  ListCollectionsResponseSchema,
} from '@qdrant/js-client-grpc';
import { StoredCollection } from './collection.js';
import type { CollectionsService } from './descriptors.js';
import { qdrantErrors } from './errors.js';
import type { ServerState } from './state.js';

/** Seconds since `start`, as Qdrant reports `time` on every response. */
export function elapsed(start: number): number {
  return (performance.now() - start) / 1000;
}

function checkName(name: string): void {
  if (name.length < 1 || name.length > 255) {
    throw qdrantErrors.validation('collection_name', 'length must be between 1 and 255');
  }
  if (/[<>:"/\\|?*]/.test(name)) {
    throw qdrantErrors.validation(
      'collection_name',
      `collection name cannot contain special characters: ${name}`,
    );
  }
}

export function collectionsImpl(state: ServerState): Partial<ServiceImpl<CollectionsService>> {
  const ok = (start: number) =>
    create(CollectionOperationResponseSchema, { result: true, time: elapsed(start) });
  return {
    create(request) {
      const start = performance.now();
      checkName(request.collectionName);
      if (state.collections.has(request.collectionName)) {
        throw qdrantErrors.collectionExists(request.collectionName);
      }
      state.collections.set(request.collectionName, new StoredCollection(request));
      return ok(start);
    },
    get(request) {
      const start = performance.now();
      const result = state.get(request.collectionName).info();
      return create(GetCollectionInfoResponseSchema, { result, time: elapsed(start) });
    },
    list() {
      const start = performance.now();
      const collections = [...state.collections.keys()].map((name) =>
        create(CollectionDescriptionSchema, { name }),
      );
      return create(ListCollectionsResponseSchema, { collections, time: elapsed(start) });
    },
    collectionExists(request) {
      const start = performance.now();
      const exists = state.collections.has(request.collectionName);
      return create(CollectionExistsResponseSchema, {
        result: create(CollectionExistsSchema, { exists }),
        time: elapsed(start),
      });
    },
    update(request) {
      const start = performance.now();
      state.get(request.collectionName).update(request, state.indexingDelayMs);
      return ok(start);
    },
    delete(request) {
      const start = performance.now();
      // Qdrant answers `false` (not an error) when there was nothing to delete.
      const existed = state.collections.delete(request.collectionName);
      return create(CollectionOperationResponseSchema, { result: existed, time: elapsed(start) });
    },
  };
}
