import { createHash } from 'node:crypto';

/** Where a document came from and how many chunks it has in Qdrant after this run's write. */
export interface LedgerEntry {
  file: string;
  line: number | undefined;
  chunkCount: number;
}

const EMPTY = 0;

/**
 * Every document id this run has read, to find duplicates and, with `--prune`, the stored
 * documents that were not read. Memory grows with the number of documents, not their size: 20 bytes
 * a slot at a load of at most one half, so about 40 bytes per document (10 million documents:
 * 400 MB; one million: 40 MB). Ids are kept as 64-bit hashes (the chance that two of 10 million ids
 * share one is about 3 in a million; such a pair would be reported as a duplicate).
 */
export class DocumentLedger {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  private fileOf = new Uint32Array(1024);
  private lineOf = new Uint32Array(1024);
  private chunksOf = new Uint32Array(1024);
  private used = 0;
  private readonly files: string[] = [];
  private readonly fileIndex = new Map<string, number>();

  get size(): number {
    return this.used;
  }

  /** The entry recorded for `docId`, if this run has read it. */
  get(docId: string): LedgerEntry | undefined {
    const slot = this.find(...hashOf(docId));
    if (this.hi[slot] === EMPTY && this.lo[slot] === EMPTY) return undefined;
    const line = this.lineOf[slot]!;
    return {
      file: this.files[this.fileOf[slot]!]!,
      line: line === 0 ? undefined : line,
      chunkCount: this.chunksOf[slot]!,
    };
  }

  has(docId: string): boolean {
    return this.get(docId) !== undefined;
  }

  /** Records `docId`, replacing an earlier entry. */
  set(docId: string, entry: LedgerEntry): void {
    if ((this.used + 1) * 2 > this.hi.length) this.grow();
    const [hi, lo] = hashOf(docId);
    const slot = this.find(hi, lo);
    if (this.hi[slot] === EMPTY && this.lo[slot] === EMPTY) this.used += 1;
    this.hi[slot] = hi;
    this.lo[slot] = lo;
    this.fileOf[slot] = this.fileNumber(entry.file);
    this.lineOf[slot] = entry.line ?? 0;
    this.chunksOf[slot] = entry.chunkCount;
  }

  /** Updates the chunk count recorded for `docId` (no-op for an id never recorded). */
  setChunkCount(docId: string, chunkCount: number): void {
    const slot = this.find(...hashOf(docId));
    if (this.hi[slot] !== EMPTY || this.lo[slot] !== EMPTY) this.chunksOf[slot] = chunkCount;
  }

  private find(hi: number, lo: number): number {
    const mask = this.hi.length - 1;
    let slot = lo & mask;
    while (true) {
      const slotHi = this.hi[slot]!;
      const slotLo = this.lo[slot]!;
      if ((slotHi === EMPTY && slotLo === EMPTY) || (slotHi === hi && slotLo === lo)) return slot;
      slot = (slot + 1) & mask;
    }
  }

  private fileNumber(file: string): number {
    let index = this.fileIndex.get(file);
    if (index === undefined) {
      index = this.files.length;
      this.files.push(file);
      this.fileIndex.set(file, index);
    }
    return index;
  }

  private grow(): void {
    const { hi, lo, fileOf, lineOf, chunksOf } = this;
    const size = hi.length * 2;
    this.hi = new Uint32Array(size);
    this.lo = new Uint32Array(size);
    this.fileOf = new Uint32Array(size);
    this.lineOf = new Uint32Array(size);
    this.chunksOf = new Uint32Array(size);
    const mask = size - 1;
    for (let old = 0; old < hi.length; old += 1) {
      if (hi[old] === EMPTY && lo[old] === EMPTY) continue;
      let slot = lo[old]! & mask;
      while (this.hi[slot] !== EMPTY || this.lo[slot] !== EMPTY) slot = (slot + 1) & mask;
      this.hi[slot] = hi[old]!;
      this.lo[slot] = lo[old]!;
      this.fileOf[slot] = fileOf[old]!;
      this.lineOf[slot] = lineOf[old]!;
      this.chunksOf[slot] = chunksOf[old]!;
    }
  }
}

/** 64 bits of the id's MD5, never both halves zero (that marks an empty slot). */
function hashOf(docId: string): [hi: number, lo: number] {
  const digest = createHash('md5').update(docId).digest();
  const hi = digest.readUInt32LE(0);
  const lo = digest.readUInt32LE(4);
  return hi === 0 && lo === 0 ? [0, 1] : [hi, lo];
}
