import { errorMessage } from '../errors.js';
import type { TeiEndpoint } from './tei-http.js';

/**
 * Asks every endpoint at once (`describe` of a server behind several URLs): the first, in the
 * configured order, that answers gives the answer; each one that failed becomes a line in
 * `warnings` (the others carry the load, and the pool benches it once it fails a request). When
 * none answers, the first failure is thrown.
 */
export async function askEveryEndpoint<T>(
  endpoints: readonly TeiEndpoint[],
  ask: (endpoint: TeiEndpoint) => Promise<T>,
  warnings: string[],
): Promise<{ index: number; answer: T }> {
  const answers = await Promise.allSettled(endpoints.map(ask));
  const index = answers.findIndex((answer) => answer.status === 'fulfilled');
  if (index < 0) throw (answers[0] as PromiseRejectedResult).reason;
  for (const answer of answers) {
    if (answer.status === 'rejected') {
      warnings.push(`${errorMessage(answer.reason)}; using the other endpoints`);
    }
  }
  return { index, answer: (answers[index] as PromiseFulfilledResult<T>).value };
}
