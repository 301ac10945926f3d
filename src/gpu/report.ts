import type { EmbedderKind } from '../config/schema.js';

/**
 * The shape `taboot gpu-status --json` prints: one `GpuStatusReport` (one per line with `--watch`).
 * Every key is always present; a value nobody could find out is `null`, never left out, so scripts
 * can rely on the shape. Memory is in bytes, power in watts, temperature in degrees Celsius.
 */
export interface GpuStatusReport {
  /** When the sources were asked (ISO 8601, UTC). */
  checkedAt: string;
  /**
   * True when every service taboot needs answered and is healthy: each TEI endpoint up, Qdrant up,
   * the collection present and not red. The exit code is 0 exactly when this is true. The GPU
   * section never makes it false: a machine without NVIDIA tools is still a valid set-up.
   */
  healthy: boolean;
  /** One sentence per reason `healthy` is false (empty when healthy). */
  problems: string[];
  gpu: GpuSection;
  /**
   * The configured embedder's kind (`tei.kind`); `note` says why `tei` is empty when it is not
   * TEI (an OpenAI-compatible server has no `/info` and no TEI metrics), else null.
   */
  embedder: { kind: EmbedderKind; note: string | null };
  /** One entry per TEI endpoint (`tei.urls`, else `tei.url`); none when the embedder is not TEI. */
  tei: TeiEndpointStatus[];
  qdrant: QdrantSection;
  reindex: ReindexEstimate;
}

/** What `nvidia-smi` says about this machine's GPUs. */
export interface GpuSection {
  /** False when nvidia-smi is missing, fails, times out or prints something unreadable. */
  available: boolean;
  /** Why `available` is false, in words (`nvidia-smi not found on PATH`); null when available. */
  reason: string | null;
  /** The driver version of the first GPU (all GPUs share one driver). */
  driverVersion: string | null;
  gpus: GpuDevice[];
  /** Processes holding GPU memory, across all GPUs. */
  processes: GpuProcess[];
  /** Why the process list could not be read while the GPU list could; null otherwise. */
  processesError: string | null;
}

export interface GpuDevice {
  /** nvidia-smi's index (`0`, `1`, ...). */
  index: number;
  /** `GPU-8f0c...`; joins processes to their GPU. */
  uuid: string | null;
  name: string;
  driverVersion: string | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  /** total - used, when both are known. */
  memoryFreeBytes: number | null;
  utilizationPercent: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
}

export interface GpuProcess {
  pid: number;
  /** As nvidia-smi prints it: a path, a bare name, or `[Not Found]` for another container's process. */
  name: string;
  gpuUuid: string | null;
  /** The index of the GPU whose uuid matches `gpuUuid`; null when none does. */
  gpuIndex: number | null;
  usedMemoryBytes: number | null;
  /** Recognised by name: `text-embeddings-router` is TEI, `qdrant` is Qdrant. */
  role: 'tei' | 'qdrant' | 'other';
}

export interface TeiEndpointStatus {
  url: string;
  /** `up` when `GET /health` answered 200. */
  status: 'up' | 'down';
  /** Why it is down, or why `/info` failed while `/health` passed; null otherwise. */
  error: string | null;
  /** From `GET /info`; null when `/info` failed. */
  info: {
    modelId: string;
    modelDtype: string | null;
    maxInputLength: number;
    maxBatchTokens: number;
    maxClientBatchSize: number;
    maxConcurrentRequests: number;
    version: string | null;
  } | null;
  metrics: TeiMetricsSummary;
}

/** From TEI's Prometheus `/metrics`: `te_queue_size`, `te_batch_next_size`, `te_batch_next_tokens`. */
export interface TeiMetricsSummary {
  /** False when `/metrics` failed or is not Prometheus text. */
  available: boolean;
  error: string | null;
  /** Inputs waiting for a batch now (gauge `te_queue_size`). */
  queueSize: number | null;
  /** Batches formed since TEI started (`te_batch_next_size_count`). */
  batches: number | null;
  /** Inputs per batch on average since TEI started (`te_batch_next_size` sum / count). */
  meanBatchSize: number | null;
  /** Tokens per batch on average since TEI started (`te_batch_next_tokens` sum / count). */
  meanBatchTokens: number | null;
}

