import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { formatZodIssue } from '../config/issues.js';
import { ExitCode, errorMessage, TabootError, UsageError } from '../errors.js';
import { BENCH_RESULT_VERSION, type BenchResult } from './result.js';

/**
 * Regression gate: compare a run with a saved one (`--baseline bench.json`).
 *
 * Gated metrics, by direction:
 * - higher is better: `upsert.upload_vps`; per search level `qps` and `recall`; per embed level
 *   `docs_per_second`, `tokens_per_second`; `ingest.docs_per_second`, `chunks_per_second`, `vps`.
 *   They regress when they fall by more than `maxRegression` (a fraction of the baseline).
 * - lower is better: every `mean_ms`, `p50_ms`, `p95_ms`, `p99_ms`; `upsert.upload_seconds`,
 *   `index_seconds`, `total_seconds`; `ingest.index_seconds`, `total_seconds`. They regress when
 *   they rise by more than `maxRegression` and, for durations, by more than a small absolute
 *   amount (`minSecondsIncrease`, default 0.1 s), so a 40 ms index wait turning into 60 ms on a
 *   busy CI runner is not a regression.
 * - recall is also held to an absolute tolerance: it regresses when it falls by more than the
 *   smaller of `maxRegression × baseline` and `recallTolerance` (default 0.01, one point), since
 *   a relative 10% of recall would let 0.95 slide to 0.86 unnoticed.
 *
 * Like is compared with like: search levels are matched on `(concurrency, hnsw_ef)` and embed
 * levels on `concurrency`; a level or section present on one side only, a search level whose `k`
 * differs, an upsert whose `count`, `dim`, `batch_size` or `parallel` differ, and a metric whose
 * baseline is 0 are skipped (listed in `skipped`, not counted in `compared`).
 */

export interface MetricComparison {
  /** Dotted path, e.g. `upsert.upload_vps` or `search.levels[concurrency=4,hnsw_ef=128].p95_ms`. */
  metric: string;
  baseline: number;
  current: number;
  /** Signed fraction: `(current - baseline) / baseline`; -0.5 is half the baseline. */
  change: number;
  better: 'higher' | 'lower';
  regressed: boolean;
}

export interface BaselineComparison {
  regressions: MetricComparison[];
  /** Every metric compared, regressed or not (for a report table). */
  comparisons: MetricComparison[];
  /** `comparisons.length`. */
  compared: number;
  /** Metrics, levels or sections that could not be compared, and why. */
  skipped: Array<{ metric: string; reason: string }>;
}

export interface CompareOptions {
  /** Absolute fall of recall that always counts as a regression (default 0.01). */
  recallTolerance?: number;
  /** Rise of a duration in seconds below which it never counts as a regression (default 0.1). */
  minSecondsIncrease?: number;
  /** Rise of a latency in ms below which it never counts as a regression (default 0). */
  minMsIncrease?: number;
}

const LATENCIES = ['mean_ms', 'p50_ms', 'p95_ms', 'p99_ms'] as const;
/** Float noise must not turn "exactly 10% slower" into "more than 10% slower". */
const EPSILON = 1e-9;

