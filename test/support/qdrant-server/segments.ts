/** Qdrant inserts new points in chunks of this many ids, each chunk into the smallest appendable segment. */
const insertChunk = 32;
/** `default_segment_number = 0` means one segment per two CPUs, clamped to 2..8; this server acts as a 2-4 CPU machine. */
const autoSegmentNumber = 2;
/** Without `max_segment_size`, Qdrant allows 256,000 KB per indexing thread; two threads here. */
const defaultMaxSegmentKb = 2 * 256_000;
const defaultIndexingThresholdKb = 10_000;

interface Segment {
  id: number;
  keys: Set<string>;
  appendable: boolean;
  /** Built by an optimizer: an HNSW index over its vectors (with `m = 0`, a graph-less one). */
  indexed: boolean;
  /** The HNSW `m` and `ef_construct` it was built with; a change makes the config-mismatch optimizer rebuild it. */
  builtWith: string;
  /** Vectors Qdrant reports as indexed in it: set when built; deletes lower it, moves out of it do not. */
  indexedVectors: number;
  /** Points deleted from it since it was built (the vacuum optimizer's trigger). */
  deleted: number;
}

/** What the optimizer needs to know of a collection's settings, read at each check. */
export interface SegmentSettings {
  /** Bytes of one point's vectors, per vector name: `size × 4` for float32. */
  vectorBytes: number[];
  vectorCount: number;
  defaultSegmentNumber: number;
  maxSegmentSizeKb: number | undefined;
  /** KB; 0 disables indexing, undefined is Qdrant's default 10,000. */
  indexingThresholdKb: number | undefined;
  /** `m` and `ef_construct`, as a key. */
  hnswKey: string;
  deletedThreshold: number;
  vacuumMinVectorNumber: number;
}

/**
 * The segments of one shard, as Qdrant 1.19 lays them out, so that `indexed_vectors_count`,
 * `segments_count` and the green/yellow status follow Qdrant's rules rather than a guess:
 *
 * - a collection starts with `default_segment_number` appendable plain segments (2 for auto);
 * - new points go, 32 ids at a time, into the smallest appendable segment; an update of a point in
 *   an indexed (non-appendable) segment moves it into an appendable one;
 * - the indexing optimizer picks every plain segment whose vectors take at least
 *   `indexing_threshold` KB (per vector name; `0` disables it), largest first, and builds it,
 *   merged with the smallest other plain segment (or failing that the smallest indexed one) while
 *   the collection has as many segments as it wants and the pair fits `max_segment_size`; an
 *   appendable segment is added when none is left;
 * - the config-mismatch optimizer rebuilds indexed segments when HNSW `m` or `ef_construct`
 *   changes (restoring `m` after a bulk load); the vacuum optimizer rebuilds an indexed segment
 *   once deletes pass `deleted_threshold` of it and `vacuum_min_vector_number`;
 * - an indexed segment counts all its vectors as indexed, with `m = 0` too (no graph is built,
 *   but Qdrant 1.19 still counts them); plain segments count none.
 *
 * Not modelled: the merge optimizer (more segments than wanted), memmap/on-disk moves, payload
 * (`payload_m`) links, several shards.
 */
export class SegmentModel {
  private segments: Segment[] = [];
  private readonly located = new Map<string, Segment>();
  private nextId = 1;

  constructor(private readonly settings: () => SegmentSettings) {
    const wanted = this.wantedSegments();
    for (let i = 0; i < wanted; i++) this.addAppendable();
  }

  get count(): number {
    return this.segments.length;
  }

  /** Record points written (inserted or overwritten), in request order. */
  write(keys: readonly string[]): void {
    const fresh: string[] = [];
    for (const key of keys) {
      const at = this.located.get(key);
      if (at === undefined) fresh.push(key);
      else if (!at.appendable) {
        at.keys.delete(key);
        at.deleted += 1;
        this.place(key, this.smallestAppendable());
      }
    }
    for (let i = 0; i < fresh.length; i += insertChunk) {
      const target = this.smallestAppendable();
      for (const key of fresh.slice(i, i + insertChunk)) this.place(key, target);
    }
  }

  delete(key: string): void {
    const at = this.located.get(key);
    if (!at) return;
    at.keys.delete(key);
    this.located.delete(key);
    if (at.indexed) {
      at.indexedVectors = Math.max(0, at.indexedVectors - this.settings().vectorCount);
      at.deleted += 1;
    }
  }

  /** Whether an optimizer has work to do now (Qdrant reports the collection yellow until it is done). */
  needsOptimization(): boolean {
    return this.segments.some((s) => this.needsIndexing(s) || this.needsRebuild(s));
  }

