/**
 * What the stand-in embedding model makes of words, so that a natural question ranks like it would
 * with a real model rather than by its function words:
 *
 * - An instruction prefix of Qwen3-Embedding's documented query form, `Instruct: {task}\nQuery:{query}`,
 *   is not content: it tells the model how to read the query, so it adds no features of its own
 *   (its tokens still count, as the model still reads them).
 * - Function words ("how", "do", "I", "the") occur in nearly every text, so their inverse document
 *   frequency is close to zero: they weigh a tenth of a content word, never nothing, so that a text
 *   made only of them still has a direction.
 * - Words are reduced to a light stem (plural, -ing, -ed, -ation, final e) for their word features,
 *   so "configure", "configuring" and "configuration" meet; the character trigrams of the word as
 *   written keep the finer distinctions.
 */

const instructionPrefix = /^Instruct:[\s\S]*?\nQuery:/;

/** `text` without a leading `Instruct: ...\nQuery:` instruction. */
export function withoutInstruction(text: string): string {
  if (!text.startsWith('Instruct:')) return text;
  const match = instructionPrefix.exec(text);
  return match ? text.slice(match[0].length) : text;
}

/** The weight of a function word's features, relative to a content word's 1. */
export const functionWordWeight = 0.1;

/** Common English function words (lower case, as the word pattern splits them: "don't" gives "don", "t"). */
const functionWords = new Set(
  (
    'a about above after again against all also am an and another any are as at be because been before ' +
    'being below between both but by can could d did do does doing don done down during each either else ' +
    'every few for from further get gets got had has have having he her here hers him his how i if in ' +
    'into is it its itself just let ll m may me might mine more most much must my neither no nor not now ' +
    'of off on once only onto or other our ours out over own re s same shall she should so some such t ' +
    'than that the their theirs them then there these they this those through to too under until up upon ' +
    'us ve very was we were what when where which while who whom whose why will with would you your yours'
  ).split(' '),
);

export function isFunctionWord(word: string): boolean {
  return functionWords.has(word);
}

/**
 * A light English stem of a lower-cased word: "intervals" -> "interval", "scraping" -> "scrap",
 * "scrapes" -> "scrap", "configuration" -> "configur". Words of three letters or fewer stay as they are.
 */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (
    w.endsWith('sses') ||
    w.endsWith('xes') ||
    w.endsWith('zes') ||
    w.endsWith('ches') ||
    w.endsWith('shes')
  ) {
    w = w.slice(0, -2);
  } else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is'))
    w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith('ation')) w = w.slice(0, -5);
  else if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}
