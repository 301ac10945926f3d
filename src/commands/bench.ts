import { type Command, InvalidArgumentError, Option } from 'commander';
import type { BenchSection } from '../bench/result.js';
import type { BenchPlan } from '../bench/run-bench.js';
import type { Config } from '../config/schema.js';
import { ExitCode, ExitError, InterruptedError, UsageError } from '../errors.js';
import { createContext } from './context.js';
import { addConnectionOptions, nonNegativeInt, positiveInt, positiveNumber } from './options.js';
import { interruptOnSignals } from './signals.js';

/** Every flag of every `bench` subcommand; each subcommand declares the ones it takes. */
export interface BenchFlags {
  qdrantUrl?: string;
  teiUrl?: string;
  collection?: string;
  keep?: boolean;
  count?: number;
  dim?: number;
  distribution?: 'uniform' | 'clustered';
  seed?: number;
  batchSize?: number;
  parallel?: number;
  wait?: boolean;
  indexTimeout?: number;
  queries?: number;
  concurrency?: number[];
  hnswEf?: number[];
  k?: number;
  filter?: string[];
  corpus?: string;
  docs?: number;
  /** `bench all`: embed levels; `bench ingest`: TEI requests in flight. */
  embedConcurrency?: number[] | number;
  embedBatchSize?: number;
  markdown?: boolean;
  report?: string;
  baseline?: string;
  maxRegression: number;
  saveBaseline?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `1,4,16` -> [1, 4, 16]: positive integers, duplicates dropped, order kept. */
export function levels(flag: string): (value: string) => number[] {
  const one = positiveInt(flag);
  return (value) => {
    const parts = value.split(',').map((part) => part.trim());
    if (parts.some((part) => part === '')) {
      throw new InvalidArgumentError(
        `Expected \`${flag}\` to be positive integers separated by commas, got \`${value}\``,
      );
    }
    return [...new Set(parts.map(one))];
  };
}

function fraction(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
    throw new InvalidArgumentError(`Expected \`--max-regression\` to be a number >= 0, got \`${value}\``);
  }
  return parsed;
}

const DEFAULTS = {
  count: 100_000,
  seed: 1,
  indexTimeoutSeconds: 600,
  queries: 200,
  concurrency: [1, 4, 16],
  hnswEf: [64, 128, 256],
  k: 10,
  docs: 1000,
  embedConcurrency: [1, 4, 16],
} as const;

export function registerBenchCommand(program: Command): void {
  const bench = program
    .command('bench')
    .description('benchmark upserts, search (QPS, latency, recall), TEI embedding and whole ingests');
  bench.addHelpText(
    'after',
    `
Examples:
  $ taboot bench upsert --count 100000 --dim 1024      upload vec/s, batch latency, time to index
  $ taboot bench search --concurrency 1,4,16 --hnsw-ef 64,128,256
  $ taboot bench search --collection technical_docs    query an existing collection with its own vectors
  $ taboot bench embed --corpus ./docs                 TEI docs/s and tokens/s
  $ taboot bench ingest ./docs                         the whole pipeline into a throwaway collection
  $ taboot bench all --json --save-baseline bench.json
  $ taboot bench all --baseline bench.json --markdown >> "$GITHUB_STEP_SUMMARY"

Benchmarks write into a new collection (taboot_bench_<random>) and drop it afterwards unless --keep.
With --baseline, exits 1 when a throughput falls, or a latency or recall worsens, by more than
--max-regression, naming each metric.`,
  );

  const upsert = bench
    .command('upsert')
    .description(
      'upload generated vectors through the fast upsert path, then wait until Qdrant has indexed them',
    );
  addDataOptions(upsert, 'name of the collection to create (default: taboot_bench_<random>)');
  finish(upsert, { tei: false }).action(benchAction(['upsert']));

  const search = bench
    .command('search')
    .description('QPS, latency and recall@k at several concurrency and hnsw_ef levels');
  addDataOptions(
    search,
    'query this existing collection (queries: its own stored vectors) instead of generating one',
  );
  addSearchOptions(search);
  finish(search, { tei: false }).action(benchAction(['search']));

  const embed = bench.command('embed').description('TEI embedding throughput at several concurrency levels');
  addEmbedOptions(embed, '--concurrency', '--batch-size');
  addSeed(embed);
  finish(embed, { qdrant: false }).action(benchAction(['embed']));

  const ingest = bench
    .command('ingest')
    .description('ingest files end to end into a throwaway collection: rates, stage times, bottleneck')
    .argument('<path...>', 'files and folders to ingest')
    .addOption(
      new Option('--batch-size <n>', 'points per upsert (default: 500)').argParser(
        positiveInt('--batch-size'),
      ),
    )
    .addOption(
      new Option('--parallel <n>', 'upserts in flight (default: 4)').argParser(positiveInt('--parallel')),
    )
    .addOption(
      new Option('--embed-concurrency <n>', 'TEI requests in flight (default: 4)').argParser(
        positiveInt('--embed-concurrency'),
      ),
    )
    .addOption(new Option('--keep', 'keep the collection afterwards'));
  addIndexTimeout(ingest);
  finish(ingest, {}).action(benchAction(['ingest']));

  const all = bench.command('all').description('upsert, then search the same collection, then embed');
  addDataOptions(all, 'name of the collection to create (default: taboot_bench_<random>)');
  addSearchOptions(all);
  addEmbedOptions(all, '--embed-concurrency', '--embed-batch-size');
  finish(all, {}).action(benchAction(['upsert', 'search', 'embed']));
}

