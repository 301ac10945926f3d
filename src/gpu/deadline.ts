/** A source did not answer in time. */
export class DeadlineError extends Error {}

/**
 * Run `task` with its own deadline: after `ms` the signal handed to it aborts and the promise
 * rejects with a `DeadlineError` naming `what`, whether or not the task honours the signal. So one
 * slow source (a hung nvidia-smi, a stalled server) never holds up the others or the command.
 * Aborting `parent` (Ctrl-C) aborts the task and rejects with the parent's reason.
 */
export function withDeadline<T>(
  what: string,
  ms: number,
  task: (signal: AbortSignal) => Promise<T>,
  parent?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onParentAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeadlineError(`${what} did not answer within ${ms} ms`);
      controller.abort(error);
      reject(error);
    }, ms);
    onParentAbort = () => {
      const reason: unknown = parent?.reason ?? new Error('aborted');
      controller.abort(reason);
      reject(reason);
    };
    if (parent?.aborted) onParentAbort();
    else parent?.addEventListener('abort', onParentAbort, { once: true });
  });
  // The losing side of the race must not surface as an unhandled rejection.
  stopped.catch(() => {});
  const running = controller.signal.aborted ? stopped : Promise.race([task(controller.signal), stopped]);
  return running.finally(() => {
    clearTimeout(timer);
    if (onParentAbort) parent?.removeEventListener('abort', onParentAbort);
  });
}
