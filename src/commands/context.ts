import type { Command } from 'commander';
import type { DeepPartial, LoadedConfig } from '../config/load.js';
import type { ConfigInput } from '../config/schema.js';
import { Output } from '../ui/output.js';
import { flag } from './flags.js';

/** The flags every command sees, declared on the program. */
export const globalFlags = {
  config: flag.text('--config <path>', 'config file (default: search for taboot.config.json, .tabootrc*)'),
  json: flag.bool('--json', 'machine-readable output on stdout; logs stay on stderr'),
  quiet: flag.bool('-q, --quiet', 'print only errors and results'),
  debug: flag.bool('--debug', 'print stack traces and request details (secrets stay redacted)'),
  color: flag.bool('--no-color', 'no colours (NO_COLOR and FORCE_COLOR are honoured too)'),
};

/** The global flags with their defaults filled in. */
export interface GlobalOptions {
  config?: string;
  json: boolean;
  quiet: boolean;
  debug: boolean;
  color: boolean;
}

export interface CommandContext {
  globals: GlobalOptions;
  output: Output;
  /** The one config loader: file, environment, then these flag overrides on top. */
  loadConfig(overrides?: DeepPartial<ConfigInput>): Promise<LoadedConfig>;
}

/** The global flags as seen from `command` (a subcommand sees its program's). */
export function globalOptions(command: Command): GlobalOptions {
  const opts = command.optsWithGlobals<{ [K in keyof GlobalOptions]?: GlobalOptions[K] }>();
  return {
    config: opts.config,
    json: opts.json ?? false,
    quiet: opts.quiet ?? false,
    debug: opts.debug ?? false,
    color: opts.color ?? true,
  };
}

export function createContext(command: Command): CommandContext {
  const globals = globalOptions(command);
  return {
    globals,
    output: new Output(globals),
    // Loaded on first use: zod and cosmiconfig are not needed for `--help`.
    loadConfig: async (overrides) => {
      const { loadConfig } = await import('../config/load.js');
      return loadConfig({ configPath: globals.config, overrides });
    },
  };
}
