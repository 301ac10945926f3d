import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ExitCode, ExitError } from '../errors.js';
import { createContext } from './context.js';
import { addConnectionOptions, connectionOverrides, positiveInt, positiveNumber } from './options.js';
import { interruptOnSignals } from './signals.js';

interface GpuStatusFlags {
  qdrantUrl?: string;
  teiUrl?: string;
  collection?: string;
  qdrantRestUrl?: string;
  nvidiaSmi?: string;
  timeout: number;
  /** `true` when given without a value. */
  watch?: number | true;
}

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_WATCH_SECONDS = 2;

function httpUrl(flag: string): (value: string) => string {
  return (value) => {
    if (!/^https?:\/\/[^\s/]+/.test(value) || !URL.canParse(value)) {
      throw new InvalidArgumentError(
        `Expected \`${flag}\` to be a URL starting with http:// or https://, got \`${value}\``,
      );
    }
    return value;
  };
}

export function registerGpuStatusCommand(program: Command): void {
  const command = program
    .command('gpu-status')
    .description('one screen for the GPU, TEI and Qdrant: memory, processes, health, indexing, re-index fit')
    .addOption(
      new Option(
        '--qdrant-rest-url <url>',
        'Qdrant REST URL for telemetry (default: the gRPC URL with port 6333 when it uses 6334)',
      ).argParser(httpUrl('--qdrant-rest-url')),
    )
    .addOption(new Option('--nvidia-smi <path>', 'the nvidia-smi to run (default: nvidia-smi on PATH)'))
    .addOption(
      new Option('--timeout <ms>', 'deadline of each source, in milliseconds')
        .argParser(positiveInt('--timeout'))
        .default(DEFAULT_TIMEOUT_MS),
    )
    .addOption(
      new Option(
        '-w, --watch [seconds]',
        `refresh every few seconds until Ctrl-C (default: ${DEFAULT_WATCH_SECONDS})`,
      ).argParser(positiveNumber('--watch')),
    );
  addConnectionOptions(command, { collection: true });
  command.addHelpText(
    'after',
    `
Sources, all asked at once, each within --timeout:
  GPU      nvidia-smi: name, driver, memory, utilisation, temperature, power, processes
  TEI      /health, /info (model, limits), /metrics (queue size, batch sizes)
  Qdrant   gRPC health check (version), the collection (status, points, indexed share),
           REST /telemetry (whether GPU indexing is on)
  Re-index vectors x dims x 4 bytes (x 1 with int8) against the 16 GiB per-iteration limit
           and the GPU's free memory

Examples:
  $ taboot gpu-status
  $ taboot gpu-status --watch 5
  $ taboot gpu-status --json | jq .reindex.message
  $ taboot gpu-status --qdrant-url http://gpu-box:6334 --qdrant-rest-url http://gpu-box:6333

Exits 0 when TEI, Qdrant and the collection are healthy, 1 when a service is down or the
collection is red or missing. No GPU (or no nvidia-smi) is reported but is not a failure.
With --json --watch, each report is one line (JSON Lines).`,
  );
  command.action(async (flags: GpuStatusFlags, cmd: Command) => {
    const context = createContext(cmd);
    const { config } = await context.loadConfig(connectionOverrides(flags));
    const [{ GpuStatusProbe }, report] = await Promise.all([
      import('../gpu/gpu-status.js'),
      import('../ui/gpu-status-report.js'),
    ]);
    const probe = new GpuStatusProbe(config, {
      timeoutMs: flags.timeout,
      qdrantRestUrl: flags.qdrantRestUrl,
      teiUrls: flags.teiUrl ? [flags.teiUrl] : undefined,
      nvidiaSmi: flags.nvidiaSmi,
    });
    try {
      if (flags.watch === undefined) {
        const result = await probe.collect();
        report.renderGpuStatus(context.output, result);
        if (!result.healthy) throw new ExitError(ExitCode.Failure);
        return;
      }
      const intervalSeconds = flags.watch === true ? DEFAULT_WATCH_SECONDS : flags.watch;
      const interrupt = interruptOnSignals();
      let healthy = true;
      try {
        while (!interrupt.signal.aborted) {
          const result = await probe.collect(interrupt.signal).catch((error: unknown) => {
            if (interrupt.signal.aborted) return undefined;
            throw error;
          });
          if (!result) break;
          healthy = result.healthy;
          report.renderGpuStatus(context.output, result, { watch: { intervalSeconds } });
          await sleep(intervalSeconds * 1000, undefined, { signal: interrupt.signal }).catch(() => {});
        }
      } finally {
        interrupt.dispose();
      }
      // Ctrl-C is how a watch ends: the exit code is the last report's.
      if (!healthy) throw new ExitError(ExitCode.Failure);
    } finally {
      await probe.close();
    }
  });
}
