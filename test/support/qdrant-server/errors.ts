import { Code, ConnectError } from '@connectrpc/connect';

/**
 * Status codes and messages as Qdrant 1.19 sends them: `StorageError`'s display text
 * (`Wrong input: ...`, `Not found: ...`) mapped to a gRPC code by `error_to_status`.
 */
export const qdrantErrors = {
  /**
   * The call's `grpc-timeout` passed while the server still had it: tonic's timeout layer answers
   * CANCELLED with this message (tonic `TimeoutExpired` into `Status`), not DEADLINE_EXCEEDED.
   */
  timeoutExpired: () => new ConnectError('Timeout expired', Code.Canceled),
  collectionNotFound: (name: string) =>
    new ConnectError(`Not found: Collection \`${name}\` doesn't exist!`, Code.NotFound),
  collectionExists: (name: string) =>
    new ConnectError(`Wrong input: Collection \`${name}\` already exists!`, Code.AlreadyExists),
  dimension: (expected: number, got: number) =>
    new ConnectError(
      `Wrong input: Vector dimension error: expected dim: ${expected}, got ${got}`,
      Code.InvalidArgument,
    ),
  badInput: (description: string) => new ConnectError(`Wrong input: ${description}`, Code.InvalidArgument),
  /** `Not found: ...` for anything but a collection (an alias, a point). */
  notFound: (description: string) => new ConnectError(`Not found: ${description}`, Code.NotFound),
  /** Request conversion failures, which Qdrant's gRPC layer answers with its bare text. */
  invalid: (message: string) => new ConnectError(message, Code.InvalidArgument),
  /** Request validation (`validator` crate) failures, labelled the way Qdrant's tonic layer does. */
  validation: (field: string, message: string) =>
    new ConnectError(`Validation error in body: [${field}: ${message}]`, Code.InvalidArgument),
  missingApiKey: () =>
    new ConnectError('Must provide an API key or an Authorization bearer token', Code.Unauthenticated),
  invalidApiKey: () => new ConnectError('Invalid API key or JWT', Code.Unauthenticated),
  unsupported: (what: string) =>
    new ConnectError(`${what} is not supported by the test server`, Code.Unimplemented),
};

/** Default messages for injected faults, in Qdrant's wording for each kind of failure. */
export function defaultFaultMessage(code: Code): string {
  switch (code) {
    case Code.ResourceExhausted:
      return 'Rate limiting exceeded: Write rate limit exceeded, retry later';
    case Code.Unavailable:
      return 'Shard temporarily unavailable: no active replicas';
    case Code.DeadlineExceeded:
      return "Timeout: Operation 'update' timed out after 30s";
    case Code.InvalidArgument:
      return 'Wrong input: injected bad input';
    case Code.NotFound:
      return 'Not found: injected';
    case Code.Internal:
      return 'Service internal error: injected failure';
    default:
      return `injected ${Code[code] ?? 'error'}`;
  }
}
