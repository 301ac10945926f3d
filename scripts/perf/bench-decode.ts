import { decodeBase64Embeddings, parseFloatMatrix } from '../../src/embed/decode.js';
import { measure, seededRandom } from './measure.js';

export interface DecodeBenchResult {
  vectors: number;
  dim: number;
  /** Vectors/s: `JSON.parse` of `/embed`'s body, then a Float32Array per row. */
  jsonParse: number;
  /** Vectors/s: `parseFloatMatrix` of the same body. */
  floatScanner: number;
  /** Vectors/s: `decodeBase64Embeddings` of `/v1/embeddings` with `encoding_format: "base64"`. */
  base64: number;
  scannerRatio: number;
  base64Ratio: number;
}

/** The shortest decimal that reads back as the same float32, as TEI (Rust, serde_json) prints it. */
function shortestF32(value: number): string {
  for (let precision = 1; precision <= 9; precision++) {
    const text = Number(value.toPrecision(precision)).toString();
    if (Math.fround(Number(text)) === value) return text;
  }
  return value.toString();
}

/** Response bodies for one TEI batch of normalised embeddings. */
export function embeddingBodies(vectors: number, dim: number): { embed: Buffer; base64: Buffer } {
  const random = seededRandom(7);
  const rows = Array.from({ length: vectors }, () => {
    const row = Float32Array.from({ length: dim }, () => random() * 2 - 1);
    const norm = Math.sqrt(row.reduce((sum, v) => sum + v * v, 0));
    return row.map((v) => v / norm);
  });
  const embed = `[${rows.map((row) => `[${Array.from(row, shortestF32).join(',')}]`).join(',')}]`;
  const base64 = JSON.stringify({
    object: 'list',
    data: rows.map((row, index) => ({
      object: 'embedding',
      embedding: Buffer.from(row.buffer, row.byteOffset, row.byteLength).toString('base64'),
      index,
    })),
    model: 'Qwen/Qwen3-Embedding-0.6B',
    usage: { prompt_tokens: vectors * 300, total_tokens: vectors * 300 },
  });
  return { embed: Buffer.from(embed), base64: Buffer.from(base64) };
}

/** Decode one TEI batch (32 inputs of 1024 dims by default) three ways, from the response bytes. */
export async function benchDecode(
  options: { vectors?: number; dim?: number; minMs?: number } = {},
): Promise<DecodeBenchResult> {
  const vectors = options.vectors ?? 32;
  const dim = options.dim ?? 1024;
  const bodies = embeddingBodies(vectors, dim);
  const jsonRun = () =>
    (JSON.parse(bodies.embed.toString('utf8')) as number[][]).map((row) => Float32Array.from(row));
  const scannerRun = () => parseFloatMatrix(bodies.embed, dim);
  const base64Run = () => decodeBase64Embeddings(bodies.base64, dim);
  const expected = jsonRun();
  for (const decoded of [scannerRun(), base64Run()]) {
    if (decoded.length !== vectors || decoded.some((row, i) => row.some((v, d) => v !== expected[i]![d]))) {
      throw new Error('decoders disagree');
    }
  }
  const minMs = options.minMs;
  const json = await measure(jsonRun, vectors, { minMs });
  const scanner = await measure(scannerRun, vectors, { minMs });
  const base64 = await measure(base64Run, vectors, { minMs });
  return {
    vectors,
    dim,
    jsonParse: json.perSecond,
    floatScanner: scanner.perSecond,
    base64: base64.perSecond,
    scannerRatio: scanner.perSecond / json.perSecond,
    base64Ratio: base64.perSecond / json.perSecond,
  };
}
