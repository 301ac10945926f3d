import type { ChalkInstance } from 'chalk';
import { redactText } from '../config/redact.js';
import { colorLevel, makeChalk } from './colors.js';

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  debug: boolean;
  color: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

/**
 * The one place that writes to the terminal. Results go to stdout (one JSON document with
 * `--json`); logs, warnings and errors go to stderr so that stdout stays parseable. Every line
 * passes through secret redaction.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly debug: boolean;
  /** Colours for stdout; `err` colours for stderr (they differ when one is piped). */
  readonly c: ChalkInstance;
  readonly err: ChalkInstance;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.quiet = options.quiet;
    this.debug = options.debug;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    const env = options.env ?? process.env;
    this.c = makeChalk(colorLevel(this.stdout, options.color, env));
    this.err = makeChalk(colorLevel(this.stderr, options.color, env));
  }

  /** A result line for a person; suppressed with `--json` (the JSON carries it) and `--quiet`. */
  result(line: string): void {
    if (this.json || this.quiet) return;
    this.write(this.stdout, line);
  }

  /** The machine-readable result: printed only with `--json`. */
  data(value: unknown): void {
    if (!this.json) return;
    this.write(this.stdout, JSON.stringify(value, jsonReplacer, 2));
  }

  info(line: string): void {
    if (this.quiet) return;
    this.write(this.stderr, line);
  }

  warn(line: string): void {
    this.write(this.stderr, `${this.err.yellow('warning:')} ${line}`);
  }

  error(line: string): void {
    this.write(this.stderr, `${this.err.red('error:')} ${line}`);
  }

  /** A line that belongs to an error or warning just printed (a difference, a file:line); never silenced. */
  detail(line: string): void {
    this.write(this.stderr, `  ${line}`);
  }

  /** Detail only shown with `--debug`. */
  trace(line: string): void {
    if (this.debug) this.write(this.stderr, this.err.dim(line));
  }

  private write(stream: NodeJS.WritableStream, text: string): void {
    stream.write(`${redactText(text)}\n`);
  }
}

/** bigint and typed arrays have no JSON form of their own. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Float32Array) return Array.from(value);
  return value;
}
