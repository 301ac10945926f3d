import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const binPath = fileURLToPath(new URL('../../bin/taboot.js', import.meta.url));

/**
 * A limit that only catches a hang, stretched tenfold when the tests run against a real TEI
 * (`TABOOT_TEST_TEI_URL`): a real model on a CPU embeds about a thousand tokens a second, so
 * ingesting the bundled corpus takes minutes there.
 */
export function embedTimeout(ms: number): number {
  return process.env.TABOOT_TEST_TEI_URL ? ms * 10 : ms;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs the built binary (`npm run build` first) as a user would, with colour off and no
 * TABOOT_* variables leaking in from the developer's shell unless given in `env`.
 */
export function runCli(
  args: readonly string[],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    timeoutMs?: number;
    onSpawn?: (pid: number) => void;
    /** Run as this user (the caller must be root), e.g. to meet permissions root reads through. */
    user?: { uid: number; gid: number };
    /** Options for node itself, before the script (`--cpu-prof`, which NODE_OPTIONS refuses). */
    nodeArgs?: readonly string[];
  } = {},
): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(TABOOT_|QDRANT_API_KEY|TEI_API_KEY|FORCE_COLOR)/.test(key))
      env[key] = value;
  }
  Object.assign(env, { NO_COLOR: '1' }, options.env);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), binPath, ...args], {
      cwd: options.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: options.user?.uid,
      gid: options.user?.gid,
    });
    if (child.pid) options.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), embedTimeout(options.timeoutMs ?? 60_000));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}
