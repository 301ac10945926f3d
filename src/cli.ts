import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { registerBenchCommand } from './commands/bench.js';
import { registerCollectionCommand } from './commands/collection.js';
import { globalOptions } from './commands/context.js';
import { registerGpuStatusCommand } from './commands/gpu-status.js';
import { registerIngestCommand } from './commands/ingest.js';
import { registerSearchCommand } from './commands/search.js';
import { ExitCode, isTabootError, ServiceError } from './errors.js';
import { Output } from './ui/output.js';

/**
 * Builds the commander program. Commands register themselves and import their core lazily, so
 * `taboot --help` loads nothing but commander.
 */
export function buildProgram(): Command {
  const program = new Command('taboot')
    .description('Bulk-embed documents with Text Embeddings Inference and ingest them into Qdrant, fast.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .addOption(
      new Option('--config <path>', 'config file (default: search for taboot.config.json, .tabootrc*)'),
    )
    .addOption(new Option('--json', 'machine-readable output on stdout; logs stay on stderr'))
    .addOption(new Option('-q, --quiet', 'print only errors and results'))
    .addOption(new Option('--debug', 'print stack traces and request details (secrets stay redacted)'))
    .addOption(new Option('--no-color', 'no colours (NO_COLOR and FORCE_COLOR are honoured too)'))
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Examples:
  $ taboot collection create                 create the collection from taboot.config.json
  $ taboot collection info --json            status, counts and settings as JSON
  $ taboot ingest ./docs                     chunk, embed and upsert a folder with live vec/s
  $ taboot search "scrape intervals"         semantic search with filters and reranking
  $ taboot bench all --json                  upsert, search and embedding benchmarks
  $ taboot gpu-status                        GPU, TEI and Qdrant health in one screen

Exit codes: 0 ok, 1 failure, 2 usage or config error, 3 partial (input skipped), 130 interrupted.`,
  );
  registerCollectionCommand(program);
  registerIngestCommand(program);
  registerSearchCommand(program);
  registerBenchCommand(program);
  registerGpuStatusCommand(program);
  // Subcommands inherit exitOverride only when it is set on each of them.
  for (const command of allCommands(program)) command.exitOverride();
  return program;
}

/**
 * Run taboot with `argv` (without the node and script paths) and return the exit code. This is the
 * one place that turns errors into messages and exit codes; everything below it throws.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.Ok;
  } catch (error) {
    return reportError(error, program);
  }
}

function reportError(error: unknown, program: Command): number {
  if (error instanceof CommanderError) {
    // Commander has already printed help, the version or its own one-line message.
    // Help asked for (`--help`) or the version: 0. Help shown because a subcommand is missing: 2.
    return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  }
  const globals = safeGlobals(program);
  const output = new Output(globals);
  if (isTabootError(error)) {
    if (error.message) output.error(error.message);
    if (error.hint) output.info(`  ${error.hint}`);
    if (globals.debug) printCauseChain(output, error);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  output.error(`unexpected failure: ${message}`);
  if (globals.debug) printCauseChain(output, error);
  else output.info('  This is a bug in taboot. Run again with --debug for the stack trace and report it.');
  return ExitCode.Failure;
}

function printCauseChain(output: Output, error: unknown): void {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth += 1) {
    if (current instanceof Error) {
      output.trace(
        depth === 0 ? (current.stack ?? current.message) : `caused by: ${current.stack ?? current.message}`,
      );
      current = current.cause;
    } else {
      output.trace(`caused by: ${String(current)}`);
      break;
    }
  }
  if (error instanceof ServiceError && error.code) output.trace(`code: ${error.code}`);
}

/** The global flags as far as they were parsed; an error may come before commander saw them all. */
function safeGlobals(program: Command) {
  const opts = globalOptions(program);
  return { ...opts, json: opts.json, quiet: false };
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((child) => [child, ...allCommands(child)]);
}

function packageVersion(): string {
  const url = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}
