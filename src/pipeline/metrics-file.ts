import { constants } from 'node:fs';
import { access, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { IngestStats } from './stats.js';
import { type IngestSummary, summarize } from './summary.js';

/**
 * The metrics file of a run, checked before the run starts (its folder must be writable, so that
 * a typo does not cost a whole run), written when it ends.
 */
export async function metricsFileFor(path: string) {
  const target = resolve(path);
  try {
    await access(dirname(target), constants.W_OK);
  } catch (error) {
    throw new UsageError(
      `--metrics-file ${path}: cannot write there (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  return {
    write: (summary: IngestSummary, exitCode: number) => writeMetricsFile(target, summary, exitCode),
    /** A run that stopped before it started: its counts are all zero, its exit code says why. */
    writeFailure: (collection: string, exitCode: number) =>
      writeMetricsFile(
        target,
        summarize(new IngestStats(), { collection, dryRun: false, interrupted: false, failedOut: undefined }),
        exitCode,
      ),
  };
}

const lastSuccessMetric = 'taboot_ingest_last_success_timestamp_seconds';

/**
 * `--metrics-file`: the run's figures in node_exporter's textfile format, for a cron job whose
 * results Prometheus should see (point node_exporter's `--collector.textfile.directory` at the
 * file's folder). Written to `<path>.tmp` and renamed, so the collector never reads half a file.
 * The last success time survives a failed run: it is read back from the file being replaced.
 */
export async function writeMetricsFile(
  path: string,
  summary: IngestSummary,
  exitCode: number,
): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const lastSuccess = exitCode === 0 ? now : await previousLastSuccess(path);
  const labels = `collection="${escapeLabel(summary.collection)}"`;
  const lines: string[] = [];
  const metric = (name: string, help: string, samples: Array<[extra: string, value: number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [extra, value] of samples) lines.push(`${name}{${labels}${extra}} ${value}`);
  };
  metric('taboot_ingest_documents', 'Documents the last run read, by what became of them.', [
    [',status="new"', summary.new],
    [',status="changed"', summary.changed],
    [',status="unchanged"', summary.unchanged],
    [',status="empty"', summary.empty],
    [',status="duplicate"', summary.duplicates],
  ]);
  metric('taboot_ingest_chunks', 'Chunks the last run wrote, by where their vector came from.', [
    [',source="embedded"', summary.embedded],
    [',source="precomputed"', summary.precomputed],
  ]);
  metric('taboot_ingest_vectors_upserted', 'Points Qdrant acknowledged in the last run.', [
    ['', summary.vectors],
  ]);
  metric('taboot_ingest_chunks_deleted', 'Stale chunks the last run deleted.', [
    ['', summary.chunks_deleted],
  ]);
  metric('taboot_ingest_documents_pruned', 'Documents --prune deleted in the last run.', [
    ['', summary.pruned],
  ]);
  metric('taboot_ingest_skipped_inputs', 'Input files or lines the last run skipped.', [
    ['', summary.skipped],
  ]);
  metric('taboot_ingest_failed_chunks', 'Chunks the last run could not embed or upsert.', [
    ['', summary.failed],
  ]);
  metric('taboot_ingest_tokens_embedded', 'Estimated tokens the last run sent to the embedder.', [
    ['', summary.tokens_estimated],
  ]);
  metric('taboot_ingest_duration_seconds', 'Wall time of the last run.', [['', summary.wall_seconds]]);
  metric('taboot_ingest_exit_code', 'Exit code of the last run (0 success, 3 partial).', [['', exitCode]]);
  metric('taboot_ingest_last_run_timestamp_seconds', 'When the last run ended, Unix seconds.', [['', now]]);
  if (lastSuccess !== undefined) {
    metric(lastSuccessMetric, 'When a run last ended with exit 0, Unix seconds.', [['', lastSuccess]]);
  }
  const partial = `${path}.tmp`;
  try {
    await writeFile(partial, `${lines.join('\n')}\n`);
    await rename(partial, path);
  } catch (error) {
    throw new UsageError(
      `--metrics-file ${path}: cannot write (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
}

async function previousLastSuccess(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const match = new RegExp(`^${lastSuccessMetric}\\{[^}]*\\} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
