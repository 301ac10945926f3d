import { create } from '@bufbuild/protobuf';
import { CollectionInfoSchema, Distance, PayloadSchemaType, QuantizationType } from '@qdrant/js-client-grpc';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import {
  buildCreateCollection,
  buildUpdateCollection,
  diffSpecs,
  missingPayloadIndexes,
  shortestFloat32,
  specFromCollectionInfo,
  specFromConfig,
} from '../../src/qdrant/collection-spec.js';
import { planCreate } from '../../src/qdrant/collections.js';

const defaults = configSchema.parse({});
const spec = () => specFromConfig(defaults.collection);

/** The CollectionInfo Qdrant would report for a collection created from `buildCreateCollection`. */
function infoFor(
  request: ReturnType<typeof buildCreateCollection>,
  indexes: Record<string, PayloadSchemaType>,
) {
  const params =
    request.vectorsConfig?.config.case === 'params' ? request.vectorsConfig.config.value : undefined;
  return create(CollectionInfoSchema, {
    config: {
      params: {
        vectorsConfig: {
          config: {
            case: 'params',
            value: { size: params?.size, distance: params?.distance, onDisk: params?.onDisk },
          },
        },
        shardNumber: request.shardNumber,
        replicationFactor: request.replicationFactor,
        writeConsistencyFactor: request.writeConsistencyFactor,
      },
      hnswConfig: request.hnswConfig,
      optimizerConfig: request.optimizersConfig,
      quantizationConfig: request.quantizationConfig,
    },
    payloadSchema: Object.fromEntries(
      Object.entries(indexes).map(([field, dataType]) => [field, { dataType }]),
    ),
  });
}

const seedIndexes = {
  doc_id: PayloadSchemaType.Keyword,
  source: PayloadSchemaType.Keyword,
  service_name: PayloadSchemaType.Keyword,
  section: PayloadSchemaType.Keyword,
  tags: PayloadSchemaType.Keyword,
  created_at: PayloadSchemaType.Integer,
  chunk_index: PayloadSchemaType.Integer,
};

describe('collection spec', () => {
  it('builds the seed CreateCollection request with sizes in kilobytes', () => {
    const request = buildCreateCollection('technical_docs', spec());
    expect(request.vectorsConfig?.config).toMatchObject({
      case: 'params',
      value: { size: 1024n, distance: Distance.Cosine },
    });
    expect(request.hnswConfig).toMatchObject({ m: 32n, efConstruct: 256n, fullScanThreshold: 10_000n });
    expect(request.optimizersConfig).toMatchObject({
      defaultSegmentNumber: 2n,
      maxSegmentSize: 500_000n,
      indexingThreshold: 20_000n,
    });
    expect(request.quantizationConfig?.quantization).toMatchObject({
      case: 'scalar',
      value: { type: QuantizationType.Int8, quantile: 0.99, alwaysRam: true },
    });
  });

  it('leaves quantization out when the config says none', () => {
    const request = buildCreateCollection('x', {
      ...spec(),
      quantization: { type: 'none', quantile: 0.99, alwaysRam: true },
    });
    expect(request.quantizationConfig).toBeUndefined();
  });

  it('finds no difference between a spec and the collection created from it', () => {
    const current = specFromCollectionInfo(infoFor(buildCreateCollection('x', spec()), seedIndexes));
    expect(diffSpecs(current, spec())).toEqual([]);
  });

  it('names each difference with both values and whether Qdrant can change it in place', () => {
    const current = specFromCollectionInfo(infoFor(buildCreateCollection('x', spec()), seedIndexes));
    const desired = { ...spec(), vectorSize: 768, hnsw: { ...spec().hnsw, m: 16 } };
    expect(diffSpecs(current, desired)).toEqual([
      { path: 'vectorSize', current: '1024', desired: '768', updatable: false },
      { path: 'hnsw.m', current: '32', desired: '16', updatable: true },
    ]);
  });

  it('reports missing payload indexes as addable and a changed index type as not', () => {
    const { tags: _tags, ...withoutTags } = seedIndexes;
    const current = specFromCollectionInfo(
      infoFor(buildCreateCollection('x', spec()), { ...withoutTags, created_at: PayloadSchemaType.Keyword }),
    );
    const differences = diffSpecs(current, spec());
    expect(differences).toEqual([
      { path: 'payloadIndexes.tags', current: 'none', desired: 'keyword', updatable: true },
      { path: 'payloadIndexes.created_at', current: 'keyword', desired: 'integer', updatable: false },
    ]);
    expect(missingPayloadIndexes(differences, spec())).toEqual([
      { field: 'tags', type: 'keyword', isTenant: false },
    ]);
  });

  it('updates only the groups that changed', () => {
    const current = specFromCollectionInfo(infoFor(buildCreateCollection('x', spec()), seedIndexes));
    const desired = { ...spec(), hnsw: { ...spec().hnsw, efConstruct: 128 } };
    const update = buildUpdateCollection('x', diffSpecs(current, desired), desired);
    expect(update?.hnswConfig).toMatchObject({ m: 32n, efConstruct: 128n });
    expect(update?.optimizersConfig).toBeUndefined();
    expect(update?.quantizationConfig).toBeUndefined();
    expect(buildUpdateCollection('x', [], desired)).toBeUndefined();
  });

  it('plans the create and payload index requests in Qdrant JSON for --dry-run', () => {
    const plan = planCreate('technical_docs', spec());
    expect(plan.create).toMatchObject({
      collectionName: 'technical_docs',
      hnswConfig: { m: '32', efConstruct: '256' },
    });
    expect(plan.payloadIndexes).toHaveLength(7);
    expect(plan.payloadIndexes[0]).toMatchObject({ fieldName: 'doc_id', fieldType: 'FieldTypeKeyword' });
  });
});

describe('shortestFloat32', () => {
  it('reads a protobuf float back as the decimal that was written', () => {
    expect(shortestFloat32(Math.fround(0.99))).toBe(0.99);
    expect(shortestFloat32(Math.fround(0.995))).toBe(0.995);
    expect(shortestFloat32(1)).toBe(1);
    expect(shortestFloat32(Math.fround(0.1234567))).toBe(0.1234567);
  });
});
