import { type Command, InvalidArgumentError } from 'commander';
import type { BenchSection } from '../bench/result.js';
import type { BenchPlan } from '../bench/run-bench.js';
import type { DeepPartial } from '../config/load.js';
import type { Config, ConfigInput } from '../config/schema.js';
import { ExitCode, ExitError, InterruptedError, UsageError } from '../errors.js';
import { createContext } from './context.js';
import { addFlags, type FlagTable, type FlagValues, flag, flagOverrides, readFlags } from './flags.js';
import { nonNegativeInt, positiveInt, positiveNumber, qdrantUrlFlag, teiUrlFlag } from './options.js';
import { interruptOnSignals } from './signals.js';

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

const seedFlag = flag.parsed(
  '--seed <n>',
  `seed of the generated data (default: ${DEFAULTS.seed})`,
  nonNegativeInt('--seed'),
);
const indexTimeoutFlag = flag.parsed(
  '--index-timeout <seconds>',
  `longest wait for the collection to turn green and indexed (default: ${DEFAULTS.indexTimeoutSeconds})`,
  positiveNumber('--index-timeout'),
);
const upsertBatchSizeFlag = flag.parsed(
  '--batch-size <n>',
  'points per upsert (default: 500)',
  positiveInt('--batch-size'),
  { config: 'ingest.batchSize' },
);
const parallelFlag = flag.parsed(
  '--parallel <n>',
  'upserts in flight (default: 4)',
  positiveInt('--parallel'),
  {
    config: 'ingest.parallel',
  },
);

/** Generated data and the upload into a new collection (`upsert`, `search`, `all`). */
function dataFlags(collectionHelp: string) {
  return {
    collection: flag.text('-c, --collection <name>', collectionHelp),
    keep: flag.bool('--keep', 'keep the generated collection afterwards'),
    count: flag.parsed(
      '--count <n>',
      `vectors to generate (default: ${DEFAULTS.count})`,
      positiveInt('--count'),
    ),
    dim: flag.parsed(
      '--dim <n>',
      'vector size (default: collection.vectorSize from the config)',
      positiveInt('--dim'),
    ),
    distribution: flag.choice(
      '--distribution <kind>',
      'uniform on the sphere, or clustered like real embeddings (default: uniform)',
      ['uniform', 'clustered'],
    ),
    batchSize: upsertBatchSizeFlag,
    parallel: parallelFlag,
    wait: flag.bool('--wait', 'wait for Qdrant to apply each batch (default: acknowledge from its WAL)', {
      config: 'ingest.wait',
    }),
    seed: seedFlag,
    indexTimeout: indexTimeoutFlag,
  };
}

const searchLevelFlags = {
  queries: flag.parsed(
    '--queries <n>',
    `distinct queries per level (default: ${DEFAULTS.queries})`,
    positiveInt('--queries'),
  ),
  concurrency: flag.parsed(
    '--concurrency <levels>',
    `queries in flight, comma-separated (default: ${DEFAULTS.concurrency.join(',')})`,
    levels('--concurrency'),
  ),
  hnswEf: flag.parsed(
    '--hnsw-ef <levels>',
    `HNSW search beam widths, comma-separated (default: ${DEFAULTS.hnswEf.join(',')})`,
    levels('--hnsw-ef'),
  ),
  k: flag.parsed(
    '-k, --k <n>',
    `results per query and k of recall@k (default: ${DEFAULTS.k})`,
    positiveInt('--k'),
  ),
  filter: flag.list(
    '-f, --filter <expr>',
    'payload filter for every query, repeatable (generated points carry bucket = id % 100)',
  ),
};

const corpusFlag = flag.text('--corpus <folder>', 'embed chunks of these files (default: generated texts)');
const docsFlag = flag.parsed(
  '--docs <n>',
  `texts embedded per level (default: ${DEFAULTS.docs})`,
  positiveInt('--docs'),
);
const embedLevelsHelp = `TEI requests in flight, comma-separated (default: ${DEFAULTS.embedConcurrency.join(',')})`;
const embedBatchHelp = "texts per TEI request (default: TEI's max_client_batch_size)";

/** The options every subcommand shares: report formats, the baseline gate, then the connections. */
function finishFlags<Connections extends FlagTable>(connections: Connections) {
  return {
    markdown: flag.bool(
      '--markdown',
      'print the result as Markdown (for a CI job summary) instead of a table',
    ),
    report: flag.text('--report <file.html>', 'also write a self-contained HTML report with charts'),
    baseline: flag.text('--baseline <file>', 'compare with a saved --json result; exit 1 on a regression'),
    maxRegression: flag.parsed(
      '--max-regression <fraction>',
      'allowed worsening against the baseline, a fraction',
      fraction,
      { default: 0.1 },
    ),
    saveBaseline: flag.text('--save-baseline <file>', 'save this result as a baseline file'),
    ...connections,
  };
}

