import { dryRunServices } from './dry-run.js';
import { type IngestEvents, type IngestOptions, runIngest } from './ingest.js';
import { connectListing, prepareIngest } from './prepare.js';
import { IngestStats } from './stats.js';
import { type IngestSummary, summarize } from './summary.js';

export interface IngestJobResult {
  summary: IngestSummary;
  /** What stopped the run early, if anything (it has been drained; the summary counts what landed). */
  fatal: unknown;
}

/**
 * `taboot ingest` as one call: preflight and connect (or measuring stand-ins for `--dry-run`),
 * run the pipeline, summarise, close connections. `options.cancel` ends the embed and upsert
 * requests still in flight (the drain's deadline after a signal); what they carried is reported as
 * not ingested.
 */
export async function ingestJob(
  options: IngestOptions & { dryRun: boolean },
  events: IngestEvents & { onStart?(stats: IngestStats): void },
  stats = new IngestStats(),
): Promise<IngestJobResult> {
  const context = { collection: options.config.collection.name, dryRun: options.dryRun };
  if (options.dryRun) {
    // `--dry-run --prune` asks Qdrant which documents would go; nothing else needs a server.
    const listing = options.prune ? await connectListing(options.config) : undefined;
    const services = { ...dryRunServices(options.config), listing };
    events.onStart?.(stats);
    const outcome = await runIngest(
      { ...options, chunkReport: { path: options.chunkReport?.path } },
      services,
      events,
      stats,
    );
    const summary = summarize(stats, {
      ...context,
      interrupted: outcome.interrupted,
      stopped: outcome.fatal !== undefined,
      failedOut: outcome.failedOut,
    });
    summary.estimate = {
      request_bytes: services.sink.requestBytes,
      largest_request_bytes: services.sink.largestRequestBytes,
      collection: services.sink.estimate(options.config),
      largest_chunks: services.sink.largest,
      chunks: outcome.chunks!,
    };
    return { summary, fatal: outcome.fatal };
  }
  const services = await prepareIngest(options.config, { bulk: options.bulk });
  try {
    events.onStart?.(stats);
    for (const line of services.warnings) events.onWarning?.(line);
    const outcome = await runIngest(options, services, events, stats);
    let fatal = outcome.fatal;
    let indexSeconds: number | undefined;
    if (services.bulk) {
      // Indexing comes back however the load ended; the wait only follows a complete one.
      const ok = fatal === undefined && !outcome.interrupted;
      try {
        indexSeconds = await services.bulk.finish(
          { ok, points: stats.vectorsUpserted },
          (sample) => events.onIndexing?.(sample),
          options.signal,
        );
      } catch (error) {
        fatal ??= error;
      }
    }
    const summary = summarize(stats, {
      ...context,
      interrupted: outcome.interrupted,
      stopped: fatal !== undefined,
      failedOut: outcome.failedOut,
    });
    if (indexSeconds !== undefined) summary.index_seconds = Math.round(indexSeconds * 1000) / 1000;
    return { summary, fatal };
  } finally {
    await services.close();
  }
}
