import type { Command } from 'commander';
import { createContext } from './context.js';
import { addFlags, flag, flagOverrides, readFlags } from './flags.js';
import { ingestFlags } from './ingest.js';
import { runIngestJob } from './ingest-job-runner.js';
import { nonNegativeInt } from './options.js';

/** `reindex` reads and writes like `ingest`, without the flags that only make sense in place. */
const {
  dryRun: _dryRun,
  prune: _prune,
  reembed: _reembed,
  bulk: _bulk,
  chunksOut: _chunksOut,
  ...shared
} = ingestFlags;

export const reindexFlags = {
  ...shared,
  keep: flag.parsed(
    '--keep <n>',
    'earlier collections of the alias to keep after the switch (default: 1)',
    nonNegativeInt('--keep'),
    { default: 1 },
  ),
};

export function registerReindexCommand(program: Command): void {
  const reindex = program
    .command('reindex')
    .description(
      'build a new collection from the files, then switch the alias (collection.name) to it: searches never see a half-built index',
    )
    .argument('<path...>', 'files and folders to ingest');
  addFlags(reindex, reindexFlags);
  reindex.addHelpText(
    'after',
    `
Examples:
  $ taboot reindex ./docs                    new collection <alias>_<timestamp>, alias switched when indexed
  $ taboot reindex ./docs --keep 2           keep the two previous collections for a switch back

collection.name (or -c) is the alias searches use. The new collection gets the configured settings;
indexing is deferred during the load, then taboot waits until Qdrant reports it green and indexed,
and switches the alias in one request. A failed or interrupted run leaves the alias as it was.
Use it for a new embedding model or new chunk settings; for day-to-day changes, ingest (which skips
unchanged documents) into the alias is enough. Exit codes as for ingest.`,
  );
  reindex.action(async (paths: string[], _flags: unknown, command: Command) => {
    const flags = readFlags(command, reindexFlags);
    const context = createContext(command);
    const { config } = await context.loadConfig(flagOverrides(flags, reindexFlags));
    const { reindexJob } = await import('../pipeline/reindex.js');
    await runIngestJob(context, config, flags, (signals, events) =>
      reindexJob(
        {
          paths,
          config,
          keep: flags.keep,
          onError: config.ingest.onError,
          failedOut: flags.failedOut,
          ...signals,
        },
        events,
      ),
    );
  });
}