  /** Run every optimization that is due, as Qdrant's optimizers would once they finish. */
  optimize(): void {
    const rebuild = this.segments.filter((s) => this.needsRebuild(s));
    for (const segment of rebuild) this.build([segment]);
    this.planIndexing();
    if (!this.segments.some((s) => s.appendable)) this.addAppendable();
  }

  indexedVectors(): number {
    return this.segments.reduce((sum, s) => sum + (s.indexed ? s.indexedVectors : 0), 0);
  }

  private planIndexing(): void {
    const { maxSegmentSizeKb } = this.settings();
    const maxBytes = (maxSegmentSizeKb ?? defaultMaxSegmentKb) * 1024;
    const bySize = (list: Segment[]) => list.sort((a, b) => this.bytes(a) - this.bytes(b) || a.id - b.id);
    const unindexed = bySize(this.segments.filter((s) => this.needsIndexing(s)));
    const indexed = bySize(this.segments.filter((s) => s.indexed));
    const remaining = new Set(this.segments);
    let scheduled = 0;
    const plans: Segment[][] = [];
    const plan = (group: Segment[]) => {
      for (const s of group) remaining.delete(s);
      scheduled += 1;
      plans.push(group);
    };
    for (let selected = unindexed.pop(); selected; selected = unindexed.pop()) {
      if (!remaining.has(selected)) continue;
      if (remaining.size + scheduled < this.wantedSegments()) {
        plan([selected]);
        continue;
      }
      const size = this.bytes(selected);
      const smallestPlain = unindexed[0];
      if (smallestPlain && remaining.has(smallestPlain) && size + this.bytes(smallestPlain) < maxBytes) {
        unindexed.shift();
        plan([selected, smallestPlain]);
        continue;
      }
      const smallestIndexed = indexed[0];
      if (
        smallestIndexed &&
        remaining.has(smallestIndexed) &&
        smallestIndexed !== selected &&
        size + this.bytes(smallestIndexed) < maxBytes
      ) {
        indexed.shift();
        plan([selected, smallestIndexed]);
        continue;
      }
      plan([selected]);
    }
    for (const group of plans) this.build(group);
  }

  /** Replace `group` with one indexed, non-appendable segment holding their points. */
  private build(group: Segment[]): void {
    const keys = new Set<string>();
    for (const segment of group) for (const key of segment.keys) keys.add(key);
    const built: Segment = {
      id: this.nextId++,
      keys,
      appendable: false,
      indexed: true,
      builtWith: this.settings().hnswKey,
      indexedVectors: keys.size * this.settings().vectorCount,
      deleted: 0,
    };
    this.segments = [...this.segments.filter((s) => !group.includes(s)), built];
    for (const key of keys) this.located.set(key, built);
  }

  private needsIndexing(segment: Segment): boolean {
    if (segment.indexed) return false;
    const thresholdKb = this.settings().indexingThresholdKb ?? defaultIndexingThresholdKb;
    if (thresholdKb === 0) return false;
    return this.bytes(segment) >= thresholdKb * 1024;
  }

  private needsRebuild(segment: Segment): boolean {
    if (!segment.indexed) return false;
    const { hnswKey, deletedThreshold, vacuumMinVectorNumber } = this.settings();
    if (segment.builtWith !== hnswKey) return true;
    const total = segment.keys.size + segment.deleted;
    return (
      segment.deleted >= vacuumMinVectorNumber && total > 0 && segment.deleted / total > deletedThreshold
    );
  }

  /** The largest vector storage of the segment: Qdrant compares each vector name with the threshold. */
  private bytes(segment: Segment): number {
    return segment.keys.size * Math.max(0, ...this.settings().vectorBytes);
  }

  private place(key: string, segment: Segment): void {
    segment.keys.add(key);
    this.located.set(key, segment);
  }

  private smallestAppendable(): Segment {
    let best: Segment | undefined;
    for (const s of this.segments) {
      if (s.appendable && (!best || s.keys.size < best.keys.size)) best = s;
    }
    return best ?? this.addAppendable();
  }

  private addAppendable(): Segment {
    const segment: Segment = {
      id: this.nextId++,
      keys: new Set(),
      appendable: true,
      indexed: false,
      builtWith: '',
      indexedVectors: 0,
      deleted: 0,
    };
    this.segments.push(segment);
    return segment;
  }

  private wantedSegments(): number {
    return this.settings().defaultSegmentNumber || autoSegmentNumber;
  }
}
