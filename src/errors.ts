/**
 * Every error taboot expects to happen lives here. Known errors print as one line and carry the
 * exit code the entry point sets; anything else is a bug and prints its stack.
 *
 * Exit codes: 0 ok, 1 runtime failure (a service is down, a collection differs), 2 usage or
 * config error, 3 finished but some input was skipped, 4 another run holds the collection, 130
 * interrupted.
 */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  Partial: 3,
  /** Another run holds the collection's lock. */
  Locked: 4,
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is meant for the user: printed alone, without a stack. */
export class TabootError extends Error {
  readonly exitCode: number;
  /** A second line telling the user what to do about it. */
  readonly hint: string | undefined;

  constructor(message: string, options: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.Failure;
    this.hint = options.hint;
  }
}

/** Bad flags or arguments. */
export class UsageError extends TabootError {
  constructor(message: string, options: { hint?: string } = {}) {
    super(message, { exitCode: ExitCode.Usage, ...options });
  }
}

/** An invalid configuration: one line per problem, each naming its config path. */
export class ConfigError extends TabootError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], source?: string) {
    const where = source ? ` in ${source}` : '';
    super(`invalid configuration${where}:\n  ${problems.join('\n  ')}`, { exitCode: ExitCode.Usage });
    this.problems = problems;
  }
}

export type ServiceName = 'qdrant' | 'tei' | 'openai' | 'reranker';

/** How a service is named in messages. */
export const serviceLabel: Record<ServiceName, string> = {
  qdrant: 'Qdrant',
  tei: 'TEI',
  openai: 'OpenAI-compatible server',
  reranker: 'reranker',
};

/**
 * A failure talking to Qdrant, TEI or another service. `retryable` says whether the same request may succeed later
 * (overload, unavailability, lost connection); `retryAfterMs` is the server's own hint.
 */
export class ServiceError extends TabootError {
  readonly service: ServiceName;
  readonly url: string;
  /** gRPC code name (`UNAVAILABLE`) or HTTP status (`429`), when the server answered. */
  readonly code: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  /**
   * The server refused the request's content as invalid (Qdrant INVALID_ARGUMENT, TEI 413/422):
   * sending it again cannot help, but sending a part of it may, so batch senders split it to find
   * the offending item. Set by each service's adapter, which knows its protocol's codes.
   */
  readonly rejectedInput: boolean;
  /**
   * Nothing answered at the address (connection refused, unknown host): the server is not
   * running or the URL is wrong. Retryable mid-run (a restart), but a preflight reports it at once.
   */
  readonly unreachable: boolean;

  constructor(
    service: ServiceName,
    url: string,
    message: string,
    options: {
      code?: string;
      retryable?: boolean;
      retryAfterMs?: number;
      rejectedInput?: boolean;
      unreachable?: boolean;
      hint?: string;
      cause?: unknown;
    } = {},
  ) {
    super(`${serviceLabel[service]} at ${url}: ${message}`, {
      exitCode: ExitCode.Failure,
      hint: options.hint,
      cause: options.cause,
    });
    this.service = service;
    this.url = url;
    this.code = options.code;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.rejectedInput = options.rejectedInput ?? false;
    this.unreachable = options.unreachable ?? false;
  }
}

/** Raised on SIGINT/SIGTERM once in-flight work has drained. */
export class InterruptedError extends TabootError {
  constructor(signal: string) {
    super(`interrupted by ${signal}`, { exitCode: ExitCode.Interrupted });
  }
}

/** Carries a bare exit code when the command already told the user why (e.g. `collection create` diffs). */
export class ExitError extends TabootError {
  constructor(exitCode: number, message = '') {
    super(message, { exitCode });
  }
}

export function isTabootError(error: unknown): error is TabootError {
  return error instanceof TabootError;
}

/** A service refused a request's content as invalid (see `ServiceError.rejectedInput`). */
export function isRejectedInput(error: unknown): boolean {
  return error instanceof ServiceError && error.rejectedInput;
}

/**
 * The message of anything thrown: an Error's message, else its string form. For text shown to a
 * person, where a cast (`(e as Error).message`) would print `undefined` for a thrown string.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  )
    return (error as { message: string }).message;
  return String(error);
}

/** A connection error code that means nothing answers at that address (not a slow or broken peer). */
export function isUnreachableCode(code: unknown): boolean {
  return typeof code === 'string' && /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN/.test(code);
}
