import type { SearchResult } from '../search/search.js';
import type { Output } from './output.js';
import { highlight, snippet } from './snippet.js';

/**
 * Search hits for a person: rank, score, doc_id, section and a snippet of `content` with the
 * query's words highlighted (colour only where colour is on). `--json` prints `[{id, score, payload}]`.
 */
export function renderSearchResult(
  output: Output,
  result: SearchResult,
  options: { query: string; verbose: boolean },
): void {
  for (const warning of result.warnings) output.warn(warning);
  output.data(result.hits.map((hit) => ({ id: hit.id, score: hit.score, payload: hit.payload })));
  if (result.points === 0) {
    output.info(`collection ${result.collection} is empty: ingest documents first (taboot ingest <path>)`);
  } else if (result.hits.length === 0) {
    output.info('no hits (check the filters and --score-threshold)');
  }
  const c = output.c;
  const width = Math.max(40, Math.min(160, ((output.stdout as { columns?: number }).columns ?? 120) - 8));
  result.hits.forEach((hit, index) => {
    const docId = String(hit.payload.doc_id ?? hit.id);
    const section =
      typeof hit.payload.section === 'string' && hit.payload.section ? `  ${c.dim(hit.payload.section)}` : '';
    output.result(
      `${c.bold(String(index + 1).padStart(3))}  ${c.cyan(hit.score.toFixed(4))}  ${c.bold(docId)}${section}`,
    );
    if (typeof hit.payload.content === 'string') {
      const excerpt = snippet(hit.payload.content, options.query, { width });
      output.result(`      ${highlight(excerpt, (text) => c.yellow.bold(text))}`);
    }
  });
  if (options.verbose) {
    const { embed_ms, search_ms, rerank_ms } = result.timings;
    const rerank =
      rerank_ms === undefined ? '' : `, rerank ${rerank_ms} ms${result.reranked ? '' : ' (failed)'}`;
    output.info(
      c.dim(
        `embed ${embed_ms} ms, search ${search_ms} ms${rerank}; ${result.hits.length} hits of ${result.points} points`,
      ),
    );
  }
}
