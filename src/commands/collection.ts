import { type Command, InvalidArgumentError } from 'commander';
import { type Distance, distances } from '../config/constants.js';
import { ExitCode, ExitError, UsageError } from '../errors.js';
import type { EnsureOutcome } from '../qdrant/collections.js';
import { createContext } from './context.js';
import { addFlags, flag, flagOverrides, readFlags } from './flags.js';
import { nonNegativeInt, positiveInt, qdrantUrlFlag, teiUrlFlag } from './options.js';

function vectorSizeArg(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  return positiveInt('--vector-size')(value);
}

function distanceArg(value: string): Distance {
  const match = distances.find((name) => name.toLowerCase() === value.toLowerCase());
  if (!match) {
    throw new InvalidArgumentError(
      `Expected \`--distance\` to be one of ${distances.join(', ')}, got \`${value}\``,
    );
  }
  return match;
}

/** `collection create` flags, in help order. A flag with `config` overrides that setting. */
export const createFlags = {
  vectorSize: flag.parsed('--vector-size <n|auto>', 'vector size; `auto` asks TEI', vectorSizeArg, {
    // `auto` is not a size: the command asks TEI and passes the answer on.
    config: (size) => (size === 'auto' ? {} : { collection: { vectorSize: size } }),
  }),
  distance: flag.parsed('--distance <name>', `distance: ${distances.join(', ')}`, distanceArg, {
    config: 'collection.distance',
  }),
  m: flag.parsed('--m <n>', 'HNSW edges per node (0 disables the index)', nonNegativeInt('--m'), {
    config: 'collection.hnsw.m',
  }),
  efConstruct: flag.parsed(
    '--ef-construct <n>',
    'HNSW build-time beam width',
    positiveInt('--ef-construct'),
    {
      config: 'collection.hnsw.efConstruct',
    },
  ),
  quantization: flag.choice('--quantization <type>', 'scalar quantization', ['int8', 'none'], {
    config: 'collection.quantization.type',
  }),
  onDisk: flag.bool('--on-disk', 'keep original vectors on disk (memmap)', { config: 'collection.onDisk' }),
  shards: flag.parsed('--shards <n>', 'shard number', positiveInt('--shards'), {
    config: 'collection.shards',
  }),
  replicationFactor: flag.parsed(
    '--replication-factor <n>',
    'copies of each shard',
    positiveInt('--replication-factor'),
    { config: 'collection.replicationFactor' },
  ),
  writeConsistency: flag.parsed(
    '--write-consistency <n>',
    'replicas that must acknowledge a write',
    positiveInt('--write-consistency'),
    { config: 'collection.writeConsistencyFactor' },
  ),
  update: flag.bool('--update', 'apply the differences Qdrant can change in place', {
    conflicts: 'recreate',
  }),
  recreate: flag.bool('--recreate', 'drop the collection and create it again (needs --yes)'),
  yes: flag.bool('-y, --yes', 'confirm --recreate'),
  dryRun: flag.bool('--dry-run', 'print the requests that would be sent, send nothing'),
  qdrantUrl: qdrantUrlFlag,
  teiUrl: teiUrlFlag,
};

/** `collection info` flags. */
export const infoFlags = { qdrantUrl: qdrantUrlFlag };

/** `collection delete` flags. */
export const deleteFlags = {
  yes: flag.bool('-y, --yes', 'confirm the deletion'),
  qdrantUrl: qdrantUrlFlag,
};

