import { type Command, InvalidArgumentError, Option } from 'commander';

/**
 * Parsers for numeric flags, all with one message shape:
 * ``Expected `--batch-size` to be a positive integer, got `0` ``.
 */
export function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed <= 0) {
      throw new InvalidArgumentError(`Expected \`${flag}\` to be a positive integer, got \`${value}\``);
    }
    return parsed;
  };
}

export function nonNegativeInt(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) {
      throw new InvalidArgumentError(`Expected \`${flag}\` to be a non-negative integer, got \`${value}\``);
    }
    return parsed;
  };
}

export function positiveNumber(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
      throw new InvalidArgumentError(`Expected \`${flag}\` to be a positive number, got \`${value}\``);
    }
    return parsed;
  };
}

/** `--qdrant-url`, `--tei-url`, `--collection`: the connection flags shared by most commands. */
export function addConnectionOptions(
  command: Command,
  which: { tei?: boolean; collection?: boolean } = {},
): Command {
  command.addOption(new Option('--qdrant-url <url>', 'Qdrant gRPC URL (env TABOOT_QDRANT_URL)'));
  if (which.tei !== false) command.addOption(new Option('--tei-url <url>', 'TEI URL (env TABOOT_TEI_URL)'));
  if (which.collection)
    command.addOption(new Option('-c, --collection <name>', 'collection (env TABOOT_COLLECTION)'));
  return command;
}

export interface ConnectionFlags {
  qdrantUrl?: string;
  teiUrl?: string;
  collection?: string;
}

/** Config overrides from the connection flags. */
export function connectionOverrides(flags: ConnectionFlags) {
  return {
    qdrant: { url: flags.qdrantUrl },
    tei: { url: flags.teiUrl },
    collection: { name: flags.collection },
  };
}
