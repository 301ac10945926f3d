import { type Command, InvalidArgumentError, Option } from 'commander';
import { createContext } from './context.js';
import { addConnectionOptions, connectionOverrides, positiveInt, positiveNumber } from './options.js';

interface SearchFlags {
  qdrantUrl?: string;
  teiUrl?: string;
  collection?: string;
  limit?: number;
  filter?: string[];
  scoreThreshold?: number;
  hnswEf?: number;
  exact?: boolean;
  rescore?: boolean;
  oversampling?: number;
  withPayload?: string;
  rerank?: boolean;
  rerankRequired?: boolean;
  verbose?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function scoreThreshold(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) {
    throw new InvalidArgumentError(`Expected \`--score-threshold\` to be a number, got \`${value}\``);
  }
  return parsed;
}

// The filter syntax lives with the parser; kept in sync by a test rather than imported, so that
// `taboot --help` does not load protobuf schemas.
const filterHelp = `
Filters (--filter, repeatable, ANDed):
  field=value          equals (matches inside arrays: tags=python)
  field=a,b            any of
  field!=value         not equal (points without the field are kept)
  field>=2024-01-01    range: > >= < <=; dates become Unix seconds (UTC)
  field~"some words"   full-text match (needs a text payload index)
  Quote values that contain , = or spaces: title="a, b".`;

export function registerSearchCommand(program: Command): void {
  const search = program
    .command('search')
    .description('semantic search: embed the query with TEI, query Qdrant, optionally rerank')
    .argument('<query>', 'what to look for')
    .addOption(
      new Option('-l, --limit <n>', 'hits to return (default: 20)').argParser(positiveInt('--limit')),
    )
    .addOption(new Option('-f, --filter <expr>', 'payload filter, repeatable (see below)').argParser(collect))
    .addOption(
      new Option('--score-threshold <score>', 'drop hits scoring below this').argParser(scoreThreshold),
    )
    .addOption(
      new Option('--hnsw-ef <n>', 'HNSW search beam width (default: 128)').argParser(
        positiveInt('--hnsw-ef'),
      ),
    )
    .addOption(new Option('--exact', 'exact (brute-force) search'))
    .addOption(new Option('--no-rescore', 'do not rescore quantized candidates with the original vectors'))
    .addOption(
      new Option('--oversampling <x>', 'candidates per hit before rescoring (default: 2.0)').argParser(
        positiveNumber('--oversampling'),
      ),
    )
    .addOption(
      new Option('--with-payload <fields>', 'comma-separated payload fields to return (default: all)'),
    )
    .addOption(new Option('--rerank', 'rerank the top limit x 2 with search.reranker'))
    .addOption(
      new Option('--rerank-required', 'fail when the reranker fails instead of falling back to vector order'),
    )
    .addOption(new Option('-v, --verbose', 'show the time of each stage (embed, search, rerank)'));
  addConnectionOptions(search, { collection: true });
  search.addHelpText(
    'after',
    `${filterHelp}

Examples:
  $ taboot search "how do I configure scrape intervals"
  $ taboot search "remote write" --filter kind=article --filter created_at>=2023-01-01 --limit 5
  $ taboot search "alert routing" --rerank --json`,
  );
  search.action(async (query: string, flags: SearchFlags, command: Command) => {
    const context = createContext(command);
    const { config } = await context.loadConfig({
      ...connectionOverrides(flags),
      search: {
        limit: flags.limit,
        hnswEf: flags.hnswEf,
        exact: flags.exact,
        oversampling: flags.oversampling,
      },
    });
    const [{ runSearch }, report] = await Promise.all([
      import('../search/search.js'),
      import('../ui/search-report.js'),
    ]);
    const result = await runSearch(config, {
      query,
      limit: config.search.limit,
      filters: flags.filter ?? [],
      scoreThreshold: flags.scoreThreshold,
      hnswEf: config.search.hnswEf,
      exact: config.search.exact,
      rescore: flags.rescore === false ? false : config.search.rescore,
      oversampling: config.search.oversampling,
      withPayload: flags.withPayload
        ?.split(',')
        .map((field) => field.trim())
        .filter(Boolean),
      rerank: flags.rerank ?? false,
      rerankRequired: flags.rerankRequired ?? false,
    });
    report.renderSearchResult(context.output, result, { query, verbose: flags.verbose ?? false });
  });
}