export function compareWithBaseline(
  current: BenchResult,
  baseline: BenchResult,
  maxRegression = 0.1,
  options: CompareOptions = {},
): BaselineComparison {
  checkNonNegative('maxRegression', maxRegression);
  const recallTolerance = options.recallTolerance ?? 0.01;
  const minSeconds = options.minSecondsIncrease ?? 0.1;
  const minMs = options.minMsIncrease ?? 0;
  checkNonNegative('recallTolerance', recallTolerance);
  checkNonNegative('minSecondsIncrease', minSeconds);
  checkNonNegative('minMsIncrease', minMs);

  const comparisons: MetricComparison[] = [];
  const skipped: BaselineComparison['skipped'] = [];

  const compare = (metric: string, base: number, now: number, better: 'higher' | 'lower') => {
    if (!Number.isFinite(base) || !Number.isFinite(now)) {
      skipped.push({ metric, reason: 'not a finite number' });
      return;
    }
    if (base === 0) {
      if (now !== 0) skipped.push({ metric, reason: 'baseline is 0' });
      else comparisons.push({ metric, baseline: 0, current: 0, change: 0, better, regressed: false });
      return;
    }
    const change = (now - base) / Math.abs(base);
    let regressed: boolean;
    if (metric.endsWith('.recall')) {
      regressed = base - now > Math.min(maxRegression * base, recallTolerance) + EPSILON;
    } else if (better === 'higher') {
      regressed = change < -maxRegression - EPSILON;
    } else {
      const floor = metric.endsWith('_seconds') ? minSeconds : metric.endsWith('_ms') ? minMs : 0;
      regressed = change > maxRegression + EPSILON && now - base > floor;
    }
    comparisons.push({ metric, baseline: base, current: now, change, better, regressed });
  };

  const onlyOneSide = (name: string, inCurrent: boolean) =>
    skipped.push({ metric: name, reason: inCurrent ? 'not in the baseline' : 'not in this run' });

  // Upsert: one workload, compared only when it is the same workload.
  if (current.upsert && baseline.upsert) {
    const now = current.upsert;
    const base = baseline.upsert;
    const differing = (['count', 'dim', 'batch_size', 'parallel'] as const).filter(
      (key) => now[key] !== base[key],
    );
    if (differing.length > 0) {
      const detail = differing.map((key) => `${key} ${base[key]} -> ${now[key]}`).join(', ');
      skipped.push({ metric: 'upsert', reason: `different workload (${detail})` });
    } else {
      compare('upsert.upload_vps', base.upload_vps, now.upload_vps, 'higher');
      for (const key of LATENCIES) compare(`upsert.${key}`, base[key], now[key], 'lower');
      for (const key of ['upload_seconds', 'index_seconds', 'total_seconds'] as const) {
        compare(`upsert.${key}`, base[key], now[key], 'lower');
      }
    }
  } else if (current.upsert || baseline.upsert) {
    onlyOneSide('upsert', Boolean(current.upsert));
  }

  if (current.search && baseline.search) {
    const key = (level: { concurrency: number; hnsw_ef: number }) =>
      `concurrency=${level.concurrency},hnsw_ef=${level.hnsw_ef}`;
    const baseLevels = new Map(baseline.search.levels.map((level) => [key(level), level]));
    const seen = new Set<string>();
    for (const now of current.search.levels) {
      const name = `search.levels[${key(now)}]`;
      seen.add(key(now));
      const base = baseLevels.get(key(now));
      if (!base) {
        onlyOneSide(name, true);
      } else if (base.k !== now.k) {
        skipped.push({ metric: name, reason: `different k (${base.k} -> ${now.k})` });
      } else {
        compare(`${name}.qps`, base.qps, now.qps, 'higher');
        for (const metric of LATENCIES) compare(`${name}.${metric}`, base[metric], now[metric], 'lower');
        compare(`${name}.recall`, base.recall, now.recall, 'higher');
      }
    }
    for (const [levelKey] of baseLevels) {
      if (!seen.has(levelKey)) onlyOneSide(`search.levels[${levelKey}]`, false);
    }
  } else if (current.search || baseline.search) {
    onlyOneSide('search', Boolean(current.search));
  }

  if (current.embed && baseline.embed) {
    const baseLevels = new Map(baseline.embed.levels.map((level) => [level.concurrency, level]));
    const seen = new Set<number>();
    const sameBatch =
      current.embed.batch_size === undefined ||
      baseline.embed.batch_size === undefined ||
      current.embed.batch_size === baseline.embed.batch_size;
    if (!sameBatch) {
      const detail = `batch_size ${baseline.embed.batch_size} -> ${current.embed.batch_size}`;
      skipped.push({ metric: 'embed', reason: `different workload (${detail})` });
    } else {
      for (const now of current.embed.levels) {
        const name = `embed.levels[concurrency=${now.concurrency}]`;
        seen.add(now.concurrency);
        const base = baseLevels.get(now.concurrency);
        if (!base) {
          onlyOneSide(name, true);
          continue;
        }
        compare(`${name}.docs_per_second`, base.docs_per_second, now.docs_per_second, 'higher');
        compare(`${name}.tokens_per_second`, base.tokens_per_second, now.tokens_per_second, 'higher');
        for (const metric of LATENCIES) compare(`${name}.${metric}`, base[metric], now[metric], 'lower');
      }
      for (const [concurrency] of baseLevels) {
        if (!seen.has(concurrency)) onlyOneSide(`embed.levels[concurrency=${concurrency}]`, false);
      }
    }
  } else if (current.embed || baseline.embed) {
    onlyOneSide('embed', Boolean(current.embed));
  }

  if (current.ingest && baseline.ingest) {
    const now = current.ingest;
    const base = baseline.ingest;
    const differing = (['documents', 'chunks'] as const).filter(
      (key) => now[key] !== undefined && base[key] !== undefined && now[key] !== base[key],
    );
    if (differing.length > 0) {
      const detail = differing.map((key) => `${key} ${base[key]} -> ${now[key]}`).join(', ');
      skipped.push({ metric: 'ingest', reason: `different workload (${detail})` });
    } else {
      for (const key of ['docs_per_second', 'chunks_per_second', 'vps'] as const) {
        compare(`ingest.${key}`, base[key], now[key], 'higher');
      }
      for (const key of ['index_seconds', 'total_seconds'] as const) {
        compare(`ingest.${key}`, base[key], now[key], 'lower');
      }
    }
  } else if (current.ingest || baseline.ingest) {
    onlyOneSide('ingest', Boolean(current.ingest));
  }

  return {
    regressions: comparisons.filter((comparison) => comparison.regressed),
    comparisons,
    compared: comparisons.length,
    skipped,
  };
}

function checkNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new UsageError(`Expected \`${name}\` to be a number >= 0, got \`${value}\``);
  }
}

const finite = z.number().finite();
const count = z.number().int().nonnegative();
const stage = z.object({ seconds: finite, bottleneck_share: finite });
const latencies = { mean_ms: finite, p50_ms: finite, p95_ms: finite, p99_ms: finite };

/**
 * The file format, checked on read. Objects are not strict: unknown keys (fields added by a
 * newer taboot, the upsert summary `--json` lifts to the top level) are dropped.
 */
const benchResultSchema = z.object({
  version: z.literal(BENCH_RESULT_VERSION),
  taboot_version: z.string(),
  started_at: z.string(),
  machine: z.object({
    cpus: count,
    node: z.string(),
    cpu_model: z.string().optional(),
    platform: z.string().optional(),
    memory_bytes: count.optional(),
    gpu: z.string().optional(),
  }),
  settings: z.record(
    z.string(),
    z.union([z.string(), finite, z.boolean(), z.null(), z.array(z.union([z.string(), finite]))]),
  ),
  upsert: z
    .object({
      count,
      dim: count,
      batch_size: count,
      parallel: count,
      upload_seconds: finite,
      upload_vps: finite,
      ...latencies,
      index_seconds: finite,
      total_seconds: finite,
      client_cpu_share: finite,
      timeline: z.array(z.tuple([finite, finite])),
    })
    .optional(),
  search: z
    .object({
      collection: z.string(),
      queries: count,
      levels: z.array(
        z.object({ concurrency: count, hnsw_ef: count, qps: finite, ...latencies, recall: finite, k: count }),
      ),
    })
    .optional(),
  embed: z
    .object({
      model: z.string().optional(),
      batch_size: count.optional(),
      levels: z.array(
        z.object({ concurrency: count, docs_per_second: finite, tokens_per_second: finite, ...latencies }),
      ),
    })
    .optional(),
  ingest: z
    .object({
      documents: count.optional(),
      chunks: count.optional(),
      docs_per_second: finite,
      chunks_per_second: finite,
      vps: finite,
      stages: z.object({ read: stage, chunk: stage, embed: stage, upsert: stage }),
      tei_queue_seconds: finite.optional(),
      tei_inference_seconds: finite.optional(),
      tei_busy_share: finite.optional(),
      index_seconds: finite,
      total_seconds: finite,
    })
    .optional(),
});

/** Checks an already parsed JSON value against the format; `source` names it in the error. */
export function parseBenchResult(value: unknown, source: string): BenchResult {
  const parsed = benchResultSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    if (issue.path.length === 1 && issue.path[0] === 'version' && typeof value === 'object' && value) {
      const version = (value as { version?: unknown }).version;
      return `version: expected ${BENCH_RESULT_VERSION}, got ${JSON.stringify(version)} (written by another taboot version?)`;
    }
    return formatZodIssue(issue);
  });
  throw new TabootError(`${source} is not a taboot bench result:\n  ${problems.join('\n  ')}`, {
    exitCode: ExitCode.Usage,
    hint: 'Save a baseline with `taboot bench ... --json > bench.json`.',
  });
}

/** Reads and checks a baseline file; every failure is a TabootError naming the path (exit 2). */
export async function readBaseline(path: string): Promise<BenchResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(error)})`;
    throw new TabootError(`baseline ${path} ${reason}`, { exitCode: ExitCode.Usage, cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TabootError(`baseline ${path} is not valid JSON: ${errorMessage(error)}`, {
      exitCode: ExitCode.Usage,
      cause: error,
    });
  }
  return parseBenchResult(value, `baseline ${path}`);
}

/**
 * Writes a result as a baseline (pretty JSON, one trailing newline). The file is written beside
 * its destination and renamed over it, so a crash never leaves half a baseline behind.
 */
export async function writeBaseline(path: string, result: BenchResult): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temporary, `${JSON.stringify(result, null, 2)}\n`, 'utf8');
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    throw new TabootError(`cannot write baseline ${path} (${code ?? String(error)})`, { cause: error });
  }
}
