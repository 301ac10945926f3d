/**
 * Secrets (API keys) must never reach a terminal, a log or a `--debug` dump. Config paths that
 * hold secrets are masked wherever config is shown, and every secret value seen by the loader is
 * registered so that the output layer can scrub it from any text, error messages included.
 */

const MASK = '***';
const secretKeys = new Set(['apiKey']);
const knownSecrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  // Very short values would mask ordinary words; real API keys are long.
  if (value && value.length >= 4) knownSecrets.add(value);
}

/** `https://user:password@host` in a message: credentials in a URL are secrets too. */
const urlCredentials = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]*@/gi;

/** Replace every registered secret, and any password in a URL, in `text` with `***`. */
export function redactText(text: string): string {
  let result = text.replace(urlCredentials, `$1${MASK}@`);
  for (const secret of knownSecrets) {
    if (result.includes(secret)) result = result.split(secret).join(MASK);
  }
  return result;
}

/** A deep copy of `value` with every secret-named key masked. */
export function redactConfig<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => redactConfig(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = secretKeys.has(key) && inner !== undefined ? MASK : redactConfig(inner);
  }
  return copy as T;
}
