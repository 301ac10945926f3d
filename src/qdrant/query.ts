import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  type Filter,
  type QueryPoints,
  QueryPointsSchema,
  type SearchParamsSchema,
} from '@qdrant/js-client-grpc';

export interface NearestQuery {
  collectionName: string;
  vector: number[];
  limit: number;
  filter?: Filter | undefined;
  scoreThreshold?: number | undefined;
  params: MessageInitShape<typeof SearchParamsSchema>;
  /** Payload fields to return: a list, all (`true`) or none (`false`). */
  withPayload: readonly string[] | boolean;
}

/** A Query API request (`Points/Query`, Qdrant >= 1.10) for the points nearest to a dense vector. */
export function nearestQuery(query: NearestQuery): QueryPoints {
  return create(QueryPointsSchema, {
    collectionName: query.collectionName,
    query: {
      variant: { case: 'nearest', value: { variant: { case: 'dense', value: { data: query.vector } } } },
    },
    filter: query.filter,
    limit: BigInt(query.limit),
    scoreThreshold: query.scoreThreshold,
    params: query.params,
    withPayload:
      typeof query.withPayload === 'boolean'
        ? { selectorOptions: { case: 'enable', value: query.withPayload } }
        : { selectorOptions: { case: 'include', value: { fields: [...query.withPayload] } } },
  });
}
