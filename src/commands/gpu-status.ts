import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { ExitCode, ExitError } from '../errors.js';
import { createContext } from './context.js';
import { addFlags, flag, flagOverrides, readFlags } from './flags.js';
import { collectionFlag, positiveInt, positiveNumber, qdrantUrlFlag, teiUrlFlag } from './options.js';
import { interruptOnSignals } from './signals.js';

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

/** Every `gpu-status` flag, in help order. A flag with `config` overrides that setting. */
export const gpuStatusFlags = {
  qdrantRestUrl: flag.parsed(
    '--qdrant-rest-url <url>',
    'Qdrant REST URL for telemetry (default: the gRPC URL with port 6333 when it uses 6334)',
    httpUrl('--qdrant-rest-url'),
  ),
  nvidiaSmi: flag.text('--nvidia-smi <path>', 'the nvidia-smi to run (default: nvidia-smi on PATH)'),
  timeout: flag.parsed(
    '--timeout <ms>',
    'deadline of each source, in milliseconds',
    positiveInt('--timeout'),
    {
      default: DEFAULT_TIMEOUT_MS,
    },
  ),
  /** `true` when given without a value. */
  watch: flag.parsed<number | true>(
    '-w, --watch [seconds]',
    `refresh every few seconds until Ctrl-C (default: ${DEFAULT_WATCH_SECONDS})`,
    positiveNumber('--watch'),
  ),
  qdrantUrl: qdrantUrlFlag,
  teiUrl: teiUrlFlag,
  collection: collectionFlag,
};

export function registerGpuStatusCommand(program: Command): void {
  const command = program
    .command('gpu-status')
    .description('one screen for the GPU, TEI and Qdrant: memory, processes, health, indexing, re-index fit');
  addFlags(command, gpuStatusFlags);
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
  command.action(async (_flags: unknown, cmd: Command) => {
    const flags = readFlags(cmd, gpuStatusFlags);
    const context = createContext(cmd);
    const { config } = await context.loadConfig(flagOverrides(flags, gpuStatusFlags));
    const [{ GpuStatusProbe }, { renderGpuStatus }] = await Promise.all([
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
        renderGpuStatus(context.output, result);
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
          renderGpuStatus(context.output, result, { watch: { intervalSeconds } });
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