function addSeed(command: Command): Command {
  return command.addOption(
    new Option('--seed <n>', `seed of the generated data (default: ${DEFAULTS.seed})`).argParser(
      nonNegativeInt('--seed'),
    ),
  );
}

function addIndexTimeout(command: Command): Command {
  return command.addOption(
    new Option(
      '--index-timeout <seconds>',
      `longest wait for the collection to turn green and indexed (default: ${DEFAULTS.indexTimeoutSeconds})`,
    ).argParser(positiveNumber('--index-timeout')),
  );
}

function addDataOptions(command: Command, collectionHelp: string): void {
  command
    .addOption(new Option('-c, --collection <name>', collectionHelp))
    .addOption(new Option('--keep', 'keep the generated collection afterwards'))
    .addOption(
      new Option('--count <n>', `vectors to generate (default: ${DEFAULTS.count})`).argParser(
        positiveInt('--count'),
      ),
    )
    .addOption(
      new Option('--dim <n>', 'vector size (default: collection.vectorSize from the config)').argParser(
        positiveInt('--dim'),
      ),
    )
    .addOption(
      new Option(
        '--distribution <kind>',
        'uniform on the sphere, or clustered like real embeddings (default: uniform)',
      ).choices(['uniform', 'clustered']),
    )
    .addOption(
      new Option('--batch-size <n>', 'points per upsert (default: 500)').argParser(
        positiveInt('--batch-size'),
      ),
    )
    .addOption(
      new Option('--parallel <n>', 'upserts in flight (default: 4)').argParser(positiveInt('--parallel')),
    )
    .addOption(
      new Option('--wait', 'wait for Qdrant to apply each batch (default: acknowledge from its WAL)'),
    );
  addSeed(command);
  addIndexTimeout(command);
}

function addSearchOptions(command: Command): void {
  command
    .addOption(
      new Option('--queries <n>', `distinct queries per level (default: ${DEFAULTS.queries})`).argParser(
        positiveInt('--queries'),
      ),
    )
    .addOption(
      new Option(
        '--concurrency <levels>',
        `queries in flight, comma-separated (default: ${DEFAULTS.concurrency.join(',')})`,
      ).argParser(levels('--concurrency')),
    )
    .addOption(
      new Option(
        '--hnsw-ef <levels>',
        `HNSW search beam widths, comma-separated (default: ${DEFAULTS.hnswEf.join(',')})`,
      ).argParser(levels('--hnsw-ef')),
    )
    .addOption(
      new Option('-k, --k <n>', `results per query and k of recall@k (default: ${DEFAULTS.k})`).argParser(
        positiveInt('--k'),
      ),
    )
    .addOption(
      new Option(
        '-f, --filter <expr>',
        'payload filter for every query, repeatable (generated points carry bucket = id % 100)',
      ).argParser(collect),
    );
}

function addEmbedOptions(command: Command, concurrencyFlag: string, batchFlag: string): void {
  command
    .addOption(new Option('--corpus <folder>', 'embed chunks of these files (default: generated texts)'))
    .addOption(
      new Option('--docs <n>', `texts embedded per level (default: ${DEFAULTS.docs})`).argParser(
        positiveInt('--docs'),
      ),
    )
    .addOption(
      new Option(
        `${concurrencyFlag} <levels>`,
        `TEI requests in flight, comma-separated (default: ${DEFAULTS.embedConcurrency.join(',')})`,
      ).argParser(levels(concurrencyFlag)),
    )
    .addOption(
      new Option(
        `${batchFlag} <n>`,
        "texts per TEI request (default: TEI's max_client_batch_size)",
      ).argParser(positiveInt(batchFlag)),
    );
}

/** The options every subcommand shares: connections, report formats and the baseline gate. */
function finish(command: Command, which: { tei?: boolean; qdrant?: boolean }): Command {
  command
    .addOption(
      new Option('--markdown', 'print the result as Markdown (for a CI job summary) instead of a table'),
    )
    .addOption(new Option('--report <file.html>', 'also write a self-contained HTML report with charts'))
    .addOption(new Option('--baseline <file>', 'compare with a saved --json result; exit 1 on a regression'))
    .addOption(
      new Option('--max-regression <fraction>', 'allowed worsening against the baseline, a fraction')
        .argParser(fraction)
        .default(0.1),
    )
    .addOption(new Option('--save-baseline <file>', 'save this result as a baseline file'));
  if (which.qdrant === false) {
    command.addOption(new Option('--tei-url <url>', 'TEI URL (env TABOOT_TEI_URL)'));
  } else {
    addConnectionOptions(command, { tei: which.tei });
  }
  return command;
}

