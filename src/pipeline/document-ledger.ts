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

/**
 * 64 bits of a fast non-cryptographic hash of the id (cyrb53's two 32-bit lanes, both kept), never
 * both halves zero (that marks an empty slot). Ids are not chosen to collide, so a uniform hash is
 * all the ledger needs; MD5 cost several microseconds a call, three calls per document.
 */
function hashOf(docId: string): [hi: number, lo: number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let index = 0; index < docId.length; index += 1) {
    const unit = docId.charCodeAt(index);
    h1 = Math.imul(h1 ^ unit, 2654435761);
    h2 = Math.imul(h2 ^ unit, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const hi = h2 >>> 0;
  const lo = h1 >>> 0;
  return hi === 0 && lo === 0 ? [0, 1] : [hi, lo];
}
