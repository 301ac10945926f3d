/**
 * TEI 1.9.3's error vocabulary, as router/src/lib.rs and router/src/http/server.rs define it: native routes
 * answer `{"error", "error_type"}` with the Rust enum's variant name (`"Validation"`, capitalised),
 * `/v1/embeddings` answers `{"message", "code", "type"}`. Status by type (server.rs,
 * `impl From<&ErrorType> for StatusCode`): Empty 400, Validation 422, Tokenizer 422, Backend 424,
 * Overloaded 429, Unhealthy 503. Errors raised in core (`TextEmbeddingsError`) carry their Display
 * prefix: `Input validation error: ` for Validation and Empty, `Backend error: ` for Backend.
 * Body-extraction failures are axum's plain-text rejections (400 syntax, 415 content type, 413 size,
 * 422 shape); 413 is only ever the body limit.
 */

export type TeiErrorType = 'Unhealthy' | 'Backend' | 'Overloaded' | 'Validation' | 'Tokenizer' | 'Empty';

const statusByType: Record<TeiErrorType, number> = {
  Empty: 400,
  Validation: 422,
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

const validation = 'Input validation error: ';

export const messages = {
  /** A batch route's own check (router): no prefix. */
  emptyBatch: '`inputs` cannot be empty',
  emptyTexts: '`texts` cannot be empty',
  /**
   * Core's tokenizer check, with the prefix. `/embed` and `/v1/embeddings` answer it for `[]` too:
   * serde's untagged `Input` reads `[]` as a single input of zero token ids, not as an empty batch.
   */
  emptyInput: `${validation}\`inputs\` cannot be empty`,
  batchSize: (size: number, max: number) => `batch size ${size} > maximum allowed batch size ${max}`,
  tooManyTokens: (max: number, given: number) =>
    `${validation}\`inputs\` must have less than ${max} tokens. Given: ${given}`,
  tooManyChars: (limit: number, given: number) =>
    `${validation}\`inputs\` must have less than ${limit} characters. Given: ${given}`,
  unknownPrompt: (name: string, available: string[]) =>
    `${validation}\`default-prompt-name\` is set to \`${name}\` but it was not found in the Sentence Transformers prompts. Available prompts: ${JSON.stringify(available).replaceAll(',', ', ')}`,
  /** core/src/infer.rs `embed_pooled`: checked before inference. */
  zeroDimensions: `${validation}\`dimensions\` should be positive`,
  /** core/src/infer.rs `embed_pooled`: checked after inference, against the model's size. */
  tooManyDimensions: `${validation}\`dimensions\` should be smaller than the maximum embedding dimension.`,
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
