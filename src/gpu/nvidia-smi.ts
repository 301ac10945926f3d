import { type ExecFileException, execFile } from 'node:child_process';
import { withDeadline } from './deadline.js';
import {
  APPS_QUERY_FIELDS,
  GPU_QUERY_FIELDS,
  NvidiaSmiFormatError,
  parseComputeApps,
  parseGpuQuery,
} from './nvidia-smi-parse.js';
import type { GpuSection } from './report.js';

interface NvidiaSmiOptions {
  /** The executable: a bare name is looked up on PATH. Default `nvidia-smi`. */
  command?: string;
  timeoutMs: number;
  /** The environment nvidia-smi runs in (its PATH decides what `command` finds). Default: this process's. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

const GPU_QUERY_ARGS = [
  `--query-gpu=${GPU_QUERY_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
] as const;
const APPS_QUERY_ARGS = [
  `--query-compute-apps=${APPS_QUERY_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
] as const;

/** nvidia-smi could not be run or did not succeed; the message says why, for a person. */
class NvidiaSmiError extends Error {}

/**
 * Ask nvidia-smi for the GPUs and the processes holding their memory, both at once, within
 * `timeoutMs`. Never throws: a missing nvidia-smi, a missing driver (nvidia-smi exits non-zero with
 * "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver"), a timeout or
 * unreadable output give `available: false` with the reason, so the rest of the report goes on.
 */
export async function readGpus(options: NvidiaSmiOptions): Promise<GpuSection> {
  const command = options.command ?? 'nvidia-smi';
  try {
    return await withDeadline(
      command,
      options.timeoutMs,
      async (signal) => {
        const [gpuText, appsResult] = await Promise.all([
          run(command, GPU_QUERY_ARGS, options.env, signal),
          run(command, APPS_QUERY_ARGS, options.env, signal).then(
            (text) => ({ text, error: null }),
            (error: unknown) => ({ text: '', error: describe(error) }),
          ),
        ]);
        const gpus = parseGpuQuery(gpuText);
        let processes: GpuSection['processes'] = [];
        let processesError = appsResult.error;
        if (processesError === null) {
          try {
            processes = parseComputeApps(appsResult.text, gpus);
          } catch (error) {
            processesError = describe(error);
          }
        }
        return {
          available: true,
          reason: null,
          driverVersion: gpus.find((gpu) => gpu.driverVersion !== null)?.driverVersion ?? null,
          gpus,
          processes,
          processesError,
        };
      },
      options.signal,
    );
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return {
      available: false,
      reason: describe(error),
      driverVersion: null,
      gpus: [],
      processes: [],
      processesError: null,
    };
  }
}

function describe(error: unknown): string {
  if (error instanceof NvidiaSmiFormatError)
    return `nvidia-smi printed output taboot cannot read: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv | undefined,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: env ?? process.env, signal, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) {
          resolve(stdout);
          return;
        }
        reject(runError(command, error, `${stdout}\n${stderr}`));
      },
    );
  });
}

function runError(command: string, error: ExecFileException, output: string): NvidiaSmiError {
  if (error.code === 'ENOENT') {
    return new NvidiaSmiError(
      command.includes('/')
        ? `${command} does not exist`
        : `${command} not found on PATH (no NVIDIA driver on this machine?)`,
    );
  }
  if (error.code === 'EACCES') return new NvidiaSmiError(`${command} is not executable`);
  if (error.name === 'AbortError') return new NvidiaSmiError(`${command} was stopped`);
  const firstLine = output
    .split(/\r?\n/)
    .map((line) => line.trim())
    .find((line) => line.length > 0);
  const exit = typeof error.code === 'number' ? `exited with code ${error.code}` : 'failed';
  return new NvidiaSmiError(`${command} ${exit}${firstLine ? `: ${firstLine}` : ''}`);
}
