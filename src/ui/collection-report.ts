import type { CreateCollectionResult } from '../collections/create.js';
import { formatCount, formatPercent } from '../format.js';
import type { CollectionSpec, SpecDifference } from '../qdrant/collection-spec.js';
import type { CollectionSummary } from '../qdrant/collections.js';
import type { Output } from './output.js';

/** One line a person can check at a glance: `1024 dims, Cosine, HNSW m=32 ef_construct=256, int8 (0.99, always_ram)`. */
export function describeSpec(spec: Omit<CollectionSpec, 'payloadIndexes'>): string {
  const quantization =
    spec.quantization.type === 'int8'
      ? `int8 quantization (quantile ${spec.quantization.quantile}${spec.quantization.alwaysRam ? ', always_ram' : ''})`
      : 'no quantization';
  const cluster =
    spec.shards > 1 || spec.replicationFactor > 1
      ? `, ${spec.shards} shard(s) x ${spec.replicationFactor} replica(s)`
      : '';
  return `${spec.vectorSize} dims, ${spec.distance}, HNSW m=${spec.hnsw.m} ef_construct=${spec.hnsw.efConstruct}, ${quantization}${cluster}`;
}

export function formatDifference(difference: SpecDifference): string {
  const how = difference.updatable ? '--update can apply it' : 'needs --recreate --yes';
  return `${difference.path} ${difference.current} -> ${difference.desired} (${how})`;
}

export function renderCreateResult(output: Output, result: CreateCollectionResult): void {
  if (result.kind === 'plan') {
    output.data({ collection: result.name, dryRun: true, requests: result.plan });
    output.result(`Would send Collections/Create for ${result.name}:`);
    output.result(JSON.stringify(result.plan.create, null, 2));
    output.result(`and ${result.plan.payloadIndexes.length} Points/CreateFieldIndex request(s):`);
    for (const request of result.plan.payloadIndexes) output.result(JSON.stringify(request));
    return;
  }
  const { outcome, spec } = result;
  const sizeNote = result.vectorSizeFrom
    ? ` (vector size ${spec.vectorSize} from ${result.vectorSizeFrom})`
    : '';
  switch (outcome.action) {
    case 'created':
    case 'recreated':
      output.data({ collection: outcome.name, action: outcome.action, spec });
      output.result(`${outcome.action} collection ${outcome.name}: ${describeSpec(spec)}${sizeNote}`);
      if (outcome.payloadIndexes.length > 0)
        output.result(`payload indexes: ${outcome.payloadIndexes.join(', ')}`);
      return;
    case 'up-to-date':
      output.data({ collection: outcome.name, action: outcome.action, spec });
      output.result(`collection ${outcome.name} is up to date: ${describeSpec(spec)}`);
      return;
    case 'updated':
      output.data({
        collection: outcome.name,
        action: outcome.action,
        applied: outcome.applied,
        remaining: outcome.remaining,
      });
      output.result(`updated collection ${outcome.name}:`);
      for (const difference of outcome.applied)
        output.result(`  ${difference.path} ${difference.current} -> ${difference.desired}`);
      if (outcome.remaining.length > 0) {
        output.error(`collection ${outcome.name} still differs in settings Qdrant cannot change in place:`);
        for (const difference of outcome.remaining) output.detail(formatDifference(difference));
      }
      return;
    case 'differs':
      output.data({ collection: outcome.name, action: outcome.action, differences: outcome.differences });
      output.error(`collection ${outcome.name} exists with different settings:`);
      for (const difference of outcome.differences) output.detail(formatDifference(difference));
      return;
  }
}

export function renderCollectionInfo(output: Output, summary: CollectionSummary): void {
  output.data(summary);
  const c = output.c;
  const statusColor = { green: c.green, yellow: c.yellow, red: c.red, grey: c.gray, unknown: c.gray }[
    summary.status
  ];
  const indexedShare =
    summary.points > 0 ? ` (${formatPercent(summary.indexedVectors / summary.points)})` : '';
  const rows: Array<[string, string]> = [
    ['collection', summary.name],
    ['status', statusColor(summary.status)],
    ['optimizer', summary.optimizerOk ? 'ok' : c.red(`error: ${summary.optimizerError ?? 'unknown'}`)],
    ['points', formatCount(summary.points)],
    ['indexed vectors', `${formatCount(summary.indexedVectors)}${indexedShare}`],
    ['segments', String(summary.segments)],
    ['vectors', describeSpec(summary.config)],
    [
      'optimizers',
      `default_segment_number=${summary.config.optimizers.defaultSegmentNumber} max_segment_size=${summary.config.optimizers.maxSegmentSizeKb} KB indexing_threshold=${summary.config.optimizers.indexingThresholdKb} KB`,
    ],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) output.result(`${c.bold(label.padEnd(width))}  ${value}`);
  const indexes = Object.entries(summary.payloadIndexes);
  output.result(c.bold('payload indexes'));
  if (indexes.length === 0) output.result('  (none)');
  for (const [field, index] of indexes) {
    output.result(
      `  ${field.padEnd(16)} ${index.type}${index.isTenant ? ' (tenant)' : ''}  ${index.points} points`,
    );
  }
}

export function renderDeleted(output: Output, name: string): void {
  output.data({ collection: name, action: 'deleted' });
  output.result(`deleted collection ${name}`);
}
