/**
 * Starts the Qdrant gRPC and TEI HTTP test servers in the foreground, for trying the CLI by hand:
 *
 *   npm run test-stack -- --qdrant-port 6334 --tei-port 8080
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
Ports default to 0 (any free port). --apply-delay-ms makes wait=false writes visible only that
many ms later (or at the next wait=true write), as on a loaded Qdrant; --qdrant-rest-port serves
Qdrant's REST /telemetry (gRPC call counts) there.`;

function portOf(value: string | undefined, flag: string): number {
  const port = Number(value ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`Expected \`${flag}\` to be a port number, got \`${value}\`\n${usage}`);
    process.exit(2);
  }
  return port;
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
  });
  const rest = qdrant.restUrl ? `, ${qdrant.restUrl} (REST)` : '';
  console.log(`test stack ready: qdrant ${qdrant.url} (gRPC)${rest}, tei ${tei.url}`);
  console.log(`  export TABOOT_QDRANT_URL=${qdrant.url} TABOOT_TEI_URL=${tei.url}`);

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
