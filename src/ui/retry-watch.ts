import { type ServiceName, serviceLabel } from '../errors.js';
import type { RetryEvent } from '../pipeline/retry.js';

/** What an HTTP status or error code means, for a person reading a notice. */
const codeMeaning: Record<string, string> = {
  '429': 'overloaded',
  '503': 'unavailable',
  '424': 'backend error',
  '502': 'bad gateway',
  '504': 'gateway timeout',
  CONNECTION: 'connection lost',
  TIMEOUT: 'timed out',
};

/** `429 overloaded`, `connection lost`, `UNAVAILABLE`. */
export function describeCode(code: string | undefined): string {
  if (code === undefined) return 'no code';
  const meaning = codeMeaning[code];
  if (!meaning) return code;
  return /^\d+$/.test(code) ? `${code} ${meaning}` : meaning;
}

/**
 * Notices retries clustering on one service: a single retry is routine, a burst means the server
 * is struggling (overloaded, restarting, rate limiting) and a person should hear of it while the
 * run goes on, not only in the summary's count.
 */
export class RetryWatch {
  private readonly recent = new Map<ServiceName, Array<{ at: number; code: string | undefined }>>();
  private readonly noticed = new Map<ServiceName, number>();

  constructor(
    private readonly windowMs = 10_000,
    /** Retries within the window that make a cluster. */
    private readonly threshold = 3,
  ) {}

  /**
   * Records one retry at `now` (ms). Returns a notice when `threshold` or more retries of the
   * service fall within the window, at most one notice per service and window:
   * `TEI is struggling: 12 retries in the last 10 s (429 overloaded)`.
   */
  record(service: ServiceName, code: string | undefined, now: number): string | undefined {
    const retries = (this.recent.get(service) ?? []).filter((retry) => retry.at > now - this.windowMs);
    retries.push({ at: now, code });
    this.recent.set(service, retries);
    if (retries.length < this.threshold) return undefined;
    const last = this.noticed.get(service);
    if (last !== undefined && now - last < this.windowMs) return undefined;
    this.noticed.set(service, now);
    return (
      `${serviceLabel[service]} is struggling: ${retries.length} retries in the last ` +
      `${Math.round(this.windowMs / 1000)} s (${describeCodes(retries.map((retry) => retry.code))})`
    );
  }
}

/** `429 overloaded` when all agree, else `9× 429 overloaded, 3× connection lost`, commonest first. */
function describeCodes(codes: ReadonlyArray<string | undefined>): string {
  const counts = new Map<string, number>();
  for (const code of codes) counts.set(describeCode(code), (counts.get(describeCode(code)) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  if (sorted.length === 1) return sorted[0]![0];
  return sorted.map(([what, count]) => `${count}× ${what}`).join(', ');
}

/** The `--progress ndjson` event for one retry: what happened, never a secret (the caller redacts). */
export function retryEvent(service: ServiceName, event: RetryEvent, elapsedMs: number) {
  return {
    event: 'retry',
    elapsed_s: Math.round(elapsedMs / 100) / 10,
    service,
    attempt: event.attempt,
    delay_ms: event.delayMs,
    code: event.error.code ?? null,
    message: event.error.message,
  };
}
