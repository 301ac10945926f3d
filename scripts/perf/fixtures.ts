import { create } from '@bufbuild/protobuf';
import { type PointStruct, PointStructSchema, type Value, ValueSchema } from '@qdrant/js-client-grpc';
import type { EncodablePoint, PayloadValue } from '../../src/qdrant/point-encoder.js';
import { pointId } from '../../src/qdrant/point-id.js';
import { seededRandom } from './measure.js';

/** The vocabulary of generated chunk text. */
export const chunkWords = [
  'scrape',
  'target',
  'alert',
  'rule',
  'metric',
  'label',
  'query',
  'storage',
  'remote',
  'write',
];

/** Normalised random embeddings with a payload shaped like an ingested Markdown chunk. */
export function makePoints(count: number, dim: number, seed = 1, offset = 0): EncodablePoint[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const vector = new Float32Array(dim);
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const v = random() * 2 - 1;
      vector[d] = v;
      norm += v * v;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let d = 0; d < dim; d++) vector[d]! *= scale;
    const content = Array.from(
      { length: 150 },
      () => chunkWords[Math.floor(random() * chunkWords.length)],
    ).join(' ');
    const chunkIndex = (offset + i) % 20;
    const docId = `docs/page-${Math.floor((offset + i) / 20)}.md`;
    return {
      id: pointId(docId, chunkIndex),
      vector,
      payload: {
        doc_id: docId,
        source: 'prometheus-docs',
        chunk_index: chunkIndex,
        chunk_count: 20,
        doc_hash: 'a3f1c2d4e5b6a7980112233445566778899aabbccddeeff00112233445566778',
        content,
        section: 'Configuration > Scrape configs',
        title: 'Configuration',
        tags: ['prometheus', 'configuration'],
        created_at: 1_717_000_000 + i,
      },
    };
  });
}

function stockValue(value: PayloadValue): Value {
  if (value === null) return create(ValueSchema, { kind: { case: 'nullValue', value: 0 } });
  switch (typeof value) {
    case 'string':
      return create(ValueSchema, { kind: { case: 'stringValue', value } });
    case 'boolean':
      return create(ValueSchema, { kind: { case: 'boolValue', value } });
    case 'number':
      return Number.isSafeInteger(value)
        ? create(ValueSchema, { kind: { case: 'integerValue', value: BigInt(value) } })
        : create(ValueSchema, { kind: { case: 'doubleValue', value } });
    default:
      if (Array.isArray(value)) {
        return create(ValueSchema, { kind: { case: 'listValue', value: { values: value.map(stockValue) } } });
      }
      return create(ValueSchema, {
        kind: { case: 'structValue', value: { fields: stockPayload(value as Record<string, PayloadValue>) } },
      });
  }
}

function stockPayload(payload: Readonly<Record<string, PayloadValue | undefined>>): Record<string, Value> {
  const fields: Record<string, Value> = {};
  for (const [key, value] of Object.entries(payload))
    if (value !== undefined) fields[key] = stockValue(value);
  return fields;
}

/** What a js-client-grpc user builds from the same data: protobuf-es messages, vectors as number[]. */
export function toStockPoints(points: readonly EncodablePoint[]): PointStruct[] {
  return points.map((point) =>
    create(PointStructSchema, {
      id: {
        pointIdOptions:
          typeof point.id === 'string'
            ? { case: 'uuid', value: point.id }
            : { case: 'num', value: BigInt(point.id) },
      },
      payload: stockPayload(point.payload),
      vectors: {
        vectorsOptions: {
          case: 'vector',
          value: { vector: { case: 'dense', value: { data: Array.from(point.vector) } } },
        },
      },
    }),
  );
}
