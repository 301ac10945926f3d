import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  AliasDescriptionSchema,
  CollectionDescriptionSchema,
  CollectionExistsResponseSchema,
  CollectionExistsSchema,
  CollectionOperationResponseSchema,
  GetCollectionInfoResponseSchema,
  ListAliasesResponseSchema,
  ListCollectionsResponseSchema,
} from '@qdrant/js-client-grpc';
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

/** The Collections service. Get, Update and CollectionExists accept an alias; Delete takes a collection's own name. */
export function collectionsImpl(state: ServerState): Partial<ServiceImpl<CollectionsService>> {
  const ok = (start: number, result = true) =>
    create(CollectionOperationResponseSchema, { result, time: elapsed(start) });
  const aliases = (start: number, list: ReturnType<ServerState['aliasesOf']>) =>
    create(ListAliasesResponseSchema, {
      aliases: list.map((alias) => create(AliasDescriptionSchema, alias)),
      time: elapsed(start),
    });
  return {
    create(request) {
      const start = performance.now();
      checkName(request.collectionName);
      state.create(request);
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
      return create(CollectionExistsResponseSchema, {
        result: create(CollectionExistsSchema, { exists: state.has(request.collectionName) }),
        time: elapsed(start),
      });
    },
    update(request) {
      const start = performance.now();
      state.get(request.collectionName).update(request);
      return ok(start);
    },
    delete(request) {
      const start = performance.now();
      // Qdrant answers `false` (not an error) when there was nothing to delete.
      return ok(start, state.delete(request.collectionName));
    },
    updateAliases(request) {
      const start = performance.now();
      state.updateAliases(request.actions);
      return ok(start);
    },
    listAliases() {
      return aliases(performance.now(), state.aliasesOf());
    },
    listCollectionAliases(request) {
      // A name that is not a collection has no aliases: an empty list, not NOT_FOUND.
      return aliases(performance.now(), state.aliasesOf(request.collectionName));
    },
  };
}
