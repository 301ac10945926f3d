import { InvalidArgumentError } from 'commander';
import { flag } from './flags.js';

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

/** A positive integer, or the word `auto`. */
export function positiveIntOrAuto(flag: string): (value: string) => number | 'auto' {
  const parse = positiveInt(flag);
  return (value) => {
    if (value.trim() === 'auto') return 'auto';
    try {
      return parse(value);
    } catch {
      throw new InvalidArgumentError(
        `Expected \`${flag}\` to be a positive integer or \`auto\`, got \`${value}\``,
      );
    }
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

/** The connection flags shared by most commands; each overrides its config key and environment variable. */
export const qdrantUrlFlag = flag.text('--qdrant-url <url>', 'Qdrant gRPC URL (env TABOOT_QDRANT_URL)', {
  config: 'qdrant.url',
});
export const teiUrlFlag = flag.text('--tei-url <url>', 'TEI URL (env TABOOT_TEI_URL)', { config: 'tei.url' });
export const collectionFlag = flag.text('-c, --collection <name>', 'collection (env TABOOT_COLLECTION)', {
  config: 'collection.name',
});
