import type { BaselineReport } from '../bench/report/model.js';
import type { BenchEvents } from '../bench/scenarios/shared.js';
import { redactText } from '../config/redact.js';
import { formatCount, formatNumber } from '../format.js';
import type { Output } from './output.js';

export interface BenchProgressView extends BenchEvents {
  /** Prints the last progress line of the phase if it was held back by the throttle. */
  stop(): void;
}

/**
 * Line-based live progress on stderr (silent with `--quiet`): one line when a phase starts, then
 * at most one progress line a second with the rate since the phase began, and the final count.
 * Plain lines rather than a redrawn bar, so that a CI log reads the same as a terminal.
 */
export function createBenchProgress(output: Output, intervalMs = 1000): BenchProgressView {
  let phase = '';
  let phaseStarted = performance.now();
  let lastPrinted = 0;
  let held: string | undefined;
  const flush = () => {
    if (held) output.info(held);
    held = undefined;
  };
  return {
    phase(name, detail) {
      flush();
      phase = name;
      phaseStarted = performance.now();
      lastPrinted = phaseStarted;
      output.info(output.err.bold(`${name}`) + (detail ? output.err.dim(`  ${detail}`) : ''));
    },
    progress(done, total, unit) {
      const now = performance.now();
      const seconds = (now - phaseStarted) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      const amount = total === undefined ? formatCount(done) : `${formatCount(done)} / ${formatCount(total)}`;
      const line = `  ${phase}  ${amount} ${unit}${unit === 'indexed' ? '' : `  ${formatNumber(rate)}/s`}  ${seconds.toFixed(1)} s`;
      if (now - lastPrinted >= intervalMs || (total !== undefined && done >= total && unit !== 'indexed')) {
        output.info(line);
        lastPrinted = now;
        held = undefined;
      } else {
        held = line;
      }
    },
    warn(message) {
      output.warn(message);
    },
    stop: flush,
  };
}

/** A bench result as the command prints it, rendered already (`benchRenderers`, `benchJson`). */
export type PrintedBenchResult =
  | { format: 'table'; text: string }
  | { format: 'markdown'; text: string }
  | { format: 'json'; data: unknown };

/**
 * The end of a run: the result on stdout (tables, the `--json` object, or Markdown for a job
 * summary, printed even with `--quiet` since it was asked for), then the baseline verdict on
 * stderr, one `error:` line per regressed metric.
 */
export function printBenchResult(
  output: Output,
  printed: PrintedBenchResult,
  baseline: BaselineReport | undefined,
  kept: readonly string[],
): void {
  if (printed.format === 'json') output.data(printed.data);
  else if (printed.format === 'markdown') output.stdout.write(redactText(printed.text));
  else for (const line of printed.text.split('\n')) output.result(line);
  for (const name of kept)
    output.info(`kept collection ${name} (delete it with: taboot collection delete ${name} --yes)`);
  if (!baseline) return;
  if (baseline.regressed === 0) output.info(`baseline: ${baseline.verdict}`);
  for (const regression of baseline.regressions) output.error(`regressed: ${regression}`);
  if (baseline.skipped.length > 0) {
    output.info(
      `baseline: not compared: ${baseline.skipped.map((entry) => `${entry.metric} (${entry.reason})`).join('; ')}`,
    );
  }
}
