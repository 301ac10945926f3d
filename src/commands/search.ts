import { type Command, InvalidArgumentError } from 'commander';
import { filterSyntaxHelp } from '../qdrant/filter-syntax.js';
import { createContext } from './context.js';
import { addFlags, flag, flagOverrides, readFlags } from './flags.js';
import { collectionFlag, positiveInt, positiveNumber, qdrantUrlFlag, teiUrlFlag } from './options.js';

function scoreThreshold(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) {
    throw new InvalidArgumentError(`Expected \`--score-threshold\` to be a number, got \`${value}\``);
  }
  return parsed;
}

/** `title, doc_id,` -> ['title', 'doc_id']. */
function fieldList(value: string): string[] {
  return value
    .split(',')
    .map((field) => field.trim())
    .filter(Boolean);
}

/** Every `search` flag, in help order. A flag with `config` overrides that setting. */
export const searchFlags = {
  limit: flag.parsed('-l, --limit <n>', 'hits to return (default: 20)', positiveInt('--limit'), {
    config: 'search.limit',
  }),
  filter: flag.list('-f, --filter <expr>', 'payload filter, repeatable (see below)'),
  scoreThreshold: flag.parsed('--score-threshold <score>', 'drop hits scoring below this', scoreThreshold),
  hnswEf: flag.parsed('--hnsw-ef <n>', 'HNSW search beam width (default: 128)', positiveInt('--hnsw-ef'), {
    config: 'search.hnswEf',
  }),
  exact: flag.bool('--exact', 'exact (brute-force) search', { config: 'search.exact' }),
  rescore: flag.bool('--no-rescore', 'do not rescore quantized candidates with the original vectors', {
    config: 'search.rescore',
  }),
  oversampling: flag.parsed(
    '--oversampling <x>',
    'candidates per hit before rescoring (default: 2.0)',
    positiveNumber('--oversampling'),
    { config: 'search.oversampling' },
  ),
  withPayload: flag.parsed(
    '--with-payload <fields>',
    'comma-separated payload fields to return (default: all)',
    fieldList,
  ),
  rerank: flag.bool('--rerank', 'rerank the top limit x 2 with search.reranker'),
  rerankRequired: flag.bool(
    '--rerank-required',
    'fail when the reranker fails instead of falling back to vector order',
  ),
  verbose: flag.bool('-v, --verbose', 'show the time of each stage (embed, search, rerank)'),
  qdrantUrl: qdrantUrlFlag,
  teiUrl: teiUrlFlag,
  collection: collectionFlag,
};

export function registerSearchCommand(program: Command): void {
  const search = program
    .command('search')
    .description('semantic search: embed the query with TEI, query Qdrant, optionally rerank')
    .argument('<query>', 'what to look for');
  addFlags(search, searchFlags);
  search.addHelpText(
    'after',
    `
${filterSyntaxHelp}

Examples:
  $ taboot search "how do I configure scrape intervals"
  $ taboot search "remote write" --filter kind=article --filter created_at>=2023-01-01 --limit 5
  $ taboot search "alert routing" --rerank --json`,
  );
  search.action(async (query: string, _flags: unknown, command: Command) => {
    const flags = readFlags(command, searchFlags);
    const context = createContext(command);
    const { config } = await context.loadConfig(flagOverrides(flags, searchFlags));
    const [{ runSearch }, { renderSearchResult }] = await Promise.all([
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
      rescore: config.search.rescore,
      oversampling: config.search.oversampling,
      withPayload: flags.withPayload,
      rerank: flags.rerank ?? false,
      rerankRequired: flags.rerankRequired ?? false,
    });
    renderSearchResult(context.output, result, { query, verbose: flags.verbose ?? false });
  });
}
