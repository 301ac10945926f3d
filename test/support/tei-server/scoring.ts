/**
 * Reranker scores for the test server. `overlap`: the share of the query's distinct words found in the
 * document, as a logit `8·share − 4`; `reverse`: later documents score higher, so a reranked list comes
 * back in reverse input order (handy to prove a client really applies the reranker's order).
 * Without `rawScores` the logit goes through a sigmoid, as TEI does for single-label rerankers.
 */

const WORD = /[\p{L}\p{M}\p{N}]+/gu;

export function scoreDocuments(
  mode: 'reverse' | 'overlap',
  query: string,
  documents: string[],
  rawScores: boolean,
): number[] {
  const queryWords = words(query);
  return documents.map((document, index) => {
    let logit: number;
    if (mode === 'reverse') {
      logit = ((index + 1) / documents.length) * 8 - 4;
    } else {
      const found = words(document);
      let shared = 0;
      for (const word of queryWords) if (found.has(word)) shared++;
      logit = queryWords.size === 0 ? -4 : (shared / queryWords.size) * 8 - 4;
    }
    return Math.fround(rawScores ? logit : 1 / (1 + Math.exp(-logit)));
  });
}

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(WORD) ?? []);
}
