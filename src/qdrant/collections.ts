import { create, toJson } from '@bufbuild/protobuf';
import {
  CollectionStatus,
  CreateCollectionSchema,
  type CreateFieldIndexCollection,
  CreateFieldIndexCollectionSchema,
} from '@qdrant/js-client-grpc';
import type { PayloadIndexType } from '../config/schema.js';
import { ServiceError, TabootError } from '../errors.js';
import type { Qdrant } from './client.js';
import {
  buildCreateCollection,
  buildUpdateCollection,
  type CollectionSpec,
  diffSpecs,
  fieldTypeToProto,
  missingPayloadIndexes,
  type SpecDifference,
  specFromCollectionInfo,
} from './collection-spec.js';

export type EnsureMode = 'create' | 'update' | 'recreate';

export type EnsureOutcome =
  | { action: 'created' | 'recreated'; name: string; payloadIndexes: string[] }
  | { action: 'up-to-date'; name: string }
  | { action: 'updated'; name: string; applied: SpecDifference[]; remaining: SpecDifference[] }
  | { action: 'differs'; name: string; differences: SpecDifference[] };

export interface CreatePlan {
  create: unknown;
  payloadIndexes: unknown[];
}

/** The requests `collection create` would send, as Qdrant's JSON mapping of the protobufs. */
export function planCreate(name: string, spec: CollectionSpec): CreatePlan {
  return {
    create: toJson(CreateCollectionSchema, buildCreateCollection(name, spec)),
    payloadIndexes: Object.entries(spec.payloadIndexes).map(([field, index]) =>
      toJson(CreateFieldIndexCollectionSchema, fieldIndexRequest(name, field, index)),
    ),
  };
}

/**
 * Make the collection match `spec`. A missing collection is created with its payload indexes; an
 * existing one is compared: equal is fine, different is reported unless `mode` says to update
 * what Qdrant can change in place, or to drop and recreate it.
 */
export async function ensureCollection(
  qdrant: Qdrant,
  name: string,
  spec: CollectionSpec,
  mode: EnsureMode,
): Promise<EnsureOutcome> {
  const exists = await collectionExists(qdrant, name);
  if (exists && mode === 'recreate') {
    await deleteCollection(qdrant, name);
    return { action: 'recreated', name, payloadIndexes: await createWithIndexes(qdrant, name, spec) };
  }
  if (!exists)
    return { action: 'created', name, payloadIndexes: await createWithIndexes(qdrant, name, spec) };

  const info = await getCollection(qdrant, name);
  const differences = diffSpecs(specFromCollectionInfo(info), spec);
  if (differences.length === 0) return { action: 'up-to-date', name };
  if (mode !== 'update') return { action: 'differs', name, differences };

  const update = buildUpdateCollection(name, differences, spec);
  if (update) await qdrant.call(`update collection ${name}`, (apis) => apis.collections.update(update));
  for (const index of missingPayloadIndexes(differences, spec))
    await createPayloadIndex(qdrant, name, index.field, index);
  return {
    action: 'updated',
    name,
    applied: differences.filter((d) => d.updatable),
    remaining: differences.filter((d) => !d.updatable),
  };
}

export async function collectionExists(qdrant: Qdrant, name: string): Promise<boolean> {
  const response = await qdrant.call(`check collection ${name}`, (apis) =>
    apis.collections.collectionExists({ collectionName: name }),
  );
  return response.result?.exists ?? false;
}

export async function getCollection(qdrant: Qdrant, name: string) {
  const response = await qdrant
    .call(`get collection ${name}`, (apis) => apis.collections.get({ collectionName: name }))
    .catch((error: unknown) => {
      throw withMissingCollectionHint(error, name);
    });
  if (!response.result) {
    throw new ServiceError(
      'qdrant',
      qdrant.url,
      `get collection ${name}: the answer held no collection info`,
    );
  }
  return response.result;
}

export async function deleteCollection(qdrant: Qdrant, name: string): Promise<boolean> {
  const response = await qdrant.call(`delete collection ${name}`, (apis) =>
    apis.collections.delete({ collectionName: name }),
  );
  return response.result;
}

