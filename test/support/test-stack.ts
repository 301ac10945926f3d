/**
 * Starts the Qdrant gRPC and TEI HTTP test servers in the foreground, for trying the CLI by hand:
 *
 *   npm run test-stack -- --qdrant-port 6334 --tei-port 8080
 *   npm run test-stack -- --tei-service-rate 20000 --tei-padded    # TEI batching like a GPU
 *   npm run test-stack -- --tei-flavor openai                      # an OpenAI-compatible server
 *
 * Prints one line containing `ready` once both listen; stops cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startQdrantServer } from './qdrant-server/index.js';
import { startTeiServer } from './tei-server/index.js';

const usage = `usage: npm run test-stack -- [--qdrant-port <p>] [--tei-port <p>] [--host <h>]
       [--dimensions <n>] [--qdrant-api-key <k>] [--tei-api-key <k>] [--indexing-delay-ms <ms>]
       [--apply-delay-ms <ms>] [--qdrant-rest-port <p>]
       [--reranker overlap|reverse]
       [--tei-service-rate <tokens/s>] [--tei-padded] [--tei-max-batch-requests <n>]
       [--tei-flavor tei|openai]
Ports default to 0 (any free port). wait=false writes become visible only --apply-delay-ms later
(default 1000; or at the next wait=true write), as on a loaded Qdrant; --qdrant-rest-port serves
Qdrant's REST /telemetry (gRPC call counts) there. --tei-service-rate makes TEI run one batch at a
time for tokens / rate seconds (rows x longest row with --tei-padded); /metrics then reports
te_backend_busy_seconds. --tei-flavor openai serves /v1/embeddings and /v1/models only.`;

function portOf(value: string | undefined, flag: string): number {
  const port = Number(value ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`Expected \`${flag}\` to be a port number, got \`${value}\`\n${usage}`);
    process.exit(2);
  }
  return port;
}

/** The TEI batching and flavor flags: `--tei-service-rate`, `--tei-padded`, `--tei-max-batch-requests`, `--tei-flavor`. */
function teiModeOptions(values: Record<string, string | boolean | undefined>) {
  const rate = values['tei-service-rate'] as string | undefined;
  const serviceRate = rate === undefined ? undefined : Number(rate);
  if (serviceRate !== undefined && !(serviceRate > 0 && Number.isFinite(serviceRate))) {
    console.error(
      `Expected \`--tei-service-rate\` to be a positive number of tokens per second, got \`${rate}\`\n${usage}`,
    );
    process.exit(2);
  }
  const requests = values['tei-max-batch-requests'] as string | undefined;
  const maxBatchRequests = requests === undefined ? undefined : Number(requests);
  if (maxBatchRequests !== undefined && !(Number.isInteger(maxBatchRequests) && maxBatchRequests > 0)) {
    console.error(
      `Expected \`--tei-max-batch-requests\` to be a positive integer, got \`${requests}\`\n${usage}`,
    );
    process.exit(2);
  }
  const flavor = (values['tei-flavor'] as string | undefined) ?? 'tei';
  if (flavor !== 'tei' && flavor !== 'openai') {
    console.error(`Expected \`--tei-flavor\` to be \`tei\` or \`openai\`, got \`${flavor}\`\n${usage}`);
    process.exit(2);
  }
  return { serviceRate, padded: values['tei-padded'] === true, maxBatchRequests, flavor } as const;
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        'qdrant-port': { type: 'string' },
        'tei-port': { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        dimensions: { type: 'string' },
        'qdrant-api-key': { type: 'string' },
        'tei-api-key': { type: 'string' },
        'indexing-delay-ms': { type: 'string' },
        'apply-delay-ms': { type: 'string' },
        'qdrant-rest-port': { type: 'string' },
        reranker: { type: 'string' },
        'tei-service-rate': { type: 'string' },
        'tei-padded': { type: 'boolean' },
        'tei-max-batch-requests': { type: 'string' },
        'tei-flavor': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const host = values.host as string;
  const teiMode = teiModeOptions(values);
  const qdrant = await startQdrantServer({
    host,
    port: portOf(values['qdrant-port'] as string | undefined, '--qdrant-port'),
    apiKey: values['qdrant-api-key'] as string | undefined,
    indexingDelayMs: values['indexing-delay-ms'] ? Number(values['indexing-delay-ms']) : undefined,
    ...(values['apply-delay-ms']
      ? { visibility: 'deferred', applyDelayMs: Number(values['apply-delay-ms']) }
      : {}),
    restPort: values['qdrant-rest-port']
      ? portOf(values['qdrant-rest-port'] as string, '--qdrant-rest-port')
      : undefined,
  });
  const tei = await startTeiServer({
    host,
    port: portOf(values['tei-port'] as string | undefined, '--tei-port'),
    dimensions: values.dimensions ? Number(values.dimensions) : undefined,
    apiKey: values['tei-api-key'] as string | undefined,
    reranker: values.reranker === 'reverse' ? 'reverse' : 'overlap',
    ...teiMode,
  });
  const teiNote = [
    teiMode.flavor === 'openai' ? 'OpenAI-compatible' : '',
    teiMode.serviceRate ? `${teiMode.serviceRate} tokens/s${teiMode.padded ? ' padded' : ''}` : '',
  ].filter(Boolean);
  const rest = qdrant.restUrl ? `, ${qdrant.restUrl} (REST)` : '';
  console.log(
    `test stack ready: qdrant ${qdrant.url} (gRPC)${rest}, tei ${tei.url}${teiNote.length ? ` (${teiNote.join(', ')})` : ''}`,
  );
  // An OpenAI-compatible server is addressed by its OpenAI base URL, and needs tei.kind and tei.model.
  const teiUrl = teiMode.flavor === 'openai' ? `${tei.url}/v1` : tei.url;
  console.log(`  export TABOOT_QDRANT_URL=${qdrant.url} TABOOT_TEI_URL=${teiUrl}`);
  if (teiMode.flavor === 'openai') {
    console.log('  with config: { "tei": { "kind": "openai", "model": "Qwen/Qwen3-Embedding-0.6B" } }');
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the test stack`);
    await Promise.all([qdrant.close(), tei.close()]);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

await main();
