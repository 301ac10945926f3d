import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Distance, distances } from '../config/constants.js';
import { ExitCode, ExitError, UsageError } from '../errors.js';
import type { EnsureOutcome } from '../qdrant/collections.js';
import { createContext } from './context.js';
import { addConnectionOptions, connectionOverrides, nonNegativeInt, positiveInt } from './options.js';

interface CreateFlags {
  qdrantUrl?: string;
  teiUrl?: string;
  vectorSize?: number | 'auto';
  distance?: Distance;
  m?: number;
  efConstruct?: number;
  quantization?: 'int8' | 'none';
  onDisk?: boolean;
  shards?: number;
  replicationFactor?: number;
  writeConsistency?: number;
  update?: boolean;
  recreate?: boolean;
  yes?: boolean;
  dryRun?: boolean;
}

interface ConnectionOnlyFlags {
  qdrantUrl?: string;
}

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

export function registerCollectionCommand(program: Command): void {
  const collection = program
    .command('collection')
    .description('create, inspect and delete the Qdrant collection');

  const create = collection
    .command('create')
    .description('create the collection from config and flags, or check that it matches them')
    .argument('[name]', 'collection name (default: collection.name from config)')
    .addOption(new Option('--vector-size <n|auto>', 'vector size; `auto` asks TEI').argParser(vectorSizeArg))
    .addOption(new Option('--distance <name>', `distance: ${distances.join(', ')}`).argParser(distanceArg))
    .addOption(
      new Option('--m <n>', 'HNSW edges per node (0 disables the index)').argParser(nonNegativeInt('--m')),
    )
    .addOption(
      new Option('--ef-construct <n>', 'HNSW build-time beam width').argParser(positiveInt('--ef-construct')),
    )
    .addOption(new Option('--quantization <type>', 'scalar quantization').choices(['int8', 'none']))
    .addOption(new Option('--on-disk', 'keep original vectors on disk (memmap)'))
    .addOption(new Option('--shards <n>', 'shard number').argParser(positiveInt('--shards')))
    .addOption(
      new Option('--replication-factor <n>', 'copies of each shard').argParser(
        positiveInt('--replication-factor'),
      ),
    )
    .addOption(
      new Option('--write-consistency <n>', 'replicas that must acknowledge a write').argParser(
        positiveInt('--write-consistency'),
      ),
    )
    .addOption(
      new Option('--update', 'apply the differences Qdrant can change in place').conflicts('recreate'),
    )
    .addOption(new Option('--recreate', 'drop the collection and create it again (needs --yes)'))
    .addOption(new Option('-y, --yes', 'confirm --recreate'))
    .addOption(new Option('--dry-run', 'print the requests that would be sent, send nothing'));
  addConnectionOptions(create);
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
  create.action(async (name: string | undefined, flags: CreateFlags, command: Command) => {
    if (flags.recreate && !flags.yes) {
      throw new UsageError('--recreate deletes every point in the collection; add --yes to confirm');
    }
    const context = createContext(command);
    const { config } = await context.loadConfig({
      ...connectionOverrides(flags),
      collection: {
        name,
        vectorSize: typeof flags.vectorSize === 'number' ? flags.vectorSize : undefined,
        distance: flags.distance,
        onDisk: flags.onDisk,
        hnsw: { m: flags.m, efConstruct: flags.efConstruct },
        quantization: { type: flags.quantization },
        shards: flags.shards,
        replicationFactor: flags.replicationFactor,
        writeConsistencyFactor: flags.writeConsistency,
      },
    });
    const [{ createCollection }, report] = await Promise.all([
      import('../qdrant/collection-create.js'),
      import('../ui/collection-report.js'),
    ]);
    const result = await createCollection(config, {
      autoVectorSize: flags.vectorSize === 'auto',
      mode: flags.recreate ? 'recreate' : flags.update ? 'update' : 'create',
      dryRun: flags.dryRun ?? false,
    });
    report.renderCreateResult(context.output, result);
    if (result.kind === 'outcome' && (result.outcome.action === 'differs' || hasRemaining(result.outcome))) {
      throw new ExitError(ExitCode.Failure);
    }
  });

  const info = collection
    .command('info')
    .description('status, point and index counts, segments, settings and payload indexes')
    .argument('[name]', 'collection name (default: collection.name from config)');
  addConnectionOptions(info, { tei: false });
  info.addHelpText(
    'after',
    '\nExamples:\n  $ taboot collection info\n  $ taboot collection info docs --json',
  );
  info.action(async (name: string | undefined, flags: ConnectionOnlyFlags, command: Command) => {
    const context = createContext(command);
    const { config } = await context.loadConfig({ ...connectionOverrides(flags), collection: { name } });
    const [{ Qdrant }, { describeCollection }, report] = await Promise.all([
      import('../qdrant/client.js'),
      import('../qdrant/collections.js'),
      import('../ui/collection-report.js'),
    ]);
    const summary = await describeCollection(new Qdrant(config.qdrant), config.collection.name);
    report.renderCollectionInfo(context.output, summary);
  });

  const remove = collection
    .command('delete')
    .description('delete a collection and every point in it')
    .argument('<name>', 'collection name (always explicit)')
    .addOption(new Option('-y, --yes', 'confirm the deletion'));
  addConnectionOptions(remove, { tei: false });
  remove.addHelpText('after', '\nExamples:\n  $ taboot collection delete scratch --yes');
  remove.action(async (name: string, flags: ConnectionOnlyFlags & { yes?: boolean }, command: Command) => {
    if (!flags.yes)
      throw new UsageError(`deleting collection ${name} removes every point in it; add --yes to confirm`);
    const context = createContext(command);
    const { config } = await context.loadConfig(connectionOverrides(flags));
    const [{ Qdrant }, { deleteExistingCollection }, report] = await Promise.all([
      import('../qdrant/client.js'),
      import('../qdrant/collections.js'),
      import('../ui/collection-report.js'),
    ]);
    await deleteExistingCollection(new Qdrant(config.qdrant), name);
    report.renderDeleted(context.output, name);
  });
}

function hasRemaining(outcome: EnsureOutcome): boolean {
  return outcome.action === 'updated' && outcome.remaining.length > 0;
}
