/**
 * A fast token estimate for Qwen-style byte-level BPE (Qwen2/Qwen3 vocabularies, as used by
 * Qwen3-Embedding), good enough to size chunks and embedding batches without a tokenizer.
 *
 * Method: one pass over the UTF-16 code units, counting what the BPE pre-tokenizer splits on:
 * - a run of ASCII letters is about one token (common words are single tokens; the leading space
 *   rides along), plus a little per letter for long or rare words;
 * - a lower-to-upper case switch inside a run (`camelCase`) usually starts a new token;
 * - every digit is its own token (Qwen splits numbers into single digits);
 * - a run of ASCII punctuation or general punctuation (`);`, `://`, `’`) is about one token;
 * - a run of newlines is a bit over half a token; spaces and tabs cost nothing (they merge with
 *   the next word or into indentation tokens);
 * - CJK characters cost about 0.65 tokens each, surrogate pairs (emoji) about two;
 * - other non-ASCII letters (accented Latin, Cyrillic, Greek) cost a run start plus a little
 *   per character.
 *
 * The weights were fitted against the real Qwen3 tokenizer on ~2,000-character pieces (about
 * one 512-token chunk) of Markdown prose with code and tables, TypeScript/JavaScript source,
 * Chinese and Japanese text, and European-language text. Measured error per piece: mean absolute
 * ~3.5% (prose), ~3% (code), ~4% (CJK), ~5% (European languages); 90% of pieces within about -10%..+12%;
 * the worst seen -21%..+27%. Plain `chars / 4` is off by 9% (code) to 37% (CJK) on the same data.
 * The estimate leans slightly high, which is the safe side for budgets. It counts no special
 * tokens (an embedding server may append one, e.g. Qwen3-Embedding's end-of-text token).
 *
 * Because every term counts characters or runs with non-negative weights, the estimate of two
 * texts joined by whitespace is never more than the sum of their estimates: chunk packing can
 * add up piece estimates safely.
 */

const LETTER_RUN = 0.96;
const LETTER = 0.02;
const CASE_SWITCH = 1.25;
const DIGIT = 1.2;
const NEWLINE_RUN = 0.6;
const PUNCT_RUN = 0.92;
const CJK = 0.65;
const SURROGATE = 1;
const OTHER_RUN = 1.8;
const OTHER = 0.03;

// Character classes. Lower and upper case letters are told apart for the camelCase rule.
const NONE = 0;
const LOWER = 1;
const UPPER = 2;
const DIGIT_CLASS = 3;
const SPACE = 4;
const NEWLINE = 5;
const PUNCT = 6;
const CJK_CLASS = 7;
const SURROGATE_CLASS = 8;
const OTHER_CLASS = 9;

const asciiClass = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  if (code >= 97 && code <= 122) asciiClass[code] = LOWER;
  else if (code >= 65 && code <= 90) asciiClass[code] = UPPER;
  else if (code >= 48 && code <= 57) asciiClass[code] = DIGIT_CLASS;
  else if (code === 32 || code === 9) asciiClass[code] = SPACE;
  else if (code === 10 || code === 13) asciiClass[code] = NEWLINE;
  else asciiClass[code] = PUNCT;
}

function wideClass(code: number): number {
  if (code >= 0x2000 && code <= 0x2bff) return PUNCT; // general punctuation, arrows, symbols
  if (
    (code >= 0x3000 && code <= 0x30ff) || // CJK punctuation, kana
    (code >= 0x3400 && code <= 0x9fff) || // CJK ideographs
    (code >= 0xac00 && code <= 0xd7af) || // Hangul
    (code >= 0xf900 && code <= 0xfaff) || // compatibility ideographs
    (code >= 0xff00 && code <= 0xffef) // full-width forms
  ) {
    return CJK_CLASS;
  }
  if (code >= 0xd800 && code <= 0xdfff) return SURROGATE_CLASS;
  return OTHER_CLASS;
}

/** Estimated token count of `text`: an integer, 0 only for the empty string. Linear time, no allocation. */
export function estimateTokens(text: string): number {
  let letters = 0;
  let letterRuns = 0;
  let caseSwitches = 0;
  let digits = 0;
  let newlineRuns = 0;
  let punctRuns = 0;
  let cjk = 0;
  let surrogates = 0;
  let others = 0;
  let otherRuns = 0;
  let previous = NONE;
  const length = text.length;
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    const kind = code < 128 ? asciiClass[code]! : wideClass(code);
    if (kind <= UPPER) {
      letters++;
      if (previous > UPPER || previous === NONE) letterRuns++;
      else if (kind === UPPER && previous === LOWER) caseSwitches++;
    } else if (kind !== previous) {
      if (kind === NEWLINE) newlineRuns++;
      else if (kind === PUNCT) punctRuns++;
      else if (kind === OTHER_CLASS) otherRuns++;
    }
    if (kind === DIGIT_CLASS) digits++;
    else if (kind === CJK_CLASS) cjk++;
    else if (kind === SURROGATE_CLASS) surrogates++;
    else if (kind === OTHER_CLASS) others++;
    previous = kind;
  }
  const total =
    letters * LETTER +
    letterRuns * LETTER_RUN +
    caseSwitches * CASE_SWITCH +
    digits * DIGIT +
    newlineRuns * NEWLINE_RUN +
    punctRuns * PUNCT_RUN +
    cjk * CJK +
    surrogates * SURROGATE +
    others * OTHER +
    otherRuns * OTHER_RUN;
  // Subtracting a hair keeps float noise (0.6 * 5 = 3.0000000000000004) from adding a token.
  return length === 0 ? 0 : Math.max(1, Math.ceil(total - 1e-9));
}
