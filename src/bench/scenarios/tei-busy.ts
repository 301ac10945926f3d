import type { Config } from '../../config/schema.js';
import { createTeiDispatcher, teiEndpoints, teiRequest } from '../../embed/tei-http.js';
import { parsePrometheusText, sumSeries } from '../../gpu/prometheus-text.js';

/**
 * Seconds TEI's backend spent running batches, a counter on `/metrics`. It is not one of TEI's own
 * series: taboot's test TEI exports it (in service-rate mode it grows by each batch's service
 * time), so that a benchmark can tell how much of a run the embedder was kept busy. Real TEI has no
 * such counter; against it the busy share is not reported.
 */
const TEI_BUSY_SECONDS = 'te_backend_busy_seconds';

/**
 * `te_backend_busy_seconds` of every configured TEI endpoint, in `tei.urls` order; undefined when
 * any endpoint does not export it or its `/metrics` cannot be read (the share is then unknown, not
 * an error: the benchmark goes on without it).
 */
export async function readTeiBusySeconds(
  settings: Config['tei'],
  signal?: AbortSignal,
): Promise<number[] | undefined> {
  // `/metrics` is TEI's: an OpenAI-compatible server has none to ask.
  if (settings.kind !== 'tei') return undefined;
  const dispatcher = createTeiDispatcher(1);
  try {
    const values: number[] = [];
    for (const endpoint of teiEndpoints(settings, dispatcher)) {
      const response = await teiRequest(endpoint, 'GET', '/metrics', undefined, signal);
      const samples = parsePrometheusText(response.body.toString('utf8'));
      const value = samples && sumSeries(samples, TEI_BUSY_SECONDS);
      if (value === undefined) return undefined;
      values.push(value);
    }
    return values;
  } catch {
    signal?.throwIfAborted();
    return undefined;
  } finally {
    await dispatcher.close();
  }
}

/**
 * The busy share over a run of `wallSeconds` from two readings of `readTeiBusySeconds`: each
 * endpoint's rise over the wall time, averaged over the endpoints, at most 1. Undefined when
 * either reading is missing, the endpoints differ, or the run took no time.
 */
export function teiBusyShare(
  before: readonly number[] | undefined,
  after: readonly number[] | undefined,
  wallSeconds: number,
): number | undefined {
  if (!before || !after || before.length !== after.length || before.length === 0 || !(wallSeconds > 0)) {
    return undefined;
  }
  const rise = after.reduce((sum, value, index) => sum + Math.max(0, value - before[index]!), 0);
  return Math.min(1, rise / before.length / wallSeconds);
}
