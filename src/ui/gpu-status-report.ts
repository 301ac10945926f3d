import type { ChalkInstance } from 'chalk';
import { redactText } from '../config/redact.js';
import { formatBytes, formatCount, formatPercent } from '../format.js';
import type {
  CollectionStatus,
  GpuSection,
  GpuStatusReport,
  QdrantSection,
  TeiEndpointStatus,
} from '../gpu/report.js';
import type { Output } from './output.js';

/** Home the cursor and clear the screen: a `--watch` frame replaces the previous one on a TTY. */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

interface RenderGpuStatusOptions {
  /** Watching: on a TTY each report replaces the last; with `--json` each is one line (JSON Lines). */
  watch?: { intervalSeconds: number } | undefined;
}

/**
 * The status screen: GPU, TEI, Qdrant and the re-index verdict. With `--json`, the report as one
 * document (one compact line per report when watching). Problems go to stderr once, unless
 * watching, where they are part of each frame.
 */
export function renderGpuStatus(
  output: Output,
  report: GpuStatusReport,
  options: RenderGpuStatusOptions = {},
): void {
  if (output.json) {
    if (options.watch) output.stdout.write(`${redactText(JSON.stringify(report))}\n`);
    else output.data(report);
    if (!options.watch) for (const problem of report.problems) output.error(problem);
    return;
  }
  const lines = gpuStatusLines(report, output.c);
  if (options.watch) {
    if (output.stdout.isTTY) output.stdout.write(CLEAR_SCREEN);
    const c = output.c;
    lines.unshift(c.dim(`${report.checkedAt}  every ${options.watch.intervalSeconds} s, Ctrl-C to stop`), '');
    if (report.problems.length > 0) {
      lines.push('', c.red.bold('problems'));
      for (const problem of report.problems) lines.push(`  ${c.red(problem)}`);
    }
  }
  for (const line of lines) output.result(line);
  if (!options.watch) for (const problem of report.problems) output.error(problem);
}

/** The screen as lines, colours from `c` (a no-colour chalk gives plain text). */
export function gpuStatusLines(report: GpuStatusReport, c: ChalkInstance): string[] {
  return [
    ...gpuLines(report.gpu, c),
    '',
    ...report.tei.flatMap((endpoint) => teiLines(endpoint, c)),
    ...(report.embedder.note ? [`${c.bold('TEI')}  ${c.dim(report.embedder.note)}`] : []),
    '',
    ...qdrantLines(report.qdrant, c),
    '',
    verdictColour(report.reindex.verdict, c)(report.reindex.message),
  ];
}

function gpuLines(gpu: GpuSection, c: ChalkInstance): string[] {
  if (!gpu.available)
    return [`${c.bold('GPU')}  ${c.yellow('unavailable')}: ${gpu.reason ?? 'unknown reason'}`];
  const lines = [`${c.bold('GPU')}  driver ${gpu.driverVersion ?? 'unknown'}, ${gpu.gpus.length} GPU(s)`];
  for (const device of gpu.gpus) {
    lines.push(`  ${c.bold(String(device.index))}  ${device.name}`);
    const memory =
      device.memoryUsedBytes !== null && device.memoryTotalBytes !== null
        ? `memory ${formatBytes(device.memoryUsedBytes)} / ${formatBytes(device.memoryTotalBytes)} (${percent(device.memoryUsedBytes, device.memoryTotalBytes)}), ${formatBytes(device.memoryFreeBytes ?? 0)} free`
        : 'memory n/a';
    const power =
      device.powerDrawW !== null
        ? `${device.powerDrawW.toFixed(0)} W${device.powerLimitW !== null ? ` / ${device.powerLimitW.toFixed(0)} W` : ''}`
        : 'power n/a';
    lines.push(
      `     ${memory}   util ${orNa(device.utilizationPercent, '%')}   ${orNa(device.temperatureC, ' °C')}   ${power}`,
    );
    const processes = gpu.processes.filter((process) => process.gpuIndex === device.index);
    for (const process of processes) lines.push(`     ${processLine(process)}`);
    if (processes.length === 0 && gpu.processesError === null)
      lines.push(c.dim('     no process holds GPU memory'));
  }
  const unmatched = gpu.processes.filter((process) => process.gpuIndex === null);
  for (const process of unmatched) lines.push(`  ?  ${processLine(process)}`);
  if (gpu.processesError) lines.push(`  ${c.yellow('processes unavailable')}: ${gpu.processesError}`);
  return lines;
}

function processLine(process: GpuStatusReport['gpu']['processes'][number]): string {
  const role = process.role === 'tei' ? ' (TEI)' : process.role === 'qdrant' ? ' (Qdrant)' : '';
  const memory = process.usedMemoryBytes === null ? 'memory n/a' : formatBytes(process.usedMemoryBytes);
  return `pid ${process.pid}  ${process.name}${role}  ${memory}`;
}

