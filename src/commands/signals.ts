import { setMaxListeners } from 'node:events';

export interface Interrupt {
  /** Aborted by the first SIGINT or SIGTERM: stop reading and retrying, finish what is in flight. */
  signal: AbortSignal;
  /**
   * Aborted `drainMs` after the first signal: cancel whatever is still in flight, so the summary
   * comes within the drain time however slow the servers are.
   */
  cancel: AbortSignal;
  received(): NodeJS.Signals | undefined;
  dispose(): void;
}

/** Listeners the interrupt signals take before Node warns of a leak. */
export const maxListeners = 1000;

export interface InterruptOptions {
  /**
   * How long requests in flight may take to finish after the first signal, in ms; then `cancel`
   * aborts. Without it, `cancel` never does.
   */
  drainMs?: number;
  onFirst?: (signal: NodeJS.Signals) => void;
  /** Called when the drain time is up and what is still in flight gets cancelled. */
  onCancel?: () => void;
}

/**
 * SIGINT/SIGTERM as AbortSignals. The first one stops the job: it reads nothing more, starts no
 * retry, waits up to `drainMs` for the requests in flight, cancels the rest, and the command
 * prints its summary and exits 130 (for either signal: 130 means "stopped by request, summary
 * printed, a re-run resumes", whatever sent it). A second one restores the default handler and
 * re-sends itself, so an impatient Ctrl-C still ends the process at once; the process then dies
 * by that signal (a shell reports 130 for SIGINT, 143 for SIGTERM) and prints no summary.
 * The drain timer is not unref'd: even a job waiting on something that holds no handle is
 * cancelled at the deadline, instead of Node ending the process with its work unsettled.
 */
export function interruptOnSignals(options: InterruptOptions = {}): Interrupt {
  const { drainMs } = options;
  if (drainMs !== undefined && (!Number.isFinite(drainMs) || drainMs < 0)) {
    throw new TypeError(`Expected \`drainMs\` to be a non-negative number, got \`${options.drainMs}\``);
  }
  const stop = new AbortController();
  const cancel = new AbortController();
  // Every request in flight and every retry's backoff listens to these until it settles, and
  // --parallel and --embed-concurrency set how many there are: past Node's default of 10 that is
  // not a leak. A leak (a listener per request, never removed) still warns in a long run.
  setMaxListeners(maxListeners, stop.signal, cancel.signal);
  let received: NodeJS.Signals | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  const handler = (name: NodeJS.Signals) => {
    if (received) {
      dispose();
      process.kill(process.pid, name);
      return;
    }
    received = name;
    options.onFirst?.(name);
    stop.abort(new Error(`interrupted by ${name}`));
    if (drainMs === undefined) return;
    drainTimer = setTimeout(() => {
      options.onCancel?.();
      cancel.abort(new Error(`interrupted by ${name}: cancelled after ${drainMs} ms of draining`));
    }, drainMs);
  };
  const dispose = () => {
    clearTimeout(drainTimer);
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return { signal: stop.signal, cancel: cancel.signal, received: () => received, dispose };
}
