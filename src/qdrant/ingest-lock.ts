import { hostname } from 'node:os';
import { create } from '@bufbuild/protobuf';
import { CreateCollectionSchema, Distance } from '@qdrant/js-client-grpc';
import { ExitCode, ServiceError, TabootError } from '../errors.js';
import type { Qdrant } from './client.js';
import { readCollectionMetadata, updateCollectionMetadata } from './collection-metadata.js';
import { deleteCollection } from './collections.js';
import { jsonToValue } from './payload-json.js';

/** Who holds a lock, as stored in the lock collection's metadata. */
export interface LockOwner {
  run: string;
  host: string;
  pid: number;
  /** Unix seconds. */
  started_at: number;
  /** Unix seconds; renewed while the run is alive. */
  expires_at: number;
}

/** A lock left without renewal for this long is stale; it is renewed every third of it. */
const leaseSeconds = 120;

/** Exit 4: another run holds the collection's lock. */
export class LockHeldError extends TabootError {
  constructor(
    readonly collection: string,
    readonly owner: LockOwner,
  ) {
    const since = new Date(owner.started_at * 1000).toISOString();
    super(
      `collection ${collection} is being written by another run: ${owner.host} pid ${owner.pid}, since ${since}`,
      {
        exitCode: ExitCode.Locked,
        hint:
          'Wait for it to finish (its lock is released at the end, or expires ' +
          `${leaseSeconds} s after its last renewal if it died), then run again.`,
      },
    );
  }
}

/**
 * One writer per collection, across hosts. The lock is a small collection of its own,
 * `<collection>.taboot-lock`, whose metadata names the owner: creating a collection that exists
 * fails (Qdrant decides that through consensus in a cluster), so of two runs that start at once
 * exactly one gets it. The owner renews it every 40 s; a lock that expired, or whose owner is a
 * process of this host that no longer exists (kill -9), is stale and taken over with a warning.
 */
export class IngestLock {
  private timer: NodeJS.Timeout | undefined;
  private owner: LockOwner;

  private constructor(
    private readonly qdrant: Qdrant,
    readonly collection: string,
    readonly name: string,
  ) {
    const now = unixNow();
    this.owner = {
      run: `${hostname()}:${process.pid}:${Date.now().toString(36)}`,
      host: hostname(),
      pid: process.pid,
      started_at: now,
      expires_at: now + leaseSeconds,
    };
  }

  /** Takes the lock of `collection`, or throws `LockHeldError`; `onWarning` hears of a takeover. */
  static async acquire(
    qdrant: Qdrant,
    collection: string,
    onWarning: (line: string) => void,
  ): Promise<IngestLock> {
    const lock = new IngestLock(qdrant, collection, lockName(collection));
    if (await lock.tryCreate()) return lock.started();
    const holder = await lock.holder();
    // Ours already: an earlier attempt of this process created it, and its answer was lost.
    if (holder && holder.host === hostname() && holder.pid === process.pid) {
      lock.owner = holder;
      return lock.started();
    }
    if (holder && !isStale(holder)) throw new LockHeldError(collection, holder);
    const who = holder ? `${holder.host} pid ${holder.pid}` : 'an unknown run';
    onWarning(`taking over the stale lock of collection ${collection} left by ${who}`);
    await deleteCollection(qdrant, lock.name);
    if (await lock.tryCreate()) return lock.started();
    // Another run took it over in between: it is now the live holder.
    const winner = await lock.holder();
    throw new LockHeldError(collection, winner ?? { ...lock.owner, host: 'another host' });
  }

  /** Gives the lock up (deletes the lock collection, if it is still ours). */
  async release(): Promise<void> {
    clearInterval(this.timer);
    const holder = await this.holder().catch(() => undefined);
    if (holder?.run === this.owner.run) await deleteCollection(this.qdrant, this.name);
  }

  private started(): IngestLock {
    this.timer = setInterval(() => void this.renew(), (leaseSeconds / 3) * 1000);
    this.timer.unref();
    return this;
  }

  private async renew(): Promise<void> {
    this.owner.expires_at = unixNow() + leaseSeconds;
    await updateCollectionMetadata(this.qdrant, this.name, { lock: this.owner }).catch(() => {
      // A missed renewal is retried at the next tick; the lease outlives two of them.
    });
  }

  private async tryCreate(): Promise<boolean> {
    const request = create(CreateCollectionSchema, {
      collectionName: this.name,
      vectorsConfig: { config: { case: 'params', value: { size: 1n, distance: Distance.Dot } } },
      metadata: { lock: jsonToValue(this.owner) },
    });
    try {
      await this.qdrant.call(`lock collection ${this.collection}`, (apis) =>
        apis.collections.create(request),
      );
      return true;
    } catch (error) {
      if (error instanceof ServiceError && error.code === 'ALREADY_EXISTS') return false;
      throw error;
    }
  }

  private async holder(): Promise<LockOwner | undefined> {
    try {
      const metadata = await readCollectionMetadata(this.qdrant, this.name);
      const lock = metadata.lock as Partial<LockOwner> | undefined;
      if (typeof lock?.run !== 'string' || typeof lock.pid !== 'number') return undefined;
      return lock as LockOwner;
    } catch (error) {
      if (error instanceof ServiceError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }
}

/** The lock collection's name: next to the collection's, and plainly not a collection of documents. */
export function lockName(collection: string): string {
  return `${collection}.taboot-lock`;
}

function isStale(owner: LockOwner): boolean {
  if (owner.expires_at < unixNow()) return true;
  return owner.host === hostname() && owner.pid !== process.pid && !processAlive(owner.pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
