import { dryRunServices } from './dry-run.js';
import { type IngestEvents, type IngestOptions, type IngestServices, runIngest } from './ingest.js';
import { prepareIngest } from './prepare.js';
import { IngestStats } from './stats.js';
import { type IngestSummary, summarize } from './summary.js';

export interface IngestJobResult {
  summary: IngestSummary;
  /** What stopped the run early, if anything (it has been drained; the summary counts what landed). */
  fatal: unknown;
}

/**
 * `taboot ingest` as one call: preflight and connect (or measuring stand-ins for `--dry-run`),
 * run the pipeline, summarise, close connections. `cancel` ends the embed and upsert requests
 * still in flight (the drain's deadline after a signal); what they carried is reported as not
 * ingested.
 */
export async function ingestJob(
  options: IngestOptions & { dryRun: boolean; cancel?: AbortSignal },
  events: IngestEvents & { onStart?(stats: IngestStats, details: { teiRoute?: string }): void },
  stats = new IngestStats(),
): Promise<IngestJobResult> {
  const context = { collection: options.config.collection.name, dryRun: options.dryRun };
  if (options.dryRun) {
    const services = dryRunServices(options.config);
    events.onStart?.(stats, {});
    const outcome = await runIngest(options, services, events, stats);
    const summary = summarize(stats, {
      ...context,
      interrupted: outcome.interrupted,
      failedOut: outcome.failedOut,
    });
    summary.estimate = {
      request_bytes: services.sink.requestBytes,
      largest_request_bytes: services.sink.largestRequestBytes,
      collection: services.sink.estimate(options.config),
      largest_chunks: services.sink.largest,
    };
    return { summary, fatal: outcome.fatal };
  }
  const services = await prepareIngest(options.config);
  try {
    events.onStart?.(stats, { teiRoute: services.teiRoute });
    for (const line of services.unavailable) events.onWarning?.(line);
    const outcome = await runIngest(options, cancellable(services, options.cancel), events, stats);
    return {
      summary: summarize(stats, {
        ...context,
        interrupted: outcome.interrupted,
        failedOut: outcome.failedOut,
      }),
      fatal: outcome.fatal,
    };
  } finally {
    await services.close();
  }
}

/** The same services, with every embed and upsert request also ended by `cancel`. */
function cancellable(services: IngestServices, cancel: AbortSignal | undefined): IngestServices {
  if (!cancel) return services;
  const either = (signal: AbortSignal | undefined) => (signal ? AbortSignal.any([signal, cancel]) : cancel);
  const { sink, embedder } = services;
  return {
    ...services,
    sink: { upsert: (points, signal) => sink.upsert(points, either(signal)), close: () => sink.close() },
    embedder: { embed: (texts, signal) => embedder.embed(texts, either(signal)) },
  };
}
