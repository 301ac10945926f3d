import { once } from 'node:events';
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { UsageError } from '../errors.js';

/**
 * A JSONL file named by a flag (`--chunks-out`, `--failed-out`): opened at once, so that a path
 * that cannot be written fails as a usage error before any work; then one line per record. A
 * write error does not stop the run: `close` returns the first one for the caller to report.
 */
export class JsonlOutput {
  private readonly stream: WriteStream;
  private streamError: Error | undefined;

  /** `shown` is the path as the user gave it, for messages; `file` the one opened, if another. */
  constructor(flag: string, shown: string, file = shown) {
    let fd: number;
    try {
      fd = openSync(file, 'w');
    } catch (error) {
      throw new UsageError(
        `${flag} ${shown}: cannot write (${(error as NodeJS.ErrnoException).code ?? error})`,
      );
    }
    this.stream = createWriteStream('', { fd });
    this.stream.on('error', (error) => {
      this.streamError ??= error;
    });
  }

  write(record: unknown): void {
    this.stream.write(`${JSON.stringify(record)}\n`);
  }

  /** Ends the file; resolves to the first write error, if there was one. */
  async close(): Promise<Error | undefined> {
    this.stream.end();
    await once(this.stream, 'close').catch(() => {});
    return this.streamError;
  }
}
