import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GenService } from '@bufbuild/protobuf/codegenv2';
import type {
  ChangeAliasesSchema,
  ClearPayloadPointsSchema,
  CollectionExistsRequestSchema,
  CollectionExistsResponseSchema,
  CollectionOperationResponseSchema,
  CountPointsSchema,
  CountResponseSchema,
  CreateCollectionSchema,
  CreateFieldIndexCollectionSchema,
  DeleteCollectionSchema,
  DeleteFieldIndexCollectionSchema,
  DeletePayloadPointsSchema,
  DeletePointsSchema,
  GetCollectionInfoRequestSchema,
  GetCollectionInfoResponseSchema,
  GetPointsSchema,
  GetResponseSchema,
  ListAliasesRequestSchema,
  ListAliasesResponseSchema,
  ListCollectionAliasesRequestSchema,
  ListCollectionsRequestSchema,
  ListCollectionsResponseSchema,
  PointsOperationResponseSchema,
  QueryPointsSchema,
  QueryResponseSchema,
  ScrollPointsSchema,
  ScrollResponseSchema,
  SetPayloadPointsSchema,
  UpdateBatchPointsSchema,
  UpdateBatchResponseSchema,
  UpdateCollectionSchema,
  UpsertPointsSchema,
} from '@qdrant/js-client-grpc';

type Unary<I, O> = { methodKind: 'unary'; input: I; output: O };

/** The `qdrant.Collections` methods this server implements (the descriptor carries them all). */
export type CollectionsService = GenService<{
  get: Unary<typeof GetCollectionInfoRequestSchema, typeof GetCollectionInfoResponseSchema>;
  list: Unary<typeof ListCollectionsRequestSchema, typeof ListCollectionsResponseSchema>;
  create: Unary<typeof CreateCollectionSchema, typeof CollectionOperationResponseSchema>;
  update: Unary<typeof UpdateCollectionSchema, typeof CollectionOperationResponseSchema>;
  delete: Unary<typeof DeleteCollectionSchema, typeof CollectionOperationResponseSchema>;
  collectionExists: Unary<typeof CollectionExistsRequestSchema, typeof CollectionExistsResponseSchema>;
  updateAliases: Unary<typeof ChangeAliasesSchema, typeof CollectionOperationResponseSchema>;
  listAliases: Unary<typeof ListAliasesRequestSchema, typeof ListAliasesResponseSchema>;
  listCollectionAliases: Unary<typeof ListCollectionAliasesRequestSchema, typeof ListAliasesResponseSchema>;
}>;

/** The `qdrant.Points` methods this server implements. */
export type PointsService = GenService<{
  upsert: Unary<typeof UpsertPointsSchema, typeof PointsOperationResponseSchema>;
  delete: Unary<typeof DeletePointsSchema, typeof PointsOperationResponseSchema>;
  get: Unary<typeof GetPointsSchema, typeof GetResponseSchema>;
  scroll: Unary<typeof ScrollPointsSchema, typeof ScrollResponseSchema>;
  count: Unary<typeof CountPointsSchema, typeof CountResponseSchema>;
  query: Unary<typeof QueryPointsSchema, typeof QueryResponseSchema>;
  createFieldIndex: Unary<typeof CreateFieldIndexCollectionSchema, typeof PointsOperationResponseSchema>;
  deleteFieldIndex: Unary<typeof DeleteFieldIndexCollectionSchema, typeof PointsOperationResponseSchema>;
  setPayload: Unary<typeof SetPayloadPointsSchema, typeof PointsOperationResponseSchema>;
  overwritePayload: Unary<typeof SetPayloadPointsSchema, typeof PointsOperationResponseSchema>;
  deletePayload: Unary<typeof DeletePayloadPointsSchema, typeof PointsOperationResponseSchema>;
  clearPayload: Unary<typeof ClearPayloadPointsSchema, typeof PointsOperationResponseSchema>;
  updateBatch: Unary<typeof UpdateBatchPointsSchema, typeof UpdateBatchResponseSchema>;
}>;

/**
 * The package's `exports` map hides `dist/esm/proto/*_service_pb.js`, so resolve the package
 * entry and import the descriptor files by URL. They import `./points_pb.js` etc. relative to
 * themselves, so their message schemas are the very instances the package root exports.
 */
async function importProto(file: string): Promise<Record<string, unknown>> {
  const require = createRequire(import.meta.url);
  // `require` resolves to dist/cjs/index.js; the ESM build sits beside it.
  const distDir = dirname(dirname(require.resolve('@qdrant/js-client-grpc')));
  return (await import(pathToFileURL(join(distDir, 'esm', 'proto', file)).href)) as Record<string, unknown>;
}

export async function loadServices(): Promise<{ collections: CollectionsService; points: PointsService }> {
  const [collections, points] = await Promise.all([
    importProto('collections_service_pb.js'),
    importProto('points_service_pb.js'),
  ]);
  if (!collections.Collections || !points.Points) {
    throw new Error('@qdrant/js-client-grpc no longer ships the Collections/Points service descriptors');
  }
  return {
    collections: collections.Collections as CollectionsService,
    points: points.Points as PointsService,
  };
}