/** Every `bench` subcommand's flags, in help order. A flag with `config` overrides that setting. */
export const benchFlags = {
  upsert: {
    ...dataFlags('name of the collection to create (default: taboot_bench_<random>)'),
    ...finishFlags({ qdrantUrl: qdrantUrlFlag }),
  },
  search: {
    ...dataFlags(
      'query this existing collection (queries: its own stored vectors) instead of generating one',
    ),
    ...searchLevelFlags,
    ...finishFlags({ qdrantUrl: qdrantUrlFlag }),
  },
  embed: {
    corpus: corpusFlag,
    docs: docsFlag,
    concurrency: flag.parsed('--concurrency <levels>', embedLevelsHelp, levels('--concurrency')),
    batchSize: flag.parsed('--batch-size <n>', embedBatchHelp, positiveInt('--batch-size')),
    seed: seedFlag,
    ...finishFlags({ teiUrl: teiUrlFlag }),
  },
  ingest: {
    batchSize: upsertBatchSizeFlag,
    parallel: parallelFlag,
    embedConcurrency: flag.parsed(
      '--embed-concurrency <n>',
      'TEI requests in flight (default: 4)',
      positiveInt('--embed-concurrency'),
      { config: 'tei.concurrency' },
    ),
    keep: flag.bool('--keep', 'keep the collection afterwards'),
    indexTimeout: indexTimeoutFlag,
    ...finishFlags({ qdrantUrl: qdrantUrlFlag, teiUrl: teiUrlFlag }),
  },
  all: {
    ...dataFlags('name of the collection to create (default: taboot_bench_<random>)'),
    ...searchLevelFlags,
    corpus: corpusFlag,
    docs: docsFlag,
    embedConcurrency: flag.parsed(
      '--embed-concurrency <levels>',
      embedLevelsHelp,
      levels('--embed-concurrency'),
    ),
    embedBatchSize: flag.parsed('--embed-batch-size <n>', embedBatchHelp, positiveInt('--embed-batch-size')),
    ...finishFlags({ qdrantUrl: qdrantUrlFlag, teiUrl: teiUrlFlag }),
  },
};

type BenchValues = {
  [S in keyof typeof benchFlags]: FlagValues<(typeof benchFlags)[S]>;
}[keyof typeof benchFlags];
type KeysOfUnion<T> = T extends unknown ? keyof T : never;
type ValueAt<T, K extends PropertyKey> = T extends unknown
  ? K extends keyof T
    ? Exclude<T[K], undefined>
    : never
  : never;

/** The flags of any `bench` subcommand: what `benchPlan` reads. */
export type BenchFlags = { [K in KeysOfUnion<BenchValues>]?: ValueAt<BenchValues, K> } & {
  maxRegression: number;
};

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
  addFlags(upsert, benchFlags.upsert).action(benchAction(['upsert'], benchFlags.upsert));

  const search = bench
    .command('search')
    .description('QPS, latency and recall@k at several concurrency and hnsw_ef levels');
  addFlags(search, benchFlags.search).action(benchAction(['search'], benchFlags.search));

  const embed = bench.command('embed').description('TEI embedding throughput at several concurrency levels');
  addFlags(embed, benchFlags.embed).action(benchAction(['embed'], benchFlags.embed));

  const ingest = bench
    .command('ingest')
    .description('ingest files end to end into a throwaway collection: rates, stage times, bottleneck')
    .argument('<path...>', 'files and folders to ingest');
  addFlags(ingest, benchFlags.ingest).action(benchAction(['ingest'], benchFlags.ingest));

  const all = bench.command('all').description('upsert, then search the same collection, then embed');
  addFlags(all, benchFlags.all).action(benchAction(['upsert', 'search', 'embed'], benchFlags.all));
}

function benchAction<Table extends FlagTable>(scenarios: readonly BenchSection[], table: Table) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const flags = readFlags(command, table);
    const paths = scenarios.includes('ingest') ? (args[0] as string[]) : [];
    await runBenchCommand(scenarios, flags as BenchFlags, flagOverrides(flags, table), paths, command);
  };
}

async function runBenchCommand(
  scenarios: readonly BenchSection[],
  flags: BenchFlags,
  overrides: DeepPartial<ConfigInput>,
  paths: readonly string[],
  command: Command,
): Promise<void> {
  const context = createContext(command);
  const output = context.output;
  if (flags.markdown && context.globals.json) {
    throw new UsageError('--json and --markdown both print the result on stdout: pick one');
  }
  const { config } = await context.loadConfig(overrides);
  const [
    { runBench, finishBench },
    { readBaseline },
    { benchReport },
    { benchRenderers },
    { benchJson },
    { createBenchProgress, printBenchResult },
  ] = await Promise.all([
    import('../bench/run-bench.js'),
    import('../bench/baseline.js'),
    import('../bench/report/model.js'),
    import('../bench/report/renderers.js'),
    import('../bench/result.js'),
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
  const progress = createBenchProgress(output);
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
  const report = benchReport(run.result, { comparison, maxRegression: flags.maxRegression });
  printBenchResult(
    output,
    context.globals.json
      ? { format: 'json', data: benchJson(run.result) }
      : flags.markdown
        ? { format: 'markdown', text: benchRenderers.markdown(report) }
        : { format: 'table', text: benchRenderers.table(report, output.c) },
    report.baseline,
    run.kept,
  );
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
      batchBytes: config.ingest.batchBytes,
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
