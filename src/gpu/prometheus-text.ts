/**
 * A small reader for the Prometheus text exposition format, enough for a status screen: samples
 * keyed by their full series name (`te_request_count{method="batch"}`, labels as written), comments
 * and `# TYPE` lines skipped. Returns undefined when the text has no sample at all, so an HTML error
 * page is not mistaken for metrics.
 */
export function parsePrometheusText(text: string): Map<string, number> | undefined {
  const samples = new Map<string, number>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    // name{labels} value [timestamp]; label values may hold spaces, so split after the closing brace.
    const brace = line.lastIndexOf('}');
    const head = brace >= 0 ? line.slice(0, brace + 1) : line.split(/\s+/, 1)[0]!;
    const rest = line.slice(head.length).trim().split(/\s+/);
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?$/.test(head)) continue;
    const value = parseSampleValue(rest[0] ?? '');
    if (value === undefined) continue;
    samples.set(head, value);
  }
  return samples.size > 0 ? samples : undefined;
}

function parseSampleValue(text: string): number | undefined {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (text === '') return undefined;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/** The sum of every series of `name` whatever its labels (`te_request_count{method=...}` summed). */
export function sumSeries(samples: ReadonlyMap<string, number>, name: string): number | undefined {
  let total: number | undefined;
  for (const [key, value] of samples) {
    if (key === name || key.startsWith(`${name}{`)) total = (total ?? 0) + value;
  }
  return total;
}

/** A histogram's `_count` and `_sum` since the process started; undefined until it has been observed. */
export function histogramTotals(
  samples: ReadonlyMap<string, number>,
  name: string,
): { count: number; sum: number } | undefined {
  const count = sumSeries(samples, `${name}_count`);
  if (count === undefined) return undefined;
  return { count, sum: sumSeries(samples, `${name}_sum`) ?? 0 };
}

/**
 * The cumulative count of a histogram's bucket whose upper bound is `le` (labels as the exporter
 * writes them, `le="1"` or `le="1.0"`); undefined when the histogram has no such bucket.
 */
export function histogramBucket(
  samples: ReadonlyMap<string, number>,
  name: string,
  le: number,
): number | undefined {
  const prefix = `${name}_bucket{`;
  for (const [key, value] of samples) {
    if (!key.startsWith(prefix)) continue;
    const bound = /\ble="([^"]*)"/.exec(key)?.[1];
    if (bound !== undefined && bound !== '+Inf' && Number(bound) === le) return value;
  }
  return undefined;
}
