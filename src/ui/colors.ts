import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Colour only where a person reads it: never when `--no-color` or `NO_COLOR` says so, always
 * when `FORCE_COLOR` asks, otherwise only on a TTY.
 */
export function colorLevel(
  stream: { isTTY?: boolean },
  flag: boolean,
  env: NodeJS.ProcessEnv = process.env,
): 0 | 1 | 2 | 3 {
  if (!flag) return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === '0' || force === 'false') return 0;
    if (force === '2' || force === '3') return Number(force) as 2 | 3;
    return 1;
  }
  if (env.NO_COLOR) return 0;
  if (!stream.isTTY || env.TERM === 'dumb') return 0;
  return /-256(color)?$/.test(env.TERM ?? '') || env.COLORTERM ? 2 : 1;
}

export function makeChalk(level: 0 | 1 | 2 | 3): ChalkInstance {
  return new Chalk({ level });
}
