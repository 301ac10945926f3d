/**
 * TEI 1.9's error vocabulary, as router/src/lib.rs and router/src/http/server.rs define it: native routes
 * answer `{"error", "error_type"}` with the Rust enum's variant name (`"Validation"`, capitalised),
 * `/v1/embeddings` answers `{"message", "code", "type"}`. Status by type: Empty 400, Validation 413
 * (batch size, input too long), Tokenizer 422, Backend 424, Overloaded 429, Unhealthy 503.
 * Body-extraction failures are axum's plain-text rejections (400 syntax, 415 content type, 413 size,
 * 422 shape).
 */

export type TeiErrorType = 'Unhealthy' | 'Backend' | 'Overloaded' | 'Validation' | 'Tokenizer' | 'Empty';

const statusByType: Record<TeiErrorType, number> = {
  Empty: 400,
  Validation: 413,
  Tokenizer: 422,
  Backend: 424,
  Overloaded: 429,
  Unhealthy: 503,
};

/** An error TEI's handlers return as JSON. `status` overrides the type's own (a 500 fault, say). */
export class TeiError extends Error {
  readonly status: number;
  constructor(
    readonly errorType: TeiErrorType,
    message: string,
    status?: number,
  ) {
    super(message);
    this.status = status ?? statusByType[errorType];
  }

  nativeBody(): string {
    return JSON.stringify({ error: this.message, error_type: this.errorType });
  }

  openAiBody(): string {
    return JSON.stringify({ message: this.message, code: this.status, type: this.errorType });
  }
}

/** A plain-text rejection from axum's `Json` extractor or body limit. */
export class Rejection extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const messages = {
  emptyBatch: '`inputs` cannot be empty',
  emptyTexts: '`texts` cannot be empty',
  emptyInput: 'Input validation error: `inputs` cannot be empty',
  batchSize: (size: number, max: number) => `batch size ${size} > maximum allowed batch size ${max}`,
  tooManyTokens: (max: number, given: number) =>
    `Input validation error: \`inputs\` must have less than ${max} tokens. Given: ${given}`,
  tooManyChars: (limit: number, given: number) =>
    `Input validation error: \`inputs\` must have less than ${limit} characters. Given: ${given}`,
  unknownPrompt: (name: string, available: string[]) =>
    `Input validation error: \`default-prompt-name\` is set to \`${name}\` but it was not found in the Sentence Transformers prompts. Available prompts: ${JSON.stringify(available).replaceAll(',', ', ')}`,
  /** TEI's text for this case is not in the sources read; the shape (413, Validation) is. */
  badDimensions: (max: number, given: number) =>
    `Input validation error: \`dimensions\` must be between 1 and ${max}. Given: ${given}`,
  overloaded: 'Model is overloaded',
  unhealthy: 'unhealthy',
  backend: 'Backend error: Inference error: injected fault',
  internal: 'Internal Server Error',
  notReranker: 'Backend error: Inference error: model is not a re-ranker model',
  bodyTooLarge: 'Failed to buffer the request body: length limit exceeded',
  contentType: 'Expected request with `Content-Type: application/json`',
  syntax: (detail: string) => `Failed to parse the request body as JSON: ${detail}`,
  shape: (detail: string) => `Failed to deserialize the JSON body into the target type: ${detail}`,
};

/** The error an injected `status` stands for, in TEI's words. */
export function faultError(status: 429 | 503 | 424 | 500): TeiError {
  switch (status) {
    case 429:
      return new TeiError('Overloaded', messages.overloaded);
    case 503:
      return new TeiError('Unhealthy', messages.unhealthy);
    case 424:
      return new TeiError('Backend', messages.backend);
    case 500:
      return new TeiError('Backend', messages.internal, 500);
  }
}
