import { mkdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import { dirname } from 'node:path';
import type { Config } from '../config/schema.js';
import { TabootError } from '../errors.js';
import { Qdrant } from '../qdrant/client.js';
import { tabootVersion } from '../version.js';
import { type BaselineComparison, compareWithBaseline, writeBaseline } from './baseline.js';
import { benchReport } from './report/model.js';
import { benchRenderers } from './report/renderers.js';
import {
  BENCH_RESULT_VERSION,
  type BenchMachine,
  type BenchResult,
  type BenchSection,
  type BenchSettings,
} from './result.js';
import { runEmbedScenario } from './scenarios/embed.js';
import { runIngestScenario } from './scenarios/ingest.js';
import { heldOutQueries, runSearchScenario, sampleStoredVectors } from './scenarios/search.js';
import {
  type BenchEvents,
  benchCollectionName,
  benchSpec,
  createBenchCollection,
  dropBenchCollection,
} from './scenarios/shared.js';
import { corpusTexts, generatedTexts } from './scenarios/texts.js';
import { type GeneratedData, runUpsertScenario, uploadVectors, waitForIndex } from './scenarios/upsert.js';

/** What one `taboot bench` run does; the command fills it from flags and config. */
export interface BenchPlan {
  /** Scenarios in the order they run (`all` is upsert, search, embed). */
  scenarios: readonly BenchSection[];
  /**
   * With `upsert`: the name of the collection to create (it must not exist). With `search` alone:
   * an existing collection to query, sampling its stored vectors as queries. Undefined: a
   * throwaway `taboot_bench_<random>` collection.
   */
  collection: string | undefined;
  /** Keep the collections the run created instead of dropping them. */
  keep: boolean;
  /** Generated data for upsert and for search on a generated collection. */
  data: GeneratedData & { indexTimeoutMs: number };
  search: {
    queries: number;
    concurrency: readonly number[];
    hnswEf: readonly number[];
    k: number;
    filters: readonly string[];
  };
  embed: {
    /** A folder to take texts from; undefined for generated texts. */
    corpus: string | undefined;
    /** Texts embedded per level. */
    docs: number;
    concurrency: readonly number[];
    batchSize: number | undefined;
  };
  ingest: { paths: readonly string[] };
}

export interface BenchRun {
  result: BenchResult;
  /** Collections created and kept (`--keep`). */
  kept: string[];
}

/**
 * Runs the plan's scenarios in order and assembles one `BenchResult`. `bench all` searches the
 * collection its upsert scenario filled. Every collection the run created is dropped at the end,
 * also after a failure or an interrupt, unless `plan.keep`.
 */
export async function runBench(
  config: Config,
  plan: BenchPlan,
  events: BenchEvents,
  signal: AbortSignal,
): Promise<BenchRun> {
  const result: BenchResult = {
    version: BENCH_RESULT_VERSION,
    taboot_version: tabootVersion(),
    started_at: new Date().toISOString(),
    machine: machineInfo(),
    settings: benchSettings(config, plan),
  };
  const wants = (section: BenchSection) => plan.scenarios.includes(section);
  const qdrant =
    wants('upsert') || wants('search') || wants('ingest') ? new Qdrant(config.qdrant) : undefined;
  const created: string[] = [];
  const create = async (name: string, dim: number) => {
    await createBenchCollection(qdrant!, name, benchSpec(config.collection, dim));
    created.push(name);
  };
  const uploadOptions = (collection: string) => ({
    ...plan.data,
    collection,
    maxRetries: config.ingest.maxRetries,
  });

  try {
    let generated: string | undefined;
    for (const section of plan.scenarios) {
      signal.throwIfAborted();
      if (section === 'upsert') {
        const name = plan.collection ?? benchCollectionName();
        await create(name, plan.data.dim);
        result.upsert = await runUpsertScenario(qdrant!, config, uploadOptions(name), events, signal);
        generated = name;
      } else if (section === 'search') {
        let name: string;
        let queries: number[][];
        if (!generated && plan.collection) {
          name = plan.collection;
          events.phase('sample queries', `${plan.search.queries} stored vectors of ${name}`);
          ({ queries } = await sampleStoredVectors(qdrant!, name, plan.search.queries, plan.data.seed));
        } else {
          if (!generated) {
            generated = benchCollectionName();
            await create(generated, plan.data.dim);
            await uploadVectors(config.qdrant, uploadOptions(generated), events, signal);
            await waitForIndex(qdrant!, config, uploadOptions(generated), events, signal);
          }
          name = generated;
          const { dim, distribution, seed } = plan.data;
          queries = heldOutQueries(plan.search.queries, dim, distribution, seed);
        }
        result.search = await runSearchScenario(
          qdrant!,
          {
            collection: name,
            queries,
            concurrency: plan.search.concurrency,
            hnswEf: plan.search.hnswEf,
            k: plan.search.k,
            filters: plan.search.filters,
            rescore: config.search.rescore,
            oversampling: config.search.oversampling,
          },
          events,
          signal,
        );
      } else if (section === 'embed') {
        events.phase('texts', plan.embed.corpus ? `from ${plan.embed.corpus}` : 'generated');
        const texts = plan.embed.corpus
          ? await corpusTexts(plan.embed.corpus, plan.embed.docs, config)
          : generatedTexts(plan.embed.docs, plan.data.seed);
        result.embed = await runEmbedScenario(
          config,
          { texts, concurrency: plan.embed.concurrency, batchSize: plan.embed.batchSize },
          events,
          signal,
        );
      } else {
        const name = benchCollectionName();
        result.ingest = await runIngestScenario(
          qdrant!,
          config,
          {
            paths: plan.ingest.paths,
            collection: name,
            indexTimeoutMs: plan.data.indexTimeoutMs,
            createCollection: (dim) => create(name, dim),
          },
          events,
          signal,
        );
      }
    }
  } finally {
    if (!plan.keep) for (const name of created) await dropBenchCollection(qdrant!, name, events);
  }
  return { result, kept: plan.keep ? created : [] };
}

export interface FinishOptions {
  /** A saved `--json` result to compare with, read before the run (`readBaseline`). */
  baseline: BenchResult | undefined;
  /** Allowed regression, a fraction of the baseline (0.1 = 10%). */
  maxRegression: number;
  saveBaseline: string | undefined;
  /** Where to write the HTML report. */
  reportHtml: string | undefined;
}

/**
 * After a run: compare with the baseline, save this run as a baseline, write the HTML report. The
 * result is saved even when it regressed, so a CI job can keep it as an artifact; failing the run
 * is the caller's decision.
 */
export async function finishBench(
  result: BenchResult,
  options: FinishOptions,
): Promise<BaselineComparison | undefined> {
  const comparison = options.baseline
    ? compareWithBaseline(result, options.baseline, options.maxRegression)
    : undefined;
  if (options.saveBaseline) await writeBaseline(options.saveBaseline, result);
  if (options.reportHtml) {
    const html = benchRenderers.html(
      benchReport(result, { comparison, maxRegression: options.maxRegression }),
    );
    try {
      await mkdir(dirname(options.reportHtml), { recursive: true });
      await writeFile(options.reportHtml, html, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new TabootError(`cannot write report ${options.reportHtml} (${code ?? String(error)})`, {
        cause: error,
      });
    }
  }
  return comparison;
}

/** The knobs of the run, flat, for the report's settings table. */
export function benchSettings(config: Config, plan: BenchPlan): BenchSettings {
  const wants = (section: BenchSection) => plan.scenarios.includes(section);
  const settings: BenchSettings = { scenarios: [...plan.scenarios] };
  if (wants('upsert') || wants('search') || wants('ingest')) settings.qdrant_url = config.qdrant.url;
  if (wants('embed') || wants('ingest')) settings.tei_url = config.tei.urls?.join(', ') ?? config.tei.url;
  if (plan.collection) settings.collection = plan.collection;
  const existing = wants('search') && !wants('upsert') && plan.collection !== undefined;
  if (wants('upsert') || (wants('search') && !existing)) {
    Object.assign(settings, {
      count: plan.data.count,
      dim: plan.data.dim,
      distribution: plan.data.distribution,
      seed: plan.data.seed,
      batch_size: plan.data.batchSize,
      parallel: plan.data.parallel,
      wait: plan.data.wait,
      hnsw_m: config.collection.hnsw.m,
      ef_construct: config.collection.hnsw.efConstruct,
      quantization: config.collection.quantization.type,
    });
  }
  if (wants('search')) {
    Object.assign(settings, {
      queries: plan.search.queries,
      concurrency: [...plan.search.concurrency],
      hnsw_ef: [...plan.search.hnswEf],
      k: plan.search.k,
      filter: plan.search.filters.length > 0 ? [...plan.search.filters] : null,
      rescore: config.search.rescore,
      oversampling: config.search.oversampling,
    });
  }
  if (wants('embed')) {
    Object.assign(settings, {
      embed_texts: plan.embed.corpus ?? 'generated',
      embed_docs: plan.embed.docs,
      embed_concurrency: [...plan.embed.concurrency],
    });
    if (!wants('upsert') && !wants('search')) settings.seed = plan.data.seed;
  }
  if (wants('ingest')) {
    Object.assign(settings, {
      ingest_paths: [...plan.ingest.paths],
      tei_concurrency: config.tei.concurrency,
      batch_size: config.ingest.batchSize,
      parallel: config.ingest.parallel,
    });
  }
  return settings;
}

function machineInfo(): BenchMachine {
  const cpu = os.cpus()[0]?.model?.trim();
  return {
    cpus: os.availableParallelism(),
    node: process.version,
    ...(cpu ? { cpu_model: cpu } : {}),
    platform: `${process.platform}-${process.arch}`,
    memory_bytes: os.totalmem(),
  };
}