export function registerCollectionCommand(program: Command): void {
  const collection = program
    .command('collection')
    .description('create, inspect and delete the Qdrant collection');

  const create = collection
    .command('create')
    .description('create the collection from config and flags, or check that it matches them')
    .argument('[name]', 'collection name (default: collection.name from config)');
  addFlags(create, createFlags);
  create.addHelpText(
    'after',
    `
Examples:
  $ taboot collection create                      from taboot.config.json (technical_docs, 1024 dims, Cosine)
  $ taboot collection create docs --vector-size auto --m 16
  $ taboot collection create --update             apply changed HNSW/optimizer/quantization settings
  $ taboot collection create --recreate --yes     drop and create again (deletes every point)
  $ taboot collection create --dry-run --json     the CreateCollection request as JSON

Exits 0 when created or already up to date, 1 when the existing collection differs (each
difference is listed), 2 on bad flags or config.`,
  );
  create.action(async (name: string | undefined, _flags: unknown, command: Command) => {
    const flags = readFlags(command, createFlags);
    if (flags.recreate && !flags.yes) {
      throw new UsageError('--recreate deletes every point in the collection; add --yes to confirm');
    }
    const context = createContext(command);
    const overrides = flagOverrides(flags, createFlags);
    // An absent name is dropped by the loader, leaving collection.name to env and file.
    const { config } = await context.loadConfig({
      ...overrides,
      collection: { ...overrides.collection, name },
    });
    const [{ createCollection }, { renderCreateResult }] = await Promise.all([
      import('../collections/create.js'),
      import('../ui/collection-report.js'),
    ]);
    const result = await createCollection(config, {
      autoVectorSize: flags.vectorSize === 'auto',
      mode: flags.recreate ? 'recreate' : flags.update ? 'update' : 'create',
      dryRun: flags.dryRun ?? false,
    });
    renderCreateResult(context.output, result);
    const { missingSyncIndexes } = await import('../qdrant/payload-keys.js');
    const unindexed = missingSyncIndexes(
      config.collection.name,
      Object.keys(config.collection.payloadIndexes),
    );
    if (unindexed) context.output.warn(unindexed);
    if (result.kind === 'outcome' && (result.outcome.action === 'differs' || hasRemaining(result.outcome))) {
      throw new ExitError(ExitCode.Failure);
    }
  });

  const info = collection
    .command('info')
    .description('status, point and index counts, segments, settings and payload indexes')
    .argument('[name]', 'collection name (default: collection.name from config)');
  addFlags(info, infoFlags);
  info.addHelpText(
    'after',
    '\nExamples:\n  $ taboot collection info\n  $ taboot collection info docs --json',
  );
  info.action(async (name: string | undefined, _flags: unknown, command: Command) => {
    const flags = readFlags(command, infoFlags);
    const context = createContext(command);
    const { config } = await context.loadConfig({
      ...flagOverrides(flags, infoFlags),
      collection: { name },
    });
    const [{ Qdrant }, { describeCollection }, { renderCollectionInfo }] = await Promise.all([
      import('../qdrant/client.js'),
      import('../qdrant/collections.js'),
      import('../ui/collection-report.js'),
    ]);
    const summary = await describeCollection(new Qdrant(config.qdrant), config.collection.name);
    renderCollectionInfo(context.output, summary);
  });

  const remove = collection
    .command('delete')
    .description('delete a collection and every point in it')
    .argument('<name>', 'collection name (always explicit)');
  addFlags(remove, deleteFlags);
  remove.addHelpText('after', '\nExamples:\n  $ taboot collection delete scratch --yes');
  remove.action(async (name: string, _flags: unknown, command: Command) => {
    const flags = readFlags(command, deleteFlags);
    if (!flags.yes)
      throw new UsageError(`deleting collection ${name} removes every point in it; add --yes to confirm`);
    const context = createContext(command);
    const { config } = await context.loadConfig(flagOverrides(flags, deleteFlags));
    const [{ Qdrant }, { deleteExistingCollection }, { renderDeleted }] = await Promise.all([
      import('../qdrant/client.js'),
      import('../qdrant/collections.js'),
      import('../ui/collection-report.js'),
    ]);
    await deleteExistingCollection(new Qdrant(config.qdrant), name);
    renderDeleted(context.output, name);
  });
}

function hasRemaining(outcome: EnsureOutcome): boolean {
  return outcome.action === 'updated' && outcome.remaining.length > 0;
}
