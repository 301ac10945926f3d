import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { TabootError, UsageError } from '../errors.js';
import type { DiscoveredFile } from './discovered-file.js';
import { defaultInclude } from './registry.js';

/** Folder names never entered (besides every folder whose name starts with a dot). */
const ignoredFolders = new Set(['node_modules']);

export interface DiscoverOptions {
  /** Globs matched against the path relative to the root; default {@link defaultInclude}. */
  include?: readonly string[];
  exclude?: readonly string[];
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
 *   whose names start with a dot are skipped, and so are dotfiles (picomatch's default). A folder
 *   whose own path matches an exclude glob (`locked`, `locked/**`) is not entered.
 * - A file argument is taken as-is, globs or not; its root is its directory.
 * - Symlinks are followed only when they resolve inside the root. A file reachable twice (through
 *   a link) is listed once, preferring the path without a link.
 * - What cannot be taken below a root is listed with a `skipReason` instead of failing the run: a
 *   folder that cannot be listed (a root-owned `lost+found`), a FIFO, socket or device, a link out
 *   of the root, broken or looping (those only when their name matches the globs).
 *
 * Throws `UsageError` for a path that does not exist and for a folder with no matching file
 * (which also keeps `--prune` from emptying a collection when a mount is missing); `TabootError`
 * when a path given cannot be read at all.
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
      const { real: _real, viaLink: _viaLink, ...listed } = file;
      files.push(listed);
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
    // The root itself is checked by the caller; below it, one folder's error must not end the run.
    if (prefix === '') throw readFailure(directory, error);
    if (isMissing(error)) return; // removed since its parent was listed
    skip(context, directory, prefix, `cannot read folder: ${errorCode(error)}; skipped`);
    return;
  }
  const viaLink = directoryReal !== path.join(context.rootReal, prefix);
  const wanted = (relative: string) => context.isIncluded(relative) && !context.isExcluded(relative);
  for (const entry of entries) {
    const name = entry.name;
    const relative = prefix === '' ? name : `${prefix}/${name}`;
    const absolute = path.join(directory, name);
    if (entry.isDirectory()) {
      if (isIgnoredFolder(name) || context.isExcluded(relative)) continue;
      const real = path.join(directoryReal, name);
      await walk(context, absolute, real, relative, [...ancestors, real]);
    } else if (entry.isFile()) {
      if (!wanted(relative)) continue;
      let stats: Stats;
      try {
        stats = await stat(absolute);
      } catch (error) {
        if (!isMissing(error)) skip(context, absolute, relative, `cannot read: ${errorCode(error)}; skipped`);
        continue;
      }
      const real = path.join(directoryReal, name);
      context.found.push({ root: context.root, absolute, relative, size: stats.size, real, viaLink });
    } else if (entry.isSymbolicLink()) {
      await followLink(context, absolute, relative, name, ancestors, wanted);
    } else if (wanted(relative)) {
      skip(context, absolute, relative, `not a regular file (${specialKind(entry)}); skipped`);
    }
  }
}

/**
 * A link is followed when its target lies inside the root. One that leads out, nowhere or round
 * in a loop is reported when it would have been read (its name matches the globs; for a folder
 * link, when it is not excluded). A folder link back to one of its own ancestors is passed over
 * quietly: everything under it is listed by its direct path already.
 */
async function followLink(
  context: WalkContext,
  absolute: string,
  relative: string,
  name: string,
  ancestors: readonly string[],
  wanted: (relative: string) => boolean,
): Promise<void> {
  let real: string;
  let stats: Stats;
  try {
    real = await realpath(absolute);
    stats = await stat(real);
  } catch (error) {
    if (!wanted(relative)) return;
    const code = errorCode(error);
    const reason =
      code === 'ENOENT'
        ? 'broken symlink; skipped'
        : code === 'ELOOP'
          ? 'symlink loop; skipped'
          : `cannot read: ${code}; skipped`;
    skip(context, absolute, relative, reason);
    return;
  }
  const inside = path.relative(context.rootReal, real);
  const outside = inside.startsWith('..') || path.isAbsolute(inside);
  if (stats.isDirectory()) {
    if (isIgnoredFolder(name) || context.isExcluded(relative) || ancestors.includes(real)) return;
    if (outside) {
      skip(context, absolute, relative, 'symlink to a folder outside the ingest root; not followed');
      return;
    }
    await walk(context, absolute, real, relative, [...ancestors, real]);
  } else if (wanted(relative)) {
    if (outside) skip(context, absolute, relative, 'symlink to a file outside the ingest root; not followed');
    else if (!stats.isFile()) skip(context, absolute, relative, 'not a regular file; skipped');
    else {
      const { root } = context;
      context.found.push({ root, absolute, relative, size: stats.size, real, viaLink: true });
    }
  }
}

function skip(context: WalkContext, absolute: string, relative: string, reason: string): void {
  context.found.push({
    root: context.root,
    absolute,
    relative,
    size: 0,
    real: absolute,
    viaLink: false,
    skipReason: reason,
  });
}

function specialKind(entry: Dirent): string {
  if (entry.isFIFO()) return 'FIFO';
  if (entry.isSocket()) return 'socket';
  if (entry.isCharacterDevice() || entry.isBlockDevice()) return 'device';
  return 'unknown type';
}

function isIgnoredFolder(name: string): boolean {
  return name.startsWith('.') || ignoredFolders.has(name);
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

function errorCode(error: unknown): string {
  return (
    (error as NodeJS.ErrnoException | undefined)?.code ??
    (error as Error | undefined)?.message ??
    'unknown error'
  );
}

function readFailure(what: string, error: unknown): TabootError {
  return new TabootError(`cannot read ${what}: ${errorCode(error)}`, { cause: error });
}