/** Delete a collection that must exist: a missing one is an error, not a silent no-op. */
export async function deleteExistingCollection(qdrant: Qdrant, name: string): Promise<void> {
  if (!(await collectionExists(qdrant, name))) {
    throw new TabootError(`collection ${name} does not exist in Qdrant at ${qdrant.url}`);
  }
  await deleteCollection(qdrant, name);
}

function withMissingCollectionHint(error: unknown, name: string): unknown {
  if (!(error instanceof ServiceError) || error.code !== 'NOT_FOUND') return error;
  return new ServiceError('qdrant', error.url, `collection ${name} does not exist`, {
    code: error.code,
    hint: `Create it with: taboot collection create ${name}`,
    cause: error,
  });
}

async function createWithIndexes(qdrant: Qdrant, name: string, spec: CollectionSpec): Promise<string[]> {
  const request = buildCreateCollection(name, spec);
  await qdrant.call(`create collection ${name}`, (apis) => apis.collections.create(request));
  for (const [field, index] of Object.entries(spec.payloadIndexes))
    await createPayloadIndex(qdrant, name, field, index);
  return Object.keys(spec.payloadIndexes);
}

async function createPayloadIndex(
  qdrant: Qdrant,
  name: string,
  field: string,
  index: { type: PayloadIndexType; isTenant: boolean },
): Promise<void> {
  const request = fieldIndexRequest(name, field, index);
  await qdrant.call(`create payload index ${field}`, (apis) => apis.points.createFieldIndex(request));
}

function fieldIndexRequest(
  name: string,
  field: string,
  index: { type: PayloadIndexType; isTenant: boolean },
): CreateFieldIndexCollection {
  const tenantParams =
    index.isTenant && (index.type === 'keyword' || index.type === 'uuid')
      ? {
          fieldIndexParams: {
            indexParams:
              index.type === 'keyword'
                ? { case: 'keywordIndexParams' as const, value: { isTenant: true } }
                : { case: 'uuidIndexParams' as const, value: { isTenant: true } },
          },
        }
      : {};
  return create(CreateFieldIndexCollectionSchema, {
    collectionName: name,
    fieldName: field,
    fieldType: fieldTypeToProto[index.type],
    wait: true,
    ...tenantParams,
  });
}

export interface CollectionSummary {
  name: string;
  status: 'green' | 'yellow' | 'red' | 'grey' | 'unknown';
  optimizerOk: boolean;
  optimizerError: string | undefined;
  points: number;
  indexedVectors: number;
  segments: number;
  config: Omit<CollectionSpec, 'payloadIndexes'>;
  payloadIndexes: Record<string, { type: string; isTenant: boolean; points: number }>;
}

const statusNames: Record<CollectionStatus, CollectionSummary['status']> = {
  [CollectionStatus.Green]: 'green',
  [CollectionStatus.Yellow]: 'yellow',
  [CollectionStatus.Red]: 'red',
  [CollectionStatus.Grey]: 'grey',
  [CollectionStatus.UnknownCollectionStatus]: 'unknown',
};

/** What `collection info` shows: status, counts, settings and payload indexes. */
export async function describeCollection(qdrant: Qdrant, name: string): Promise<CollectionSummary> {
  const info = await getCollection(qdrant, name);
  const { payloadIndexes, ...config } = specFromCollectionInfo(info);
  return {
    name,
    status: statusNames[info.status] ?? 'unknown',
    optimizerOk: info.optimizerStatus?.ok ?? true,
    optimizerError: info.optimizerStatus?.error || undefined,
    points: Number(info.pointsCount ?? 0n),
    indexedVectors: Number(info.indexedVectorsCount ?? 0n),
    segments: Number(info.segmentsCount),
    config,
    payloadIndexes: Object.fromEntries(
      Object.entries(payloadIndexes).map(([field, index]) => [
        field,
        { ...index, points: Number(info.payloadSchema[field]?.points ?? 0n) },
      ]),
    ),
  };
}
