import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { TabootError, UsageError } from '../errors.js';

/** Globs a folder is searched with unless the config says otherwise. */
export const defaultInclude: readonly string[] = [
  '**/*.md',
  '**/*.markdown',
  '**/*.mdx',
  '**/*.jsonl',
  '**/*.txt',
];

/** Folder names never entered (besides every folder whose name starts with a dot). */
const ignoredFolders = new Set(['node_modules']);

export interface DiscoveredFile {
  /** Absolute ingest root: the folder given, or the directory of a file given. */
  root: string;
  /** Absolute path of the file as reached from the root (symlinks not resolved). */
  absolute: string;
  /** Path relative to the root, POSIX separators. */
  relative: string;
  /** Size in bytes when discovered. */
  size: number;
}

export interface DiscoverOptions {
  /** Globs matched against the path relative to the root; default {@link defaultInclude}. */
  include?: readonly string[];
  exclude?: readonly string[];
}

/** The source name of an ingest root: its folder's basename (`/srv/docs` -> `docs`). */
export function sourceNameFor(root: string): string {
  const resolved = path.resolve(root);
  return path.basename(resolved) || resolved;
}

interface Candidate extends DiscoveredFile {
  real: string;
  viaLink: boolean;
}

/**
 * The files to ingest under `paths`, in a stable order: argument order, then by relative path in
 * byte order. Resolved up front rather than streamed because the order needs the whole listing and
 * "nothing to ingest" must fail before any work starts; the list holds paths, not contents.
 *
 * - A folder is searched recursively with the include/exclude globs; `node_modules` and folders
 *   whose names start with a dot are skipped, and so are dotfiles (picomatch's default).
 * - A file argument is taken as-is, globs or not; its root is its directory.
 * - Symlinks are followed only when they resolve inside the root; a link out is skipped, and so is
 *   a broken one or a folder link that loops. A file reachable twice (through a link) is listed
 *   once, preferring the path without a link.
 *
 * Throws `UsageError` for a path that does not exist and for a folder with no matching file
 * (which also keeps `--prune` from emptying a collection when a mount is missing).
 */
export async function discoverFiles(
  paths: readonly string[],
  options: DiscoverOptions = {},
): Promise<DiscoveredFile[]> {
  const include = options.include && options.include.length > 0 ? options.include : defaultInclude;
  const isIncluded = picomatch([...include]);
  const isExcluded =
    options.exclude && options.exclude.length > 0 ? picomatch([...options.exclude]) : () => false;
  const seen = new Set<string>();
  const files: DiscoveredFile[] = [];

  for (const given of paths) {
    const absolute = path.resolve(given);
    let stats: Stats;
    try {
      stats = await stat(absolute);
    } catch (error) {
      if (isMissing(error)) throw new UsageError(`path does not exist: ${given}`);
      throw readFailure(given, error);
    }

    let found: Candidate[];
    if (stats.isFile()) {
      const real = await realpath(absolute);
      found = [
        {
          root: path.dirname(absolute),
          absolute,
          relative: path.basename(absolute),
          size: stats.size,
          real,
          viaLink: real !== absolute,
        },
      ];
    } else if (stats.isDirectory()) {
      const rootReal = await realpath(absolute);
      found = [];
      await walk({ root: absolute, rootReal, isIncluded, isExcluded, found }, absolute, rootReal, '', [
        rootReal,
      ]);
      if (found.length === 0) {
        throw new UsageError(`no files matching ${include.join(', ')} under ${given}`, {
          hint: 'check the path, or set ingest.include to the globs your files match',
        });
      }
      found = preferDirectPaths(found);
    } else {
      throw new UsageError(`not a file or folder: ${given}`);
    }

    for (const file of found) {
      if (seen.has(file.real)) continue;
      seen.add(file.real);
      files.push({ root: file.root, absolute: file.absolute, relative: file.relative, size: file.size });
    }
  }
  return files;
}

interface WalkContext {
  root: string;
  rootReal: string;
  isIncluded: (relative: string) => boolean;
  isExcluded: (relative: string) => boolean;
  found: Candidate[];
}

async function walk(
  context: WalkContext,
  directory: string,
  directoryReal: string,
  prefix: string,
  ancestors: readonly string[],
): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    throw readFailure(directory, error);
  }
  const viaLink = directoryReal !== path.join(context.rootReal, prefix);
  for (const entry of entries) {
    const name = entry.name;
    const relative = prefix === '' ? name : `${prefix}/${name}`;
    const absolute = path.join(directory, name);
    if (entry.isDirectory()) {
      if (isIgnoredFolder(name)) continue;
      const real = path.join(directoryReal, name);
      await walk(context, absolute, real, relative, [...ancestors, real]);
    } else if (entry.isFile()) {
      if (!context.isIncluded(relative) || context.isExcluded(relative)) continue;
      const stats = await stat(absolute).catch(() => undefined);
      if (!stats) continue; // removed since the listing
      const real = path.join(directoryReal, name);
      context.found.push({ root: context.root, absolute, relative, size: stats.size, real, viaLink });
    } else if (entry.isSymbolicLink()) {
      const target = await resolveInside(absolute, context.rootReal);
      if (!target) continue;
      if (target.stats.isDirectory()) {
        if (isIgnoredFolder(name) || ancestors.includes(target.real)) continue;
        await walk(context, absolute, target.real, relative, [...ancestors, target.real]);
      } else if (target.stats.isFile()) {
        if (!context.isIncluded(relative) || context.isExcluded(relative)) continue;
        context.found.push({
          root: context.root,
          absolute,
          relative,
          size: target.stats.size,
          real: target.real,
          viaLink: true,
        });
      }
    }
  }
}

function isIgnoredFolder(name: string): boolean {
  return name.startsWith('.') || ignoredFolders.has(name);
}

/** The link's target when it exists and lies inside the root, else `undefined`. */
async function resolveInside(
  link: string,
  rootReal: string,
): Promise<{ real: string; stats: Stats } | undefined> {
  try {
    const real = await realpath(link);
    const relative = path.relative(rootReal, real);
    if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
    return { real, stats: await stat(real) };
  } catch {
    return undefined;
  }
}

/** Sorts by relative path (byte order) and keeps one entry per real file, preferring one reached without a link. */
function preferDirectPaths(found: Candidate[]): Candidate[] {
  const keys = new Map(found.map((file) => [file, Buffer.from(file.relative)]));
  found.sort((a, b) => Buffer.compare(keys.get(a)!, keys.get(b)!));
  const chosen = new Map<string, Candidate>();
  for (const file of found) {
    const current = chosen.get(file.real);
    if (!current || (current.viaLink && !file.viaLink)) chosen.set(file.real, file);
  }
  const keep = new Set(chosen.values());
  return found.filter((file) => keep.has(file));
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function readFailure(what: string, error: unknown): TabootError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
  return new TabootError(`cannot read ${what}: ${code}`, { cause: error });
}
