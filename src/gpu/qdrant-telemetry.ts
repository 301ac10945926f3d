import { type Dispatcher, request } from 'undici';
import { withDeadline } from './deadline.js';
import type { GpuIndexingStatus } from './report.js';

/**
 * Qdrant's REST URL from its gRPC URL: the default ports are 6334 (gRPC) and 6333 (REST), so
 * `http://host:6334` gives `http://host:6333`. Any other port says nothing about the REST port:
 * undefined (pass `--qdrant-rest-url`).
 */
export function restUrlFromGrpcUrl(grpcUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(grpcUrl);
  } catch {
    return undefined;
  }
  if (url.port !== '6334') return undefined;
  url.port = '6333';
  return url.toString().replace(/\/$/, '');
}

/**
 * Read whether Qdrant indexes on a GPU from its telemetry (`GET /telemetry?details_level=1`, Qdrant's
 * src/common/telemetry_ops/app_telemetry.rs): `result.app.features.gpu` is true in a GPU build, and
 * `result.app.system.gpu_devices` lists the devices Qdrant initialised, which it does only when GPU
 * indexing is switched on (`QDRANT__GPU__INDEXING=1`) and a device was found.
 */
export function gpuIndexingFromTelemetry(body: unknown): GpuIndexingStatus {
  const app = (body as { result?: { app?: Record<string, unknown> } } | null)?.result?.app;
  if (!app || typeof app !== 'object') {
    return unknown('telemetry did not include app details (is this Qdrant?)');
  }
  const features = app.features as { gpu?: unknown } | undefined;
  const system = app.system as { gpu_devices?: unknown } | undefined;
  const gpuBuild = typeof features?.gpu === 'boolean' ? features.gpu : null;
  const devices = Array.isArray(system?.gpu_devices)
    ? system.gpu_devices
        .map((device: unknown) => (device as { name?: unknown })?.name)
        .filter((name): name is string => typeof name === 'string')
    : undefined;
  if (devices && devices.length > 0) return { state: 'on', devices, gpuBuild, reason: null };
  if (gpuBuild === false) {
    return {
      state: 'off',
      devices: [],
      gpuBuild,
      reason: 'this Qdrant has no GPU support (use the qdrant/qdrant:v1.19.0-gpu-nvidia image)',
    };
  }
  if (gpuBuild === true && devices) {
    return {
      state: 'off',
      devices: [],
      gpuBuild,
      reason: 'GPU indexing is on but Qdrant found no GPU device (check its log and --gpus)',
    };
  }
  if (gpuBuild === true) {
    return {
      state: 'off',
      devices: [],
      gpuBuild,
      reason: 'GPU build, but GPU indexing is off (set QDRANT__GPU__INDEXING=1)',
    };
  }
  return unknown('telemetry does not say (Qdrant older than 1.13, or details hidden)');
}

function unknown(reason: string): GpuIndexingStatus {
  return { state: 'unknown', devices: [], gpuBuild: null, reason };
}

/** Fetch and read Qdrant's telemetry within `timeoutMs`; never throws (except when `parent` aborts). */
export async function readGpuIndexing(options: {
  restUrl: string | undefined;
  apiKey: string | undefined;
  timeoutMs: number;
  dispatcher: Dispatcher;
  signal?: AbortSignal;
}): Promise<GpuIndexingStatus> {
  const { restUrl } = options;
  if (!restUrl) return unknown('REST URL unknown: pass --qdrant-rest-url');
  try {
    const body = await withDeadline(
      `Qdrant REST at ${restUrl}`,
      options.timeoutMs,
      async (signal) => {
        const url = new URL('telemetry?details_level=1', restUrl.endsWith('/') ? restUrl : `${restUrl}/`);
        const headers: Record<string, string> = { accept: 'application/json' };
        if (options.apiKey) headers['api-key'] = options.apiKey;
        const response = await request(url, {
          method: 'GET',
          headers,
          signal,
          dispatcher: options.dispatcher,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        });
        const text = await response.body.text();
        if (response.statusCode >= 400) {
          throw new Error(`Qdrant REST at ${restUrl}: /telemetry answered ${response.statusCode}`);
        }
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new Error(`Qdrant REST at ${restUrl}: /telemetry did not answer JSON`);
        }
      },
      options.signal,
    );
    return gpuIndexingFromTelemetry(body);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    return unknown(
      code === 'ECONNREFUSED' ? `Qdrant REST at ${restUrl}: cannot connect (ECONNREFUSED)` : message,
    );
  }
}
