import type { Config } from '../config/schema.js';
import { ExitCode, ExitError, errorMessage, InterruptedError, isTabootError } from '../errors.js';
import type { IngestEvents } from '../pipeline/ingest.js';
import type { IngestJobResult } from '../pipeline/ingest-job.js';
import type { IngestStats } from '../pipeline/stats.js';
import type { IngestSummary } from '../pipeline/summary.js';
import type { CommandContext } from './context.js';
import { interruptOnSignals } from './signals.js';

export interface JobSignals {
  /** Aborted at the first SIGINT/SIGTERM: stop reading, drain. */
  signal: AbortSignal;
  /** Aborted when the drain time is up: cancel what is still in flight. */
  cancel: AbortSignal;
}

export type JobEvents = IngestEvents & { onStart?(stats: IngestStats): void; onPhase?(line: string): void };

/**
 * What `ingest` and `reindex` share around their core: signals (a first one drains for at most
 * `qdrant.timeoutMs`, then cancels; a second quits at once), the progress view, the summary,
 * `--metrics-file`, and the exit code: 130 interrupted, the fatal error's, 3 partial, else 0.
 */
export async function runIngestJob<R extends IngestJobResult>(
  context: CommandContext,
  config: Config,
  flags: { progress: string; metricsFile?: string | undefined },
  start: (signals: JobSignals, events: JobEvents) => Promise<R>,
): Promise<R> {
  const view = await import('../ui/ingest-view.js');
  // A request in flight has its deadline anyway: the drain waits that long, then cancels.
  const drainMs = config.qdrant.timeoutMs;
  const interrupt = interruptOnSignals({
    drainMs,
    onFirst: (name) =>
      context.output.info(
        `\n${name}: finishing the requests in flight (at most ${Math.ceil(drainMs / 1000)} s), then stopping (again to quit at once)`,
      ),
    onCancel: () => context.output.warn('drain time is up: cancelling the requests still in flight'),
  });
  const display = view.createIngestView(context.output, flags.progress);
  const metrics = flags.metricsFile
    ? await import('../pipeline/metrics-file.js').then((module) => module.metricsFileFor(flags.metricsFile!))
    : undefined;
  let result: R;
  let stoppedBefore = false;
  try {
    result = await start({ signal: interrupt.signal, cancel: interrupt.cancel }, display.events);
  } catch (error) {
    // Stopped before the run (a held lock, a missing collection, a missing path): the error is the
    // one line to show, with no progress line of zeros before it; the metrics say so too.
    stoppedBefore = true;
    await metrics?.writeFailure(config.collection.name, exitCodeOf(error));
    throw error;
  } finally {
    display.stop(!stoppedBefore);
    interrupt.dispose();
  }
  view.renderIngestSummary(context.output, result.summary);
  // After Ctrl-C no retry is started, so a request failing during the drain is expected.
  if (result.summary.interrupted && result.fatal)
    context.output.warn(`while stopping: ${errorMessage(result.fatal)}`);
  const error = runError(result, interrupt.received());
  await metrics?.write(result.summary, exitCodeOf(error));
  if (error) throw error;
  return result;
}

/** The error the run ends with, if any: interrupted, failed, or partial (exit 3). */
function runError(result: { summary: IngestSummary; fatal: unknown }, signal: string | undefined): unknown {
  if (result.summary.interrupted) return new InterruptedError(signal ?? 'SIGINT');
  if (result.fatal) return result.fatal;
  const { skipped, failed, duplicates } = result.summary;
  if (skipped === 0 && failed === 0 && duplicates === 0) return undefined;
  const counts = [`${skipped} input(s) skipped`, `${failed} chunk(s) failed`];
  if (duplicates > 0) counts.push(`${duplicates} duplicate document id(s)`);
  return new ExitError(ExitCode.Partial, `${counts.join(', ')}; see the messages above`);
}

function exitCodeOf(error: unknown): number {
  if (error === undefined) return ExitCode.Ok;
  return isTabootError(error) ? error.exitCode : ExitCode.Failure;
}