export interface QdrantSection {
  /** The gRPC URL (`qdrant.url`). */
  url: string;
  /** `up` when the gRPC health check answered. */
  status: 'up' | 'down';
  error: string | null;
  /** From the health check (`1.19.0`). */
  version: string | null;
  commit: string | null;
  /** The REST URL telemetry was read from; null when it could not be derived (see `--qdrant-rest-url`). */
  restUrl: string | null;
  gpuIndexing: GpuIndexingStatus;
  collection: CollectionStatus;
}

/**
 * Whether Qdrant builds HNSW indexes on a GPU, read from REST `/telemetry?details_level=1`:
 * `app.features.gpu` says the binary was built with GPU support, `app.system.gpu_devices` lists the
 * devices it initialised (present only when `QDRANT__GPU__INDEXING=1` found a device).
 */
export interface GpuIndexingStatus {
  state: 'on' | 'off' | 'unknown';
  /** Device names Qdrant reports (empty unless `on`). */
  devices: string[];
  /** `app.features.gpu`: a `-gpu-nvidia`/`-gpu-amd` build; null when unknown. */
  gpuBuild: boolean | null;
  /** Why it is off or unknown, in words; null when on. */
  reason: string | null;
}

export interface CollectionStatus {
  name: string;
  /** Null when Qdrant could not be asked. */
  exists: boolean | null;
  error: string | null;
  status: 'green' | 'yellow' | 'grey' | 'red' | 'unknown' | null;
  optimizerOk: boolean | null;
  optimizerError: string | null;
  points: number | null;
  indexedVectors: number | null;
  /** 100 x indexedVectors / points, one decimal; null when the collection is empty or unknown. */
  indexedPercent: number | null;
  segments: number | null;
  vectorSize: number | null;
  /** Scalar int8 quantization or none (binary/product quantization read as none). */
  quantization: 'int8' | 'none' | null;
  hnswM: number | null;
  indexingThresholdKb: number | null;
  /**
   * How far indexing got, and why: `complete`; `in-progress` (yellow: optimizers running);
   * `below-threshold` (green with nothing indexed because the vectors are under
   * `indexing_threshold`, normal for a small collection); `partial` (green, but segments under the
   * threshold stay unindexed); `disabled` (HNSW m=0, bulk upload); `empty`; null when unknown.
   */
  indexing:
    | 'complete'
    | 'in-progress'
    | 'pending'
    | 'below-threshold'
    | 'partial'
    | 'disabled'
    | 'empty'
    | null;
}

/** Qdrant's limit on vector data one GPU indexing iteration takes (per segment). */
export const GPU_ITERATION_LIMIT_BYTES = 16 * 1024 ** 3;

/**
 * What re-indexing the collection on the GPU needs. Counts the vectors Qdrant uploads (int8 codes
 * when the collection has int8 quantization, else float32) plus the level-0 HNSW links (points x
 * 2m x 4 bytes); Qdrant's scratch buffers come on top, so treat `neededBytes` as a lower bound.
 * Qdrant limits original and quantized vectors alike to 16 GiB per iteration, so the float32 size
 * decides how many iterations it takes.
 */
export interface ReindexEstimate {
  /**
   * `fits`: fits one iteration and the free memory of the freest GPU; `iterations`: over the
   * per-iteration limit, each iteration fitting the free memory; `insufficient-memory`: more than the freest GPU has free; `empty`: no
   * points; `unknown`: the collection or the GPUs could not be read.
   */
  verdict: 'fits' | 'iterations' | 'insufficient-memory' | 'empty' | 'unknown';
  /** The one-line verdict as printed. */
  message: string;
  vectors: number | null;
  dimensions: number | null;
  float32Bytes: number | null;
  int8Bytes: number | null;
  /** Which of the two Qdrant uploads: int8 with scalar quantization, else float32. */
  uploads: 'int8' | 'float32' | null;
  graphBytes: number | null;
  /** GPU memory one iteration holds: its share of the uploaded vectors + the links. */
  neededBytes: number | null;
  iterationLimitBytes: number;
  /** ceil(float32 bytes / iteration limit). */
  iterations: number | null;
  /** The GPU with the most free memory. */
  gpuIndex: number | null;
  gpuFreeBytes: number | null;
  /** Memory TEI's processes hold on that GPU. */
  teiHeldBytes: number | null;
}
