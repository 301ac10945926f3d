import { generatedPointId, uploadVectors, upsertFigures } from '../../src/bench/scenarios/upsert.js';
import { VectorSource } from '../../src/bench/vectors.js';
import { configSchema } from '../../src/config/schema.js';
import { GrpcUpsertTransport } from '../../src/qdrant/grpc-upsert-transport.js';
import type { EncodablePoint } from '../../src/qdrant/point-encoder.js';

/** A measured upload: vectors per second, and this process's CPU time per vector in µs. */
interface PathRun {
  vps: number;
  cpuUs: number;
}

export interface BenchPathOptions {
  /** The discard sink (a) measured. */
  url: string;
  count: number;
  dim: number;
  batch: number;
  parallel: number;
  /** (a)'s fast-path figure, vectors per second. */
  fast: number;
}

/**
 * `taboot bench upsert`'s upload (generated vectors through `UpsertStage` and `GrpcPointSink`, as
 * `ingest` sends them) into the discard sink that measured the fast path, with the same count,
 * dimensions, batch size and requests in flight, so the two figures can be compared in one run: a
 * ratio near 1 says the benchmark measures the path ingest takes, not a faster or slower one. The
 * workloads differ where the benchmark must: its points carry its own small payload (`bucket`)
 * and are generated as it goes, where (a) cycles eight prepared batches with a chunk's payload.
 */
export async function benchUpsertRun(options: Omit<BenchPathOptions, 'fast'>): Promise<PathRun> {
  const config = configSchema.parse({ qdrant: { url: options.url } });
  const data = {
    count: options.count,
    dim: options.dim,
    distribution: 'uniform' as const,
    seed: 1,
    batchSize: options.batch,
    batchBytes: config.ingest.batchBytes,
    parallel: options.parallel,
    wait: false,
  };
  const quiet = { phase() {}, progress() {}, warn() {} };
  const upload = (count: number) =>
    uploadVectors(
      config.qdrant,
      { ...data, count, collection: 'bench', maxRetries: config.ingest.maxRetries },
      quiet,
    );
  // Warmed up as (a) warms up its clients: two rounds of batches, not measured.
  await upload(options.parallel * options.batch * 2);
  const measured = await upload(options.count);
  return {
    vps: upsertFigures(data, measured, 0).upload_vps,
    cpuUs: (measured.cpuShare * measured.wallMs * 1000) / options.count,
  };
}

/** Rounds of bare transport then benchmark, each a quarter of (a)'s count. */
const ROUNDS = 5;

/**
 * The fast path alone (`GrpcUpsertTransport`, no stage, nothing generated while it runs) sending
 * points shaped as the benchmark's (its ids, vectors and `bucket` payload), cycling eight
 * prepared batches as (a) does.
 */
async function bareTransportRun(options: Omit<BenchPathOptions, 'fast'>): Promise<PathRun> {
  const source = new VectorSource(options.dim, { seed: 1 });
  const pool = Array.from({ length: 8 }, (_, batch) =>
    Array.from({ length: options.batch }, (_, index): EncodablePoint => {
      const id = batch * options.batch + index;
      return { id: generatedPointId(id), vector: source.next(), payload: { bucket: id % 100 } };
    }),
  );
  const batches = Math.ceil(options.count / options.batch);
  const transport = new GrpcUpsertTransport({ url: options.url, timeoutMs: 60_000 });
  const sendAll = async (count: number) => {
    let next = 0;
    const worker = async () => {
      for (let batch = next++; batch < count; batch = next++) {
        await transport.upsertPoints({ collectionName: 'bench', wait: false, points: pool[batch % 8]! });
      }
    };
    await Promise.all(Array.from({ length: options.parallel }, worker));
  };
  try {
    // Warmed up as (a) warms up its clients: two rounds of batches, not measured.
    await sendAll(options.parallel * 2);
    const cpu = process.cpuUsage();
    const started = performance.now();
    await sendAll(batches);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const vectors = batches * options.batch;
    return { vps: vectors / seconds, cpuUs: (used.user + used.system) / vectors };
  } finally {
    await transport.close();
  }
}

/**
 * (a)'s comparison line: the benchmark's figure next to (a)'s fast path, then, to tell the path
 * from the workload (the benchmark's points are smaller than (a)'s), the benchmark against the
 * bare fast path sending the benchmark's own points, back to back in a few shorter rounds: the
 * median ratio of rates, and of this process's CPU time per vector, which a machine busy with
 * other work moves far less than it moves rates.
 */
export async function benchPathLine(options: BenchPathOptions): Promise<string> {
  const bench = await benchUpsertRun(options);
  const rates: number[] = [];
  const cpu: Array<{ bench: number; bare: number }> = [];
  const round = {
    ...options,
    count: Math.max(options.batch * options.parallel, Math.round(options.count / 4)),
  };
  for (let index = 0; index < ROUNDS; index += 1) {
    const bare = await bareTransportRun(round);
    const measured = await benchUpsertRun(round);
    rates.push(measured.vps / bare.vps);
    cpu.push({ bench: measured.cpuUs, bare: bare.cpuUs });
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[(values.length - 1) / 2]!;
  const range = (values: number[]) => `${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}`;
  const count = round.count.toLocaleString('en-US');
  const benchCpu = median(cpu.map((run) => run.bench));
  const bareCpu = median(cpu.map((run) => run.bare));
  return [
    `    bench upsert     ${Math.round(bench.vps).toLocaleString('en-US')} vec/s   ` +
      `${(bench.vps / options.fast).toFixed(2)} of the fast path (UpsertStage and GrpcPointSink, as ingest ` +
      "sends; smaller points than the fast path's)",
    `    same points, ${ROUNDS} rounds of ${count} against the bare fast path: rate ${median(rates).toFixed(2)} ` +
      `(${range(rates)}); CPU per vector ${benchCpu.toFixed(2)} µs against ${bareCpu.toFixed(2)} µs ` +
      `(${(bareCpu / benchCpu).toFixed(2)})`,
  ].join('\n');
}
