import { Code, ConnectError } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import { toServiceError } from '../../src/qdrant/client.js';

const url = 'http://qdrant:6334';

describe('Qdrant errors as ServiceErrors', () => {
  it('marks INVALID_ARGUMENT as rejected input, final', () => {
    const error = toServiceError(
      url,
      'upsert points',
      new ConnectError('Wrong input: bad', Code.InvalidArgument),
    );
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false, rejectedInput: true });
    expect(error.message).toBe(
      'Qdrant at http://qdrant:6334: upsert points: INVALID_ARGUMENT Wrong input: bad',
    );
  });

  it('retries a refused stream, which connect reports as INTERNAL: the server never saw the request', () => {
    const refused = toServiceError(
      url,
      'get collection docs',
      new ConnectError('Stream closed with error code NGHTTP2_REFUSED_STREAM', Code.Internal),
    );
    expect(refused).toMatchObject({ code: 'INTERNAL', retryable: true, rejectedInput: false });
    const other = toServiceError(url, 'get collection docs', new ConnectError('panic', Code.Internal));
    expect(other.retryable).toBe(false);
  });

  it('keeps retry-after in milliseconds for RESOURCE_EXHAUSTED', () => {
    const error = toServiceError(
      url,
      'upsert points',
      new ConnectError('Rate limiting exceeded', Code.ResourceExhausted, new Headers({ 'retry-after': '3' })),
    );
    expect(error).toMatchObject({ retryable: true, retryAfterMs: 3000 });
  });
});
