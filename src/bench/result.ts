/**
 * The result of one `taboot bench` run, as written by `--json` and read back by `--baseline`.
 *
 * Keys are snake_case and stable: a field is only ever added (optional), never renamed or
 * re-typed without bumping `version`. Units sit in the names: `_ms` milliseconds, `_seconds`
 * seconds, `vps` vectors per second, `qps` queries per second, `_share` a fraction in 0..1.
 * Latencies are client-side wall times of whole requests (queueing in the client included);
 * percentiles are exact over every sample (see `stats.ts`).
 *
 * A section is present when its scenario ran: `bench upsert` fills `upsert`, `bench all` fills
 * every section.
 */
export const BENCH_RESULT_VERSION = 1;

export type BenchSection = 'upsert' | 'search' | 'embed' | 'ingest';

export interface BenchResult {
  /** Format version of this object; readers reject versions they do not know. */
  version: typeof BENCH_RESULT_VERSION;
  taboot_version: string;
  /** ISO 8601 timestamp of the start of the run. */
  started_at: string;
  machine: BenchMachine;
  /** The knobs the run used, flat, for the report's settings table (e.g. `qdrant_url`, `seed`). */
  settings: BenchSettings;
  upsert?: UpsertResult;
  search?: SearchResult;
  embed?: EmbedResult;
  ingest?: IngestResult;
}

/** The client machine (where taboot ran), not the servers. */
export interface BenchMachine {
  /** Logical CPUs (`os.availableParallelism()`). */
  cpus: number;
  /** Node.js version, e.g. `v20.20.2`. */
  node: string;
  cpu_model?: string;
  platform?: string;
  /** Total memory in bytes. */
  memory_bytes?: number;
  /** GPU name on the server side where the run could tell (nvidia-smi, TEI `/info`). */
  gpu?: string;
}

export type BenchSettingValue = string | number | boolean | null | readonly (string | number)[];

export type BenchSettings = Record<string, BenchSettingValue>;

/** Bulk upload of generated vectors into a fresh collection, then waiting for its index. */
export interface UpsertResult {
  /** Vectors uploaded. */
  count: number;
  dim: number;
  batch_size: number;
  /** Upsert requests in flight. */
  parallel: number;
  /** From the first request sent to the last one acknowledged. */
  upload_seconds: number;
  /** `count / upload_seconds`. */
  upload_vps: number;
  /** Per-request latency (one request carries `batch_size` vectors). */
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  /** After the upload, until the collection reported green with every vector indexed. */
  index_seconds: number;
  /** `upload_seconds + index_seconds`: time until the data is searchable at full speed. */
  total_seconds: number;
  /**
   * CPU time of the taboot process (user + system) during the upload divided by the upload's wall
   * time. Near 1 the client's single JavaScript thread was saturated, so the upload measured the
   * client rather than Qdrant; it can exceed 1 slightly (garbage collection and I/O threads).
   */
  client_cpu_share: number;
  /**
   * Throughput over the upload: `[seconds, vps]` pairs, `seconds` being the time since the upload
   * began at the end of each bucket (normally one second wide; see `Timeline`).
   */
  timeline: Array<[seconds: number, vps: number]>;
}

/** Queries against a collection at several concurrency and `hnsw_ef` settings. */
export interface SearchResult {
  collection: string;
  /** Distinct query vectors per level. */
  queries: number;
  levels: SearchLevel[];
}

/** One search level, identified by `(concurrency, hnsw_ef)`. */
export interface SearchLevel {
  /** Queries in flight. */
  concurrency: number;
  hnsw_ef: number;
  qps: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  /** Mean recall@k against exact search (see `recall.ts`), 0..1. */
  recall: number;
  /** Results requested per query (`limit`). */
  k: number;
}

/** Embedding throughput of TEI at several concurrency levels. */
export interface EmbedResult {
  /** TEI's `model_id`, where `/info` said. */
  model?: string;
  /** Inputs per request. */
  batch_size?: number;
  levels: EmbedLevel[];
}

/** One embedding level, identified by `concurrency`; latencies are per request. */
export interface EmbedLevel {
  /** Requests in flight. */
  concurrency: number;
  docs_per_second: number;
  /** Tokens as TEI counted them (`x-compute-tokens`), per second. */
  tokens_per_second: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
}

export type IngestStage = 'read' | 'chunk' | 'embed' | 'upsert';

export const INGEST_STAGES: readonly IngestStage[] = ['read', 'chunk', 'embed', 'upsert'];

export interface IngestStageResult {
  /** Busy time of the stage, summed over its concurrent requests (so it can exceed the wall time). */
  seconds: number;
  /**
   * This stage's `seconds` divided by the requests it may have in flight (read and chunk 1, embed
   * `tei.concurrency`, upsert `ingest.parallel`), over the sum of that across stages: the share of
   * the time its slots were all taken. The largest share is the likely bottleneck.
   */
  bottleneck_share: number;
}

/** A whole `ingest` of a corpus, end to end. */
export interface IngestResult {
  /** Documents and chunks ingested, where known. */
  documents?: number;
  chunks?: number;
  docs_per_second: number;
  chunks_per_second: number;
  /** Vectors upserted per second of wall time. */
  vps: number;
  /** Busy seconds per stage, the figures of the ingest summary's `stage_seconds`. */
  stages: Record<IngestStage, IngestStageResult>;
  /**
   * TEI's own queue and inference time summed over requests (its `x-queue-time` and
   * `x-inference-time` headers), as the ingest summary's `stage_seconds.tei_queue` and
   * `tei_inference`; absent when TEI sent no timing headers.
   */
  tei_queue_seconds?: number;
  tei_inference_seconds?: number;
  /**
   * The share of the run's wall time TEI's backend spent running batches: the rise of
   * `te_backend_busy_seconds` on TEI's `/metrics` over the run, divided by the wall time (averaged
   * over the endpoints). Only taboot's test TEI in service-rate mode exports that counter; real TEI
   * has none, so the field is absent against it.
   */
  tei_busy_share?: number;
  index_seconds: number;
  total_seconds: number;
}

/** The upsert section without its timeline: the fields `benchJson` lifts to the top level. */
export type UpsertSummary = Omit<UpsertResult, 'timeline'>;

/** What `--json` prints: the result, plus the upsert summary at the top level when there is one. */
export type BenchJson = BenchResult & Partial<UpsertSummary>;

/**
 * The object `taboot bench ... --json` prints. It is the result itself, and when the run has an
 * upsert section its scalar fields (`upload_vps`, `p50_ms`, `p95_ms`, `p99_ms`, `index_seconds`,
 * ...) are also copied to the top level, so `taboot bench upsert --json | jq .upload_vps` works
 * without knowing the nesting. The nested `upsert` section stays (with its timeline), and
 * `readBaseline` ignores the lifted copies, so this output can be saved and used as a baseline.
 */
export function benchJson(result: BenchResult): BenchJson {
  if (!result.upsert) return { ...result };
  const { timeline: _timeline, ...summary } = result.upsert;
  return { ...result, ...summary };
}
