import { Command, CommanderError } from 'commander';
import { registerBenchCommand } from './commands/bench.js';
import { registerCollectionCommand } from './commands/collection.js';
import { globalFlags, globalOptions } from './commands/context.js';
import { addFlags } from './commands/flags.js';
import { registerGpuStatusCommand } from './commands/gpu-status.js';
import { registerIngestCommand } from './commands/ingest.js';
import { registerReindexCommand } from './commands/reindex.js';
import { registerSearchCommand } from './commands/search.js';
import { ExitCode, errorMessage, isTabootError, ServiceError } from './errors.js';
import { watchForClosedPipe } from './ui/closed-pipe.js';
import { Output } from './ui/output.js';
import { renderRuntime } from './ui/runtime.js';
import { tabootVersion } from './version.js';

/**
 * Builds the commander program. Commands register themselves and import their core lazily, so
 * `taboot --help` loads nothing but commander.
 */
export function buildProgram(): Command {
  const program = new Command('taboot')
    .description('Bulk-embed documents with Text Embeddings Inference and ingest them into Qdrant, fast.')
    .version(
      tabootVersion(),
      '-V, --version',
      'print the version (with --debug: also Node and the platform)',
    );
  addFlags(program, globalFlags)
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
  $ taboot reindex ./docs                    rebuild into a new collection, then switch the alias
  $ taboot search "scrape intervals"         semantic search with filters and reranking
  $ taboot bench all --json                  upsert, search and embedding benchmarks
  $ taboot gpu-status                        GPU, TEI and Qdrant health in one screen

Exit codes: 0 ok, 1 failure, 2 usage or config error, 3 partial (input skipped), 130 interrupted.`,
  );
  registerCollectionCommand(program);
  registerIngestCommand(program);
  registerReindexCommand(program);
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
    if (error instanceof CommanderError && error.code === 'commander.version' && argv.includes('--debug')) {
      // Commander stops at --version, so --debug after it was never parsed: read argv.
      renderRuntime(new Output(safeGlobals(program)));
    }
    return reportError(error, program);
  }
}

/**
 * For the binary only: a reader that closed the pipe early (`taboot ... | head`) ends the process
 * as SIGPIPE ends any Unix filter (the shell sees 141, as with `git log | head`), without a stack
 * trace and without writing anything more. Node ignores SIGPIPE; adding and removing a listener
 * restores the default action, so re-raising it ends the process; the exit is the fallback.
 */
export function endQuietlyOnClosedPipe(): void {
  watchForClosedPipe([process.stdout, process.stderr], () => {
    const ignore = () => {};
    try {
      process.on('SIGPIPE', ignore).off('SIGPIPE', ignore);
      process.kill(process.pid, 'SIGPIPE');
    } finally {
      process.exit(128 + 13);
    }
  });
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
  output.error(`unexpected failure: ${errorMessage(error)}`);
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
