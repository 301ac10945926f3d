import * as path from 'node:path';

/** A file discovery found under an ingest root, as the readers take it. */
export interface DiscoveredFile {
  /** Absolute ingest root: the folder given, or the directory of a file given. */
  root: string;
  /** Absolute path of the file as reached from the root (symlinks not resolved). */
  absolute: string;
  /** Path relative to the root, POSIX separators. */
  relative: string;
  /** Size in bytes when discovered. */
  size: number;
  /**
   * Set when discovery met this path under a root but will not read it: a folder it may not
   * list, a FIFO or socket, a symlink out of the root, broken or looping. `readDocuments` reports
   * it as skipped without opening it, so no input under a root goes unaccounted for.
   */
  skipReason?: string;
}

/** The source name of an ingest root: its folder's basename (`/srv/docs` -> `docs`). */
export function sourceNameFor(root: string): string {
  const resolved = path.resolve(root);
  return path.basename(resolved) || resolved;
}
