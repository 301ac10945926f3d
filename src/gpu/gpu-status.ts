import type { Agent } from 'undici';
import type { Config } from '../config/schema.js';
import { createTeiDispatcher, type TeiEndpoint, teiEndpoints } from '../embed/tei-http.js';
import { Qdrant } from '../qdrant/client.js';
import { readGpus } from './nvidia-smi.js';
import { readQdrantStatus } from './qdrant-status.js';
import { readGpuIndexing, restUrlFromGrpcUrl } from './qdrant-telemetry.js';
import { estimateReindex } from './reindex-estimate.js';
import type { GpuStatusReport, QdrantSection, TeiEndpointStatus } from './report.js';
import { readTeiStatus } from './tei-status.js';

export interface GpuStatusOptions {
  /** Each source's deadline, in milliseconds. */
  timeoutMs: number;
  /** Qdrant's REST URL for telemetry; default: derived from the gRPC URL when its port is 6334. */
  qdrantRestUrl?: string | undefined;
  /** The TEI endpoints to check; default `tei.urls`, else `tei.url`. Unused unless `tei.kind` is `tei`. */
  teiUrls?: readonly string[] | undefined;
  /** The nvidia-smi executable; default `nvidia-smi` on PATH. */
  nvidiaSmi?: string | undefined;
  /** The environment nvidia-smi runs in; default this process's. */
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * Asks nvidia-smi, every TEI endpoint and Qdrant (gRPC and REST) at once, each source within its
 * own deadline, and puts the answers into one `GpuStatusReport`. Keeps its connections between
 * reports, so `--watch` does not reconnect every interval; `close()` when done.
 */
export class GpuStatusProbe {
  private readonly qdrant: Qdrant;
  private readonly dispatcher: Agent;
  private readonly endpoints: TeiEndpoint[];
  private readonly restUrl: string | undefined;

  constructor(
    private readonly config: Config,
    private readonly options: GpuStatusOptions,
  ) {
    // The client's own deadline comes a little after ours, so ours names the source in the report.
    this.qdrant = new Qdrant({ ...config.qdrant, timeoutMs: options.timeoutMs + 250 });
    this.dispatcher = createTeiDispatcher(4);
    // TEI's own routes only: an OpenAI-compatible server has none of them to ask.
    this.endpoints =
      config.tei.kind === 'tei'
        ? teiEndpoints(
            { ...config.tei, urls: options.teiUrls ?? config.tei.urls, timeoutMs: options.timeoutMs },
            this.dispatcher,
          )
        : [];
    this.restUrl = options.qdrantRestUrl ?? restUrlFromGrpcUrl(config.qdrant.url);
  }

  /** One report. Rejects only when `signal` aborts; every source failure is part of the report. */
  async collect(signal?: AbortSignal): Promise<GpuStatusReport> {
    const { timeoutMs } = this.options;
    const checkedAt = new Date().toISOString();
    const [gpu, tei, qdrant, gpuIndexing] = await Promise.all([
      readGpus({ command: this.options.nvidiaSmi, timeoutMs, env: this.options.env, signal }),
      Promise.all(this.endpoints.map((endpoint) => readTeiStatus(endpoint, timeoutMs, signal))),
      readQdrantStatus(this.qdrant, this.config.collection.name, timeoutMs, signal),
      readGpuIndexing({
        restUrl: this.restUrl,
        apiKey: this.config.qdrant.apiKey,
        timeoutMs,
        dispatcher: this.dispatcher,
        signal,
      }),
    ]);
    const qdrantSection: QdrantSection = { ...qdrant, restUrl: this.restUrl ?? null, gpuIndexing };
    const problems = findProblems(tei, qdrantSection);
    const { kind } = this.config.tei;
    return {
      checkedAt,
      healthy: problems.length === 0,
      problems,
      gpu,
      embedder: {
        kind,
        note:
          kind === 'tei'
            ? null
            : `TEI status is not available for tei.kind "${kind}": an OpenAI-compatible server has no /info or TEI metrics`,
      },
      tei,
      qdrant: qdrantSection,
      reindex: estimateReindex(qdrant.collection, gpu, this.config.collection.hnsw.m),
    };
  }

  async close(): Promise<void> {
    await this.dispatcher.destroy();
  }
}

/**
 * What makes the report unhealthy (exit code 1): a TEI endpoint or Qdrant down, the collection
 * missing, red or unreadable. The GPU and Qdrant's telemetry never do: they are extra information.
 */
export function findProblems(tei: readonly TeiEndpointStatus[], qdrant: QdrantSection): string[] {
  const problems: string[] = [];
  for (const endpoint of tei) {
    if (endpoint.status === 'down') problems.push(endpoint.error ?? `TEI at ${endpoint.url} is down`);
  }
  if (qdrant.status === 'down') {
    problems.push(qdrant.error ?? `Qdrant at ${qdrant.url} is down`);
    return problems;
  }
  const { collection } = qdrant;
  if (collection.exists === false) {
    problems.push(
      `collection ${collection.name} does not exist (create it with: taboot collection create ${collection.name})`,
    );
  } else if (collection.status === 'red') {
    problems.push(
      `collection ${collection.name} is red${collection.optimizerError ? `: ${collection.optimizerError}` : ''}`,
    );
  } else if (collection.exists === null) {
    problems.push(collection.error ?? `collection ${collection.name} could not be read`);
  }
  return problems;
}
