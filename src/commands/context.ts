import type { Command } from 'commander';
import type { DeepPartial, LoadedConfig } from '../config/load.js';
import type { ConfigInput } from '../config/schema.js';
import { Output } from '../ui/output.js';

/** The global flags every command sees. */
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

export function globalOptions(command: Command): GlobalOptions {
  const opts = command.optsWithGlobals<Partial<GlobalOptions>>();
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