function teiLines(endpoint: TeiEndpointStatus, c: ChalkInstance): string[] {
  const head = `${c.bold('TEI')}  ${endpoint.url}  ${endpoint.status === 'up' ? c.green('up') : c.red('DOWN')}`;
  if (endpoint.status === 'down') return [head, `     ${c.red(endpoint.error ?? 'no answer')}`];
  const lines = [head];
  const { info, metrics } = endpoint;
  if (info) {
    lines.push(
      `     model ${info.modelId}${info.modelDtype ? ` (${info.modelDtype})` : ''}${info.version ? `, TEI ${info.version}` : ''}`,
      `     max batch tokens ${formatCount(info.maxBatchTokens)}, max client batch ${info.maxClientBatchSize}, max concurrent requests ${info.maxConcurrentRequests}`,
    );
  } else {
    lines.push(`     ${c.yellow('/info unavailable')}: ${endpoint.error ?? 'unknown reason'}`);
  }
  if (!metrics.available) {
    lines.push(`     ${c.yellow('/metrics unavailable')}: ${metrics.error ?? 'unknown reason'}`);
  } else {
    const batches =
      metrics.batches === null || metrics.batches === 0
        ? 'no batches yet'
        : `${formatCount(metrics.batches)} batches, mean ${metrics.meanBatchSize?.toFixed(1) ?? 'n/a'} inputs / ${metrics.meanBatchTokens === null ? 'n/a' : formatCount(metrics.meanBatchTokens)} tokens`;
    lines.push(`     queue ${metrics.queueSize ?? 'n/a'}, ${batches}`);
  }
  return lines;
}

function qdrantLines(qdrant: QdrantSection, c: ChalkInstance): string[] {
  const state = qdrant.status === 'up' ? c.green('up') : c.red('DOWN');
  const lines = [
    `${c.bold('Qdrant')}  ${qdrant.url}  ${state}${qdrant.version ? `  ${qdrant.version}` : ''}`,
  ];
  if (qdrant.status === 'down') lines.push(`     ${c.red(qdrant.error ?? 'no answer')}`);
  const indexing = qdrant.gpuIndexing;
  const indexingText =
    indexing.state === 'on'
      ? c.green(`on (${indexing.devices.join(', ')})`)
      : `${indexing.state === 'off' ? c.yellow('off') : c.dim('unknown')}: ${indexing.reason ?? ''}`;
  lines.push(`     GPU indexing ${indexingText}`);
  lines.push(...collectionLines(qdrant.collection, c));
  return lines;
}

function collectionLines(collection: CollectionStatus, c: ChalkInstance): string[] {
  const head = `     collection ${c.bold(collection.name)}`;
  if (collection.exists === false) {
    return [`${head}  ${c.red('missing')} (create it with: taboot collection create ${collection.name})`];
  }
  if (collection.exists !== true) return [`${head}  ${c.red('unknown')}: ${collection.error ?? 'not read'}`];
  const statusColour =
    collection.status === 'green' ? c.green : collection.status === 'red' ? c.red : c.yellow;
  const optimizer = collection.optimizerOk
    ? 'optimizer ok'
    : c.red(`optimizer error: ${collection.optimizerError ?? 'unknown'}`);
  const points = collection.points ?? 0;
  const indexed = collection.indexedVectors ?? 0;
  const share =
    collection.indexedPercent === null ? '' : ` (${formatPercent(collection.indexedPercent / 100)})`;
  return [
    `${head}  ${statusColour(collection.status ?? 'unknown')}, ${optimizer}`,
    `       points ${formatCount(points)}, indexed ${formatCount(indexed)}${share}${indexingNote(collection, c)}, segments ${collection.segments ?? 'n/a'}`,
  ];
}

function indexingNote(collection: CollectionStatus, c: ChalkInstance): string {
  switch (collection.indexing) {
    case 'below-threshold':
      return c.dim(
        ` below indexing threshold (${formatCount(collection.indexingThresholdKb ?? 0)} KB): searched exactly, nothing to index yet`,
      );
    case 'partial':
      return c.dim(' (segments below the indexing threshold stay unindexed)');
    case 'in-progress':
      return c.yellow(' indexing in progress');
    case 'pending':
      return c.yellow(' optimizations pending (the next update starts them)');
    case 'disabled':
      return c.dim(' HNSW off (m=0 or indexing_threshold=0)');
    default:
      return '';
  }
}

function verdictColour(verdict: GpuStatusReport['reindex']['verdict'], c: ChalkInstance): ChalkInstance {
  if (verdict === 'fits') return c.green;
  if (verdict === 'insufficient-memory' || verdict === 'iterations') return c.yellow;
  return c.dim;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((100 * part) / whole)}%` : 'n/a';
}

function orNa(value: number | null, unit: string): string {
  return value === null ? 'n/a' : `${value}${unit}`;
}
