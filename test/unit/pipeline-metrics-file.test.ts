import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { metricsFileFor } from '../../src/pipeline/metrics-file.js';
import { IngestStats } from '../../src/pipeline/stats.js';
import { summarize } from '../../src/pipeline/summary.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'taboot-metrics-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function summary(collection = 'docs') {
  const stats = new IngestStats();
  stats.documents = 7;
  stats.documentsNew = 2;
  stats.documentsChanged = 1;
  stats.documentsUnchanged = 4;
  stats.chunksEmbedded = 9;
  stats.vectorsUpserted = 9;
  stats.chunksDeleted = 3;
  return summarize(stats, { collection, dryRun: false, interrupted: false, failedOut: undefined });
}

/** `name{labels} value` lines as a map from `name{labels}` to the value. */
function samples(text: string): Map<string, number> {
  const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  return new Map(
    lines.map((line) => [
      line.slice(0, line.lastIndexOf(' ')),
      Number(line.slice(line.lastIndexOf(' ') + 1)),
    ]),
  );
}

describe('--metrics-file', () => {
  it('writes the run in node_exporter textfile format, with HELP and TYPE for each metric', async () => {
    const path = join(dir, 'taboot.prom');
    await (await metricsFileFor(path)).write(summary('docs "main"'), 0);
    const text = readFileSync(path, 'utf8');
    const values = samples(text);
    expect(values.get('taboot_ingest_documents{collection="docs \\"main\\"",status="new"}')).toBe(2);
    expect(values.get('taboot_ingest_documents{collection="docs \\"main\\"",status="unchanged"}')).toBe(4);
    expect(values.get('taboot_ingest_chunks{collection="docs \\"main\\"",source="embedded"}')).toBe(9);
    expect(values.get('taboot_ingest_chunks_deleted{collection="docs \\"main\\""}')).toBe(3);
    expect(values.get('taboot_ingest_exit_code{collection="docs \\"main\\""}')).toBe(0);
    for (const name of new Set([...values.keys()].map((key) => key.slice(0, key.indexOf('{'))))) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} gauge`);
    }
    // Renamed into place: no temporary file is left behind.
    expect(readdirSync(dir)).toEqual(['taboot.prom']);
  });

  it('keeps the last success time of an earlier run when this one failed', async () => {
    const path = join(dir, 'taboot.prom');
    const file = await metricsFileFor(path);
    await file.write(summary(), 0);
    const success = samples(readFileSync(path, 'utf8')).get(
      'taboot_ingest_last_success_timestamp_seconds{collection="docs"}',
    );
    expect(success).toBeGreaterThan(1_700_000_000);
    await file.writeFailure('docs', 4);
    const after = samples(readFileSync(path, 'utf8'));
    expect(after.get('taboot_ingest_exit_code{collection="docs"}')).toBe(4);
    expect(after.get('taboot_ingest_last_success_timestamp_seconds{collection="docs"}')).toBe(success);
  });

  it('refuses a path whose folder cannot be written before the run starts', async () => {
    await expect(metricsFileFor(join(dir, 'missing', 'taboot.prom'))).rejects.toThrow(
      /--metrics-file .*missing.*cannot write there \(ENOENT\)/,
    );
  });
});
