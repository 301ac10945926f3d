import { createHash } from 'node:crypto';

/**
 * The UUID namespace of every taboot point id. It must never change: point ids derive from it, and a
 * new namespace would make every re-run write a second copy of each chunk instead of overwriting it.
 */
export const TABOOT_NAMESPACE = '3d805437-e660-4cb9-aa3e-b2a0fcd00983';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const namespaceBytes = uuidToBytes(TABOOT_NAMESPACE);

/**
 * The Qdrant point id of one chunk: a UUID v5 of `${docId}\u0000${chunkIndex}` in `TABOOT_NAMESPACE`.
 * The NUL separator keeps `("a1", 0)` and `("a", 10)` apart. Lower-case, hyphenated.
 */
export function pointId(docId: string, chunkIndex: number): string {
  if (!Number.isSafeInteger(chunkIndex) || chunkIndex < 0) {
    throw new TypeError(`Expected \`chunkIndex\` to be a non-negative integer, got \`${chunkIndex}\``);
  }
  return uuidV5(namespaceBytes, `${docId}\u0000${chunkIndex}`);
}

/** RFC 4122 name-based UUID (version 5, SHA-1); `namespace` is a UUID string or its 16 bytes. */
export function uuidV5(namespace: string | Uint8Array, name: string): string {
  const ns = typeof namespace === 'string' ? uuidToBytes(namespace) : namespace;
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function uuidToBytes(uuid: string): Uint8Array {
  if (!uuidPattern.test(uuid)) throw new TypeError(`Expected a UUID, got \`${uuid}\``);
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}
