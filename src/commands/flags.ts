import { type Command, Option } from 'commander';
import type { DeepPartial } from '../config/load.js';
import type { ConfigInput } from '../config/schema.js';

/**
 * Command-line flags declared once: syntax, help, parser (which fixes the value's type) and, for a
 * flag that overrides a setting, the config key it lands on. A command registers its table with
 * `addFlags`, reads typed values with `readFlags` and turns them into config overrides with
 * `flagOverrides`, so adding a flag is one entry in one table.
 */
export interface Flag<T, HasDefault extends boolean = boolean> {
  /** commander's syntax: `-l, --limit <n>`, `--wait`, `--no-rescore`, `-w, --watch [seconds]`. */
  readonly syntax: string;
  readonly description: string;
  readonly choices: readonly string[] | undefined;
  /** Shown in the help and used when the flag is absent; without one an absent flag reads `undefined`. */
  readonly default: T | undefined;
  /** Whether `default` is set: then the flag always has a value. */
  readonly hasDefault: HasDefault;
  /** The attribute name of a flag that may not be given together with this one. */
  readonly conflicts: string | undefined;
  // Methods rather than function properties: a table holds flags of every value type.
  /** Checks and converts the text after the flag; absent for booleans and plain text. */
  parse?(value: string, previous: T | undefined): T;
  /** Where the value overrides the config (flags > environment > file > defaults). */
  config?(value: T): DeepPartial<ConfigInput>;
}

/** A command's flags, keyed by the name its code reads them under. */
export type FlagTable = Record<string, Flag<unknown>>;

type ValueOf<F> = F extends Flag<infer T> ? T : never;

/** The values a table reads to: a flag with a default always has a value, the others may be absent. */
export type FlagValues<Table> = {
  [K in keyof Table as Table[K] extends Flag<unknown, true> ? K : never]: ValueOf<Table[K]>;
} & {
  [K in keyof Table as Table[K] extends Flag<unknown, true> ? never : K]?: ValueOf<Table[K]>;
};

type Scalar = string | number | boolean | readonly unknown[];

/** Dotted config keys (`ingest.batchSize`) whose setting accepts a value of type `V`. */
export type ConfigKey<V, T = ConfigInput, Prefix extends string = ''> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends Scalar
    ? [V] extends [NonNullable<T[K]>]
      ? `${Prefix}${K}`
      : never
    : NonNullable<T[K]> extends Record<string, unknown>
      ? ConfigKey<V, NonNullable<T[K]>, `${Prefix}${K}.`>
      : never;
}[keyof T & string];

interface FlagExtras<T> {
  default?: T;
  conflicts?: string;
  /** A config key, or a function for a value that maps onto the config only in part (`--vector-size auto`). */
  config?: ConfigKey<T> | ((value: T) => DeepPartial<ConfigInput>);
}

type Defaulted<E> = E extends { default: unknown } ? true : false;

function make<T, E extends FlagExtras<T>>(
  syntax: string,
  description: string,
  parse: ((value: string, previous: T | undefined) => T) | undefined,
  extras: E | undefined,
  choices?: readonly string[],
): Flag<T, Defaulted<E>> {
  const config = extras?.config;
  return {
    syntax,
    description,
    choices,
    default: extras?.default,
    hasDefault: (extras?.default !== undefined) as Defaulted<E>,
    conflicts: extras?.conflicts,
    ...(parse ? { parse } : {}),
    ...(config ? { config: typeof config === 'string' ? (value: T) => atPath(config, value) : config } : {}),
  };
}

/** Builders: the one place a flag's value type is decided. */
export const flag = {
  /** `--wait`: true when given. `--no-rescore`: false when given. Absent: undefined, so the config decides. */
  bool: <E extends FlagExtras<boolean>>(syntax: string, description: string, extras?: E) =>
    make<boolean, E>(syntax, description, undefined, extras),
  /** `--text-field <name>`: the text as given. */
  text: <E extends FlagExtras<string>>(syntax: string, description: string, extras?: E) =>
    make<string, E>(syntax, description, undefined, extras),
  /** `--include <glob>`, repeatable: every occurrence, in order. */
  list: <E extends FlagExtras<string[]>>(syntax: string, description: string, extras?: E) =>
    make<string[], E>(syntax, description, (value, previous) => [...(previous ?? []), value], extras),
  /** A value checked and converted by `parse`, which throws commander's InvalidArgumentError. */
  parsed: <T, E extends FlagExtras<T> = FlagExtras<T>>(
    syntax: string,
    description: string,
    parse: (value: string) => T,
    extras?: E,
  ) => make<T, E>(syntax, description, parse, extras),
  /** One of a fixed set of words. */
  choice: <const C extends readonly string[], E extends FlagExtras<C[number]> = FlagExtras<C[number]>>(
    syntax: string,
    description: string,
    choices: C,
    extras?: E,
  ) => make<C[number], E>(syntax, description, undefined, extras, choices),
};

/** Registers every flag of `table` on `command`, in table order (the help lists them so). */
export function addFlags(command: Command, table: FlagTable): Command {
  for (const spec of Object.values(table)) command.addOption(toOption(spec));
  return command;
}

/** The parsed values of `table`'s flags, keyed as in the table. */
export function readFlags<Table extends FlagTable>(command: Command, table: Table): FlagValues<Table> {
  const values = command.opts();
  const result: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const name = toOption(spec).attributeName();
    // commander gives `--no-x` an implicit `true`; only a value the user gave (or a declared
    // default) counts, so that an absent flag leaves the setting to the config.
    const implicit = command.getOptionValueSource(name) === 'default' && spec.default === undefined;
    result[key] = implicit ? undefined : values[name];
  }
  return result as FlagValues<Table>;
}

/** The config overrides the given flags make; absent flags make none. */
export function flagOverrides<Table extends FlagTable>(
  values: FlagValues<Table>,
  table: Table,
): DeepPartial<ConfigInput> {
  let overrides: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const value = (values as Record<string, unknown>)[key];
    if (value === undefined || !spec.config) continue;
    overrides = merge(overrides, spec.config(value) as Record<string, unknown>);
  }
  return overrides as DeepPartial<ConfigInput>;
}

function toOption(spec: Flag<unknown>): Option {
  const option = new Option(spec.syntax, spec.description);
  if (spec.parse) option.argParser(spec.parse.bind(spec));
  if (spec.choices) option.choices(spec.choices);
  if (spec.default !== undefined) option.default(spec.default);
  if (spec.conflicts) option.conflicts(spec.conflicts);
  return option;
}

function atPath(path: string, value: unknown): DeepPartial<ConfigInput> {
  const keys = path.split('.');
  let result: unknown = value;
  for (let index = keys.length - 1; index >= 0; index -= 1) result = { [keys[index]!]: result };
  return result as DeepPartial<ConfigInput>;
}

function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const result = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = result[key];
    result[key] =
      isObject(current) && isObject(value) ? merge(current, value as Record<string, unknown>) : value;
  }
  return result;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