function benchAction(scenarios: readonly BenchSection[]) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const flags = command.opts<BenchFlags>();
    const paths = scenarios.includes('ingest') ? (args[0] as string[]) : [];
    await runBenchCommand(scenarios, flags, paths, command);
  };
}

async function runBenchCommand(
  scenarios: readonly BenchSection[],
  flags: BenchFlags,
  paths: readonly string[],
  command: Command,
): Promise<void> {
  const context = createContext(command);
  const output = context.output;
  if (flags.markdown && context.globals.json) {
    throw new UsageError('--json and --markdown both print the result on stdout: pick one');
  }
  const upsertsConfigured = !scenarios.includes('embed') || scenarios.length > 1;
  const { config } = await context.loadConfig({
    qdrant: { url: flags.qdrantUrl },
    tei: {
      url: flags.teiUrl,
      concurrency: typeof flags.embedConcurrency === 'number' ? flags.embedConcurrency : undefined,
    },
    ingest: upsertsConfigured
      ? { batchSize: flags.batchSize, parallel: flags.parallel, wait: flags.wait }
      : {},
  });
  const [{ runBench, finishBench }, { readBaseline }, view] = await Promise.all([
    import('../bench/run-bench.js'),
    import('../bench/baseline.js'),
    import('../ui/bench-report.js'),
  ]);
  // Read before the run: a missing or broken baseline fails in a second, not after the benchmark.
  const baseline = flags.baseline ? await readBaseline(flags.baseline) : undefined;
  const plan = benchPlan(scenarios, flags, config, paths);

  const interrupt = interruptOnSignals({
    onFirst: (name) =>
      output.info(
        `\n${name}: stopping after the requests in flight, then dropping the bench collection (again to quit at once)`,
      ),
  });
  const progress = view.createBenchProgress(output);
  let run: Awaited<ReturnType<typeof runBench>>;
  try {
    run = await runBench(config, plan, progress, interrupt.signal);
  } catch (error) {
    const signal = interrupt.received();
    throw signal ? new InterruptedError(signal) : error;
  } finally {
    progress.stop();
    interrupt.dispose();
  }
  const comparison = await finishBench(run.result, {
    baseline,
    maxRegression: flags.maxRegression,
    saveBaseline: flags.saveBaseline,
    reportHtml: flags.report,
  });
  if (flags.saveBaseline) output.info(`saved baseline ${flags.saveBaseline}`);
  if (flags.report) output.info(`wrote report ${flags.report}`);
  view.renderBenchResult(output, run.result, {
    format: context.globals.json ? 'json' : flags.markdown ? 'markdown' : 'table',
    comparison,
    maxRegression: flags.maxRegression,
    kept: run.kept,
  });
  if (comparison && comparison.regressions.length > 0) {
    const count = comparison.regressions.length;
    throw new ExitError(
      ExitCode.Failure,
      `${count} metric${count === 1 ? '' : 's'} regressed by more than ${Math.round(flags.maxRegression * 1000) / 10}% against ${flags.baseline}`,
    );
  }
}

/** Flags and config to a plan: every default in one place. */
export function benchPlan(
  scenarios: readonly BenchSection[],
  flags: BenchFlags,
  config: Config,
  paths: readonly string[],
): BenchPlan {
  const embedOnly = scenarios.length === 1 && scenarios[0] === 'embed';
  const embedLevels = embedOnly
    ? flags.concurrency
    : Array.isArray(flags.embedConcurrency)
      ? flags.embedConcurrency
      : undefined;
  return {
    scenarios,
    collection: flags.collection,
    keep: flags.keep ?? false,
    data: {
      count: flags.count ?? DEFAULTS.count,
      dim: flags.dim ?? config.collection.vectorSize,
      distribution: flags.distribution ?? 'uniform',
      seed: flags.seed ?? DEFAULTS.seed,
      batchSize: config.ingest.batchSize,
      parallel: config.ingest.parallel,
      wait: config.ingest.wait,
      indexTimeoutMs: (flags.indexTimeout ?? DEFAULTS.indexTimeoutSeconds) * 1000,
    },
    search: {
      queries: flags.queries ?? DEFAULTS.queries,
      concurrency: (!embedOnly && flags.concurrency) || DEFAULTS.concurrency,
      hnswEf: flags.hnswEf ?? DEFAULTS.hnswEf,
      k: flags.k ?? DEFAULTS.k,
      filters: flags.filter ?? [],
    },
    embed: {
      corpus: flags.corpus,
      docs: flags.docs ?? DEFAULTS.docs,
      concurrency: embedLevels ?? DEFAULTS.embedConcurrency,
      batchSize: embedOnly ? flags.batchSize : flags.embedBatchSize,
    },
    ingest: { paths },
  };
}
