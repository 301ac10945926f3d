import type { Command } from 'commander';
import { knownExtensions } from '../sources/registry.js';
import { createContext } from './context.js';
import { addFlags, flag, flagOverrides, readFlags } from './flags.js';
import { runIngestJob } from './ingest-job-runner.js';
import {
  collectionFlag,
  nonNegativeInt,
  positiveInt,
  positiveIntOrAuto,
  qdrantUrlFlag,
  teiUrlFlag,
} from './options.js';

/** Every `ingest` flag, in help order. A flag with `config` overrides that setting. */
export const ingestFlags = {
  include: flag.list(
    '--include <glob>',
    `files to take from folders (repeatable; default: ${knownExtensions.join(', ')})`,
    { config: 'ingest.include' },
  ),
  exclude: flag.list('--exclude <glob>', 'files to skip (repeatable)', { config: 'ingest.exclude' }),
  textField: flag.text('--text-field <name>', 'JSONL field holding the text (default: text, then content)', {
    config: 'ingest.textField',
  }),
  idField: flag.text('--id-field <name>', 'JSONL field holding the document id (default: id)', {
    config: 'ingest.idField',
  }),
  maxLineBytes: flag.parsed(
    '--max-line-bytes <n>',
    'longer JSONL lines are reported and skipped (default: 8 MiB)',
    positiveInt('--max-line-bytes'),
    { config: 'ingest.maxLineBytes' },
  ),
  readWorkers: flag.parsed(
    '--read-workers <n>',
    'threads parsing JSONL beside the main one; 0: parse on the main thread (default: cores - 1)',
    nonNegativeInt('--read-workers'),
    { config: 'ingest.readWorkers' },
  ),
  chunkTokens: flag.parsed(
    '--chunk-tokens <n>',
    'token budget of a chunk (default: 512)',
    positiveInt('--chunk-tokens'),
    { config: 'ingest.chunkTokens' },
  ),
  chunkOverlap: flag.parsed(
    '--chunk-overlap <n>',
    'tokens repeated from the previous chunk (default: 64)',
    nonNegativeInt('--chunk-overlap'),
    { config: 'ingest.chunkOverlap' },
  ),
  minChunkTokens: flag.parsed(
    '--min-chunk-tokens <n>',
    'smaller chunks merge with a neighbour (default: 64, at most half of --chunk-tokens)',
    nonNegativeInt('--min-chunk-tokens'),
    { config: 'ingest.minChunkTokens' },
  ),
  embedConcurrency: flag.parsed(
    '--embed-concurrency <n|auto>',
    "TEI requests in flight (default: auto, from TEI's queue time)",
    positiveIntOrAuto('--embed-concurrency'),
    { config: 'tei.concurrency' },
  ),
  maxClientBatchSize: flag.parsed(
    '--max-client-batch-size <n>',
    "inputs per TEI request (default: TEI's /info)",
    positiveInt('--max-client-batch-size'),
    { config: 'tei.maxClientBatchSize' },
  ),
  maxBatchTokens: flag.parsed(
    '--max-batch-tokens <n>',
    "tokens per TEI request (default: TEI's /info)",
    positiveInt('--max-batch-tokens'),
    { config: 'tei.maxBatchTokens' },
  ),
  batchSize: flag.parsed(
    '--batch-size <n>',
    'points per upsert (default: 500)',
    positiveInt('--batch-size'),
    {
      config: 'ingest.batchSize',
    },
  ),
  batchBytes: flag.parsed(
    '--batch-bytes <n>',
    'bytes per upsert (default: 16 MiB)',
    positiveInt('--batch-bytes'),
    { config: 'ingest.batchBytes' },
  ),
  parallel: flag.parsed('--parallel <n>', 'upserts in flight (default: 4)', positiveInt('--parallel'), {
    config: 'ingest.parallel',
  }),
  wait: flag.bool('--wait', 'wait for Qdrant to apply each batch (default: acknowledge from its WAL)', {
    config: 'ingest.wait',
  }),
  maxRetries: flag.parsed(
    '--max-retries <n>',
    'retries per request on overload or outage (default: 6)',
    nonNegativeInt('--max-retries'),
    { config: 'ingest.maxRetries' },
  ),
  dryRun: flag.bool(
    '--dry-run',
    'read and chunk only: counts, tokens, request bytes and a size estimate; no server needed',
  ),
  chunksOut: flag.text(
    '--chunks-out <file.jsonl>',
    'write every chunk (point id, document, section, tokens, text) to inspect what will be embedded; use with --dry-run',
  ),
  prune: flag.bool(
    '--prune',
    'delete stored documents of the sources read that are no longer in the input (with --dry-run: list them)',
  ),
  bulk: flag.bool(
    '--bulk',
    'for a full load: build no index while points arrive, then restore indexing and wait for the index',
  ),
  metricsFile: flag.text(
    '--metrics-file <path>',
    "write the run's figures in node_exporter textfile format (for a cron job monitored by Prometheus)",
  ),
  reembed: flag.bool(
    '--reembed',
    'rewrite every document, unchanged ones too; needed to change the embedding model in place',
  ),
  onError: flag.choice(
    '--on-error <mode>',
    'bad input: skip it and exit 3 at the end, or fail at once',
    ['skip', 'fail'],
    { config: 'ingest.onError' },
  ),
  failedOut: flag.text(
    '--failed-out <file.jsonl>',
    'write chunks that could not be ingested, with the reason; ingest it again later',
  ),
  progress: flag.choice(
    '--progress <mode>',
    'auto (bars on a terminal, a line every 5 s otherwise), bars, plain, ndjson (stderr), none',
    ['auto', 'bars', 'plain', 'ndjson', 'none'],
    { default: 'auto' },
  ),
  qdrantUrl: qdrantUrlFlag,
  teiUrl: teiUrlFlag,
  collection: collectionFlag,
};

