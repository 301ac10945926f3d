import { endianness } from 'node:os';
import { hashString } from './tokenizer.js';
import { functionWordWeight, isFunctionWord, stem, withoutInstruction } from './word-features.js';

/**
 * Deterministic embeddings from hashed word features: each lower-cased word adds ±1 to four
 * dimensions chosen by its stem (the first of them always within the leading 32, so Matryoshka
 * prefixes keep every word), and its character trigrams add a little on top so that inflections
 * ("scrape", "scraping") stay close. Function words weigh a tenth, and a Qwen3 query instruction adds
 * nothing (see word-features.ts). Texts that share content words therefore have a high cosine;
 * unrelated texts are near orthogonal.
 */

const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const wordFeatures = 4;
/** Qwen3-Embedding's smallest Matryoshka size: every word has a feature within it. */
const matryoshkaFloor = 32;
const trigramWeight = 0.3;

/**
 * Writes the raw (unnormalised) embedding of `text` into `out` (all `out.length` dimensions).
 * A text without any word still gets one feature from its whole content, so no vector is zero.
 */
export function embedInto(out: Float32Array, text: string): void {
  out.fill(0);
  const dims = out.length;
  const lowered = withoutInstruction(text).toLowerCase();
  let words = 0;
  WORD.lastIndex = 0;
  for (let match = WORD.exec(lowered); match !== null; match = WORD.exec(lowered)) {
    const word = match[0];
    words++;
    const { base, weight } = featuresOf(word);
    const trigram = trigramWeight * weight;
    for (let j = 0; j < wordFeatures; j++) {
      const h = mix(base + Math.imul(j, 0x9e3779b9));
      const range = j === 0 ? Math.min(dims, matryoshkaFloor) : dims;
      out[h % range]! += h & 0x80000000 ? -weight : weight;
    }
    // Trigrams of `^word$`, hashed in place (0x5e is '^', 0x24 is '$').
    const last = word.length + 1;
    for (let i = 0; i + 2 <= last; i++) {
      let t = 0x12345678;
      for (let k = i; k < i + 3; k++) {
        const code = k === 0 ? 0x5e : k === last ? 0x24 : word.charCodeAt(k - 1);
        t = Math.imul(t ^ code, 0x01000193);
      }
      const h = mix(t);
      out[h % dims]! += h & 0x80000000 ? -trigram : trigram;
    }
  }
  if (words === 0) {
    const h = mix(hashString(lowered));
    out[h % Math.min(dims, matryoshkaFloor)] = 1;
  }
}

/**
 * The first `dimensions` values of `full`, L2-normalised when `normalize` (TEI normalises after cutting
 * the Matryoshka prefix). Returns a view into `scratch` when it is large enough, so the caller must
 * consume it before the next call.
 */
export function finish(
  full: Float32Array,
  dimensions: number,
  normalize: boolean,
  scratch: Float32Array,
): Float32Array {
  const out = scratch.subarray(0, dimensions);
  out.set(full.subarray(0, dimensions));
  if (normalize) {
    let sum = 0;
    for (let i = 0; i < out.length; i++) sum += out[i]! * out[i]!;
    if (sum === 0) {
      // Every feature fell outside a very short prefix: a real model never answers a zero vector.
      out[0] = 1;
      return out;
    }
    const scale = 1 / Math.sqrt(sum);
    for (let i = 0; i < out.length; i++) out[i]! *= scale;
  } else if (out.every((v) => v === 0)) {
    out[0] = 1;
  }
  return out;
}

/** `[a,b,...]` with each float32 written so that `Math.fround(JSON.parse(x))` gives it back exactly. */
export function vectorJson(vector: Float32Array): string {
  // Hashed vectors are mostly zeros: copy runs of `,0` from one long string instead of one by one.
  if (zeroRuns.length < 2 * vector.length) zeroRuns = ',0'.repeat(vector.length);
  let text = '[';
  let i = 0;
  while (i < vector.length) {
    if (vector[i] === 0) {
      let end = i + 1;
      while (end < vector.length && vector[end] === 0) end++;
      text += i === 0 ? zeroRuns.slice(1, 2 * end) : zeroRuns.slice(0, 2 * (end - i));
      i = end;
    } else {
      text += i === 0 ? String(vector[i]) : `,${vector[i]}`;
      i++;
    }
  }
  return `${text}]`;
}

let zeroRuns = '';

/** Little-endian float32 bytes, base64: what `/v1/embeddings` answers for `encoding_format: "base64"`. */
export function vectorBase64(vector: Float32Array): string {
  const bytes = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
  return (littleEndian ? bytes : Buffer.from(bytes).swap32()).toString('base64');
}

const littleEndian = endianness() === 'LE';

interface WordFeatures {
  /** Hash of the word's stem, which picks its dimensions. */
  base: number;
  weight: number;
}

/** A word's features, cached: word frequencies are Zipfian, so nearly every lookup hits. */
function featuresOf(word: string): WordFeatures {
  let features = wordCache.get(word);
  if (features === undefined) {
    if (wordCache.size >= wordCacheSize) wordCache.clear();
    features = { base: hashString(stem(word)), weight: isFunctionWord(word) ? functionWordWeight : 1 };
    wordCache.set(word, features);
  }
  return features;
}

const wordCache = new Map<string, WordFeatures>();
const wordCacheSize = 100_000;

function mix(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
