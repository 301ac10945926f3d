import { type Command, Option } from 'commander';
import { ExitCode, ExitError, InterruptedError } from '../errors.js';
import { createContext } from './context.js';
import { addConnectionOptions, connectionOverrides, nonNegativeInt, positiveInt } from './options.js';
import { interruptOnSignals } from './signals.js';

interface IngestFlags {
  qdrantUrl?: string;
  teiUrl?: string;
  collection?: string;
  include?: string[];
  exclude?: string[];
  textField?: string;
  idField?: string;
  maxLineBytes?: number;
  chunkTokens?: number;
  chunkOverlap?: number;
  embedConcurrency?: number;
  maxClientBatchSize?: number;
  maxBatchTokens?: number;
  batchSize?: number;
  batchBytes?: number;
  parallel?: number;
  wait?: boolean;
  maxRetries?: number;
  dryRun?: boolean;
  onError?: 'skip' | 'fail';
  failedOut?: string;
  progress: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerIngestCommand(program: Command): void {
  const ingest = program
    .command('ingest')
    .description('read, chunk, embed and upsert documents (Markdown, JSONL, text) into the collection')
    .argument('<path...>', 'files and folders to ingest')
    .addOption(
      new Option(
        '--include <glob>',
        'files to take from folders (repeatable; default: md, markdown, mdx, jsonl, txt)',
      ).argParser(collect),
    )
    .addOption(new Option('--exclude <glob>', 'files to skip (repeatable)').argParser(collect))
    .addOption(
      new Option('--text-field <name>', 'JSONL field holding the text (default: text, then content)'),
    )
    .addOption(new Option('--id-field <name>', 'JSONL field holding the document id (default: id)'))
    .addOption(
      new Option(
        '--max-line-bytes <n>',
        'longer JSONL lines are reported and skipped (default: 8 MiB)',
      ).argParser(positiveInt('--max-line-bytes')),
    )
    .addOption(
      new Option('--chunk-tokens <n>', 'token budget of a chunk (default: 512)').argParser(
        positiveInt('--chunk-tokens'),
      ),
    )
    .addOption(
      new Option('--chunk-overlap <n>', 'tokens repeated from the previous chunk (default: 64)').argParser(
        nonNegativeInt('--chunk-overlap'),
      ),
    )
    .addOption(
      new Option('--embed-concurrency <n>', 'TEI requests in flight (default: 4)').argParser(
        positiveInt('--embed-concurrency'),
      ),
    )
    .addOption(
      new Option('--max-client-batch-size <n>', "inputs per TEI request (default: TEI's /info)").argParser(
        positiveInt('--max-client-batch-size'),
      ),
    )
    .addOption(
      new Option('--max-batch-tokens <n>', "tokens per TEI request (default: TEI's /info)").argParser(
        positiveInt('--max-batch-tokens'),
      ),
    )
    .addOption(
      new Option('--batch-size <n>', 'points per upsert (default: 500)').argParser(
        positiveInt('--batch-size'),
      ),
    )
    .addOption(
      new Option('--batch-bytes <n>', 'bytes per upsert (default: 16 MiB)').argParser(
        positiveInt('--batch-bytes'),
      ),
    )
    .addOption(
      new Option('--parallel <n>', 'upserts in flight (default: 4)').argParser(positiveInt('--parallel')),
    )
    .addOption(
      new Option('--wait', 'wait for Qdrant to apply each batch (default: acknowledge from its WAL)'),
    )
    .addOption(
      new Option('--max-retries <n>', 'retries per request on overload or outage (default: 6)').argParser(
        nonNegativeInt('--max-retries'),
      ),
    )
    .addOption(
      new Option(
        '--dry-run',
        'read and chunk only: counts, tokens, request bytes and a size estimate; no server needed',
      ),
    )
    .addOption(
      new Option('--on-error <mode>', 'bad input: skip it and exit 3 at the end, or fail at once').choices([
        'skip',
        'fail',
      ]),
    )
    .addOption(
      new Option(
        '--failed-out <file.jsonl>',
        'write chunks that could not be ingested, with the reason; ingest it again later',
      ),
    )
    .addOption(
      new Option(
        '--progress <mode>',
        'auto (bars on a terminal, a line every 5 s otherwise), bars, plain, ndjson (stderr), none',
      )
        .choices(['auto', 'bars', 'plain', 'ndjson', 'none'])
        .default('auto'),
    );
  addConnectionOptions(ingest, { collection: true });
  ingest.addHelpText(
    'after',
    `
Examples:
  $ taboot ingest ./docs                              Markdown, JSONL and text under ./docs
  $ taboot ingest notes.jsonl --text-field body --id-field uuid
  $ taboot ingest ./docs --dry-run                    chunks, tokens and a collection size estimate
  $ taboot ingest ./docs --json --progress none       for cron: one JSON summary on stdout
  $ taboot ingest ./docs --failed-out failed.jsonl && taboot ingest failed.jsonl

JSONL lines are objects with a text field (text or content), an optional id and an optional
precomputed "vector" (then TEI is skipped for that line); other fields go to the payload.
Markdown front matter goes to the payload; created_at/date become Unix seconds.

Exits 0 when everything was ingested, 3 when some input was skipped or failed (each reported
with file:line), 1 when a service failed, 2 on bad flags, config or paths, 130 when interrupted.
SIGINT or SIGTERM stops reading, lets the requests in flight finish (at most qdrant.timeoutMs,
then they are cancelled), prints the summary (--json: on stdout) and exits 130, for either
signal; a second signal quits at once, without a summary.`,
  );
  ingest.action(async (paths: string[], flags: IngestFlags, command: Command) => {
    const context = createContext(command);
    const connection = connectionOverrides(flags);
    const { config } = await context.loadConfig({
      ...connection,
      tei: {
        ...connection.tei,
        concurrency: flags.embedConcurrency,
        maxClientBatchSize: flags.maxClientBatchSize,
        maxBatchTokens: flags.maxBatchTokens,
      },
      ingest: {
        include: flags.include,
        exclude: flags.exclude,
        textField: flags.textField,
        idField: flags.idField,
        maxLineBytes: flags.maxLineBytes,
        chunkTokens: flags.chunkTokens,
        chunkOverlap: flags.chunkOverlap,
        batchSize: flags.batchSize,
        batchBytes: flags.batchBytes,
        parallel: flags.parallel,
        wait: flags.wait,
        maxRetries: flags.maxRetries,
        onError: flags.onError,
      },
    });
    const [{ ingestJob }, view] = await Promise.all([
      import('../pipeline/ingest-job.js'),
      import('../ui/ingest-view.js'),
    ]);
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
    let result: Awaited<ReturnType<typeof ingestJob>>;
    try {
      result = await ingestJob(
        {
          paths,
          config,
          dryRun: flags.dryRun ?? false,
          onError: config.ingest.onError,
          failedOut: flags.failedOut,
          signal: interrupt.signal,
          cancel: interrupt.cancel,
        },
        display.events,
      );
    } finally {
      display.stop();
      interrupt.dispose();
    }
    view.renderIngestSummary(context.output, result.summary);
    if (result.summary.interrupted) {
      // After Ctrl-C no retry is started, so a request failing during the drain is expected.
      if (result.fatal)
        context.output.warn(`while stopping: ${(result.fatal as Error).message ?? result.fatal}`);
      throw new InterruptedError(interrupt.received() ?? 'SIGINT');
    }
    if (result.fatal) throw result.fatal;
    if (result.summary.skipped > 0 || result.summary.failed > 0) {
      throw new ExitError(
        ExitCode.Partial,
        `${result.summary.skipped} input(s) skipped and ${result.summary.failed} chunk(s) failed; see the messages above`,
      );
    }
  });
}
