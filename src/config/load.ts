import { cosmiconfig } from 'cosmiconfig';
import { ConfigError, errorMessage } from '../errors.js';
import { formatZodIssues } from './issues.js';
import { describeYamlError, loadJsonConfig } from './parse-error.js';
import { registerSecret } from './redact.js';
import { type Config, type ConfigInput, configSchema } from './schema.js';

export interface LoadConfigOptions {
  /** An explicit config file (`--config`); otherwise cosmiconfig searches from `cwd`. */
  configPath?: string | undefined;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Settings from command-line flags: they win over everything else. */
  overrides?: DeepPartial<ConfigInput>;
}

export interface LoadedConfig {
  config: Config;
  /** The file the settings came from, if any. */
  filepath: string | undefined;
}

export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

const MODULE_NAME = 'taboot';

/** Precedence: flags > environment > config file > defaults (DESIGN section 9). */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const { fileConfig, filepath } = await readConfigFile(options.configPath, options.cwd ?? process.cwd());
  const interpolated = interpolate(fileConfig, env, [], filepath);
  const environment = fromEnvironment(env);
  const overrides = stripUndefined(options.overrides ?? {});
  const merged = deepMerge(
    deepMerge(withoutUrlsUnder(interpolated, [environment, overrides]), environment),
    overrides,
  );

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(formatZodIssues(parsed.error.issues), filepath);
  const config = parsed.data;
  registerSecret(config.qdrant.apiKey);
  registerSecret(config.tei.apiKey);
  registerSecret(config.search.reranker?.apiKey);
  return { config, filepath };
}

/**
 * `tei.url` from the environment or a flag names the one TEI to use: a lower layer's `tei.urls`
 * (which wins over `tei.url` when both are set) must not quietly send the work elsewhere.
 */
function withoutUrlsUnder(lower: unknown, higher: readonly unknown[]): unknown {
  const urlAbove = higher.some(
    (layer) => (layer as { tei?: { url?: unknown } } | undefined)?.tei?.url !== undefined,
  );
  const tei = (lower as { tei?: Record<string, unknown> } | undefined)?.tei;
  if (!urlAbove || tei?.urls === undefined) return lower;
  const { urls: _urls, ...rest } = tei;
  return { ...(lower as object), tei: rest };
}

async function readConfigFile(
  configPath: string | undefined,
  cwd: string,
): Promise<{ fileConfig: unknown; filepath: string | undefined }> {
  const explorer = cosmiconfig(MODULE_NAME, {
    searchStrategy: 'project',
    searchPlaces: [
      'package.json',
      `${MODULE_NAME}.config.json`,
      `.${MODULE_NAME}rc`,
      `.${MODULE_NAME}rc.json`,
      `.${MODULE_NAME}rc.yaml`,
      `.${MODULE_NAME}rc.yml`,
    ],
    loaders: { '.json': loadJsonConfig },
  });
  try {
    const result = configPath ? await explorer.load(configPath) : await explorer.search(cwd);
    if (!result || result.isEmpty) return { fileConfig: {}, filepath: result?.filepath };
    return { fileConfig: result.config, filepath: result.filepath };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const filepath = (error as { filepath?: unknown }).filepath;
    const where = typeof filepath === 'string' ? filepath : (configPath ?? 'config file');
    const yaml = describeYamlError(error);
    const reason = yaml
      ? yaml
      : (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? ' file not found'
        : ` ${firstLine(error)}`;
    throw new ConfigError([`${where}:${reason}`]);
  }
}

/** `TABOOT_QDRANT_URL`, `TABOOT_TEI_URL`, `TABOOT_COLLECTION`, `QDRANT_API_KEY`, `TEI_API_KEY`. */
function fromEnvironment(env: NodeJS.ProcessEnv): DeepPartial<ConfigInput> {
  const pick = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  return stripUndefined({
    qdrant: { url: pick('TABOOT_QDRANT_URL'), apiKey: pick('QDRANT_API_KEY') },
    tei: { url: pick('TABOOT_TEI_URL'), apiKey: pick('TEI_API_KEY') },
    collection: { name: pick('TABOOT_COLLECTION') },
  });
}

/** Replace `${VAR}` in every string of the file's config; an unset variable is a config error. */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: string[], filepath?: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
      const replacement = env[name];
      if (replacement === undefined) {
        throw new ConfigError([`${path.join('.')}: environment variable ${name} is not set`], filepath);
      }
      return replacement;
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) => interpolate(item, env, [...path, String(index)], filepath));
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, interpolate(inner, env, [...path, key], filepath)]),
    );
  }
  return value;
}

function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) result[key] = deepMerge(base[key], value);
  return result;
}

function stripUndefined<T>(value: T): T {
  if (!isPlainObject(value)) return value;
  const entries = Object.entries(value)
    .filter(([, inner]) => inner !== undefined)
    .map(([key, inner]) => [key, stripUndefined(inner)] as const)
    .filter(([, inner]) => !isPlainObject(inner) || Object.keys(inner).length > 0);
  return Object.fromEntries(entries) as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstLine(error: unknown): string {
  return errorMessage(error).split('\n')[0] ?? 'unreadable';
}
