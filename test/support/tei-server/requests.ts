import { messages, Rejection } from './errors.js';

/**
 * Request bodies checked the way TEI's serde structs (router/src/http/types.rs) accept them; anything
 * else is axum's 422 `JsonDataError` with a serde-like detail (`missing field \`inputs\``).
 */

type Json = unknown;
type Body = Record<string, Json>;

export type Direction = 'Left' | 'Right';

export interface EmbedRequest {
  inputs: string | string[];
  normalize: boolean;
  truncate: boolean | undefined;
  truncationDirection: Direction;
  promptName: string | undefined;
  dimensions: number | undefined;
}

export interface OpenAiRequest {
  input: string | string[];
  model: string | undefined;
  encodingFormat: 'float' | 'base64';
  dimensions: number | undefined;
}

export interface RerankRequest {
  query: string;
  texts: string[];
  truncate: boolean | undefined;
  truncationDirection: Direction;
  rawScores: boolean;
  returnText: boolean;
}

export interface CohereRerankRequest {
  query: string;
  documents: string[];
  topN: number | undefined;
  returnDocuments: boolean;
  model: string | undefined;
}

export interface TokenizeRequest {
  inputs: string | string[];
  addSpecialTokens: boolean;
  promptName: string | undefined;
}

export function parseEmbed(value: Json): EmbedRequest {
  const body = object(value, 'EmbedRequest');
  return {
    inputs: input(body, 'inputs', 'Input'),
    normalize: bool(body, 'normalize') ?? true,
    truncate: bool(body, 'truncate'),
    truncationDirection: direction(body),
    promptName: string(body, 'prompt_name'),
    dimensions: usize(body, 'dimensions'),
  };
}

export function parseOpenAi(value: Json): OpenAiRequest {
  const body = object(value, 'OpenAICompatRequest');
  const format = string(body, 'encoding_format') ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw shape(`encoding_format: unknown variant \`${format}\`, expected \`float\` or \`base64\``);
  }
  return {
    input: input(body, 'input', 'Input'),
    model: string(body, 'model'),
    encodingFormat: format,
    dimensions: usize(body, 'dimensions'),
  };
}

export function parseRerank(value: Json): RerankRequest {
  const body = object(value, 'RerankRequest');
  return {
    query: required(body, 'query', string),
    texts: required(body, 'texts', strings),
    truncate: bool(body, 'truncate'),
    truncationDirection: direction(body),
    rawScores: bool(body, 'raw_scores') ?? false,
    returnText: bool(body, 'return_text') ?? false,
  };
}

/** Cohere/Jina `/v1/rerank`: documents are strings or `{text}` objects. */
export function parseCohereRerank(value: Json): CohereRerankRequest {
  const body = object(value, 'RerankRequest');
  const raw = body.documents;
  if (!Array.isArray(raw))
    throw shape(raw === undefined ? 'missing field `documents`' : 'documents: expected a list');
  const documents = raw.map((doc, i) => {
    if (typeof doc === 'string') return doc;
    if (doc && typeof doc === 'object' && typeof (doc as Body).text === 'string')
      return (doc as Body).text as string;
    throw shape(`documents[${i}]: expected a string or an object with \`text\``);
  });
  return {
    query: required(body, 'query', string),
    documents,
    topN: usize(body, 'top_n'),
    returnDocuments: bool(body, 'return_documents') ?? false,
    model: string(body, 'model'),
  };
}

export function parseTokenize(value: Json): TokenizeRequest {
  const body = object(value, 'TokenizeRequest');
  return {
    inputs: input(body, 'inputs', 'TokenizeInput'),
    addSpecialTokens: bool(body, 'add_special_tokens') ?? true,
    promptName: string(body, 'prompt_name'),
  };
}

function shape(detail: string): Rejection {
  return new Rejection(422, messages.shape(detail));
}

function object(value: Json, struct: string): Body {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw shape(`invalid type: ${describe(value)}, expected struct ${struct}`);
  }
  return value as Body;
}

/**
 * TEI's untagged `Input` (`Single(InputType) | Batch(Vec<InputType>)`, `InputType` being a string or
 * token ids) reads `[]` as a single input of zero token ids, which core then refuses as empty: so
 * `[]` comes back here as the single empty string. `TokenizeInput` has no ids and reads `[]` as an
 * empty batch. Token-id inputs are not supported otherwise (the stand-in tokenizer cannot decode).
 */
function input(body: Body, key: string, enumName: 'Input' | 'TokenizeInput'): string | string[] {
  const value = body[key];
  if (value === undefined) throw shape(`missing field \`${key}\``);
  if (typeof value === 'string') return value;
  if (enumName === 'Input' && Array.isArray(value) && value.length === 0) return '';
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  throw shape(`${key}: data did not match any variant of untagged enum ${enumName}`);
}

function required<T>(body: Body, key: string, read: (body: Body, key: string) => T | undefined): T {
  if (body[key] === undefined || body[key] === null) throw shape(`missing field \`${key}\``);
  return read(body, key) as T;
}

function bool(body: Body, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw shape(`${key}: invalid type: ${describe(value)}, expected a boolean`);
  return value;
}

function string(body: Body, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw shape(`${key}: invalid type: ${describe(value)}, expected a string`);
  return value;
}

function strings(body: Body, key: string): string[] {
  const value = body[key];
  if (!Array.isArray(value)) throw shape(`${key}: invalid type: ${describe(value)}, expected a sequence`);
  value.forEach((item, i) => {
    if (typeof item !== 'string')
      throw shape(`${key}[${i}]: invalid type: ${describe(item)}, expected a string`);
  });
  return value as string[];
}

function usize(body: Body, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw shape(`${key}: invalid value: ${describe(value)}, expected usize`);
  }
  return value;
}

function direction(body: Body): Direction {
  const value = string(body, 'truncation_direction');
  if (value === undefined) return 'Right';
  if (value === 'Left' || value === 'left') return 'Left';
  if (value === 'Right' || value === 'right') return 'Right';
  throw shape(`truncation_direction: unknown variant \`${value}\`, expected \`Left\` or \`Right\``);
}

function describe(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'sequence';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value)}`;
    case 'number':
      return Number.isInteger(value) ? `integer \`${value}\`` : `floating point \`${value}\``;
    case 'boolean':
      return `boolean \`${value}\``;
    default:
      return 'map';
  }
}
