import { request } from 'undici';

/** A parsed reply from a TEI (real or test) server, for protocol tests. */
export interface TeiReply {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/**
 * The size of the vectors a TEI server (real or test) makes: one probe embed, through TEI's
 * `/embed` or, with `openai`, the OpenAI route `/v1/embeddings` with that model name.
 */
export async function embeddingSize(baseUrl: string, openai?: { model: string }): Promise<number> {
  const reply = openai
    ? await teiCall(baseUrl, 'POST', '/v1/embeddings', { input: ['size probe'], model: openai.model })
    : await teiCall(baseUrl, 'POST', '/embed', { inputs: ['size probe'] });
  const vector = openai
    ? (reply.json as { data?: Array<{ embedding: number[] }> } | undefined)?.data?.[0]?.embedding
    : (reply.json as number[][] | undefined)?.[0];
  if (reply.status !== 200 || !vector) throw new Error(`no embedding from ${baseUrl}: ${reply.text}`);
  return vector.length;
}

/** Small undici helper for tests that drive a TEI server directly. */
export async function teiCall(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  options: { apiKey?: string | undefined; contentType?: string; rawBody?: string | Buffer } = {},
): Promise<TeiReply> {
  const headers: Record<string, string> = {};
  const payload = options.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
  if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const response = await request(new URL(path, baseUrl), { method, headers, body: payload });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(response.headers)) {
    if (value !== undefined) flat[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: response.statusCode, headers: flat, text, json };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

export function norm(vector: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  return Math.sqrt(sum);
}

/** Decodes `/v1/embeddings` base64 (little-endian float32). */
export function decodeBase64Floats(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}