export function registerIngestCommand(program: Command): void {
  const ingest = program
    .command('ingest')
    .description(
      'read, chunk, embed and upsert documents (Markdown, MDX, HTML, JSONL, text) into the collection',
    )
    .argument('<path...>', 'files and folders to ingest');
  addFlags(ingest, ingestFlags);
  ingest.addHelpText(
    'after',
    `
Examples:
  $ taboot ingest ./docs                              Markdown, HTML, JSONL and text under ./docs
  $ taboot ingest notes.jsonl --text-field body --id-field uuid
  $ taboot ingest ./docs --dry-run                    chunks, tokens and a collection size estimate
  $ taboot ingest ./docs --dry-run --chunks-out c.jsonl   every chunk that would be embedded
  $ taboot ingest ./docs --json --progress none       for cron: one JSON summary on stdout
  $ taboot ingest ./docs --prune                      also delete documents no longer in ./docs
  $ taboot ingest ./docs --failed-out failed.jsonl && taboot ingest failed.jsonl

JSONL lines are objects with a text field (text or content), an optional id and an optional
precomputed "vector" (then TEI is skipped for that line); other fields go to the payload.
Markdown front matter goes to the payload; created_at/date become Unix seconds.

Documents Qdrant already holds unchanged are skipped before chunking or embedding; changed ones are
rewritten and their stale chunks deleted.

Exits 0 when everything was ingested, 3 when some input was skipped or failed or a document id
repeated (each reported with file:line), 1 when a service failed, 2 on bad flags, config or paths
(or another embedding model without --reembed), 130 when interrupted.
SIGINT or SIGTERM stops reading, lets the requests in flight finish (at most qdrant.timeoutMs,
then they are cancelled), prints the summary (--json: on stdout) and exits 130, for either
signal; a second signal quits at once, without a summary.`,
  );
  ingest.action(async (paths: string[], _flags: unknown, command: Command) => {
    const flags = readFlags(command, ingestFlags);
    const context = createContext(command);
    const { config } = await context.loadConfig(flagOverrides(flags, ingestFlags));
    const { ingestJob } = await import('../pipeline/ingest-job.js');
    await runIngestJob(context, config, flags, (signals, events) =>
      ingestJob(
        {
          paths,
          config,
          dryRun: flags.dryRun ?? false,
          prune: flags.prune ?? false,
          reembed: flags.reembed ?? false,
          bulk: flags.bulk ?? false,
          chunkReport: flags.chunksOut ? { path: flags.chunksOut } : undefined,
          onError: config.ingest.onError,
          failedOut: flags.failedOut,
          ...signals,
        },
        events,
      ),
    );
  });
}
