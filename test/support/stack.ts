import { type QdrantServerOptions, type QdrantTestServer, startQdrantServer } from './qdrant-server/index.js';
import { realServers } from './real-servers.js';
import { startTeiServer, type TeiServerOptions, type TeiTestServer } from './tei-server/index.js';

export interface TestStack {
  qdrantUrl: string;
  teiUrl: string;
  /** The in-process servers; undefined when the tests run against real ones. */
  qdrant: QdrantTestServer | undefined;
  tei: TeiTestServer | undefined;
  /** True when `TABOOT_TEST_QDRANT_URL` / `TABOOT_TEST_TEI_URL` point the tests at real servers. */
  real: { qdrant: boolean; tei: boolean };
  close(): Promise<void>;
}

/**
 * Qdrant and TEI for a test file: the in-process test servers on ephemeral ports, or the real
 * servers named by `TABOOT_TEST_QDRANT_URL` and `TABOOT_TEST_TEI_URL`, so the same tests check
 * the test servers against the real ones.
 */
export async function startStack(
  options: { tei?: TeiServerOptions; qdrant?: QdrantServerOptions; qdrantApiKey?: string } = {},
): Promise<TestStack> {
  const realQdrant = realServers.qdrant;
  const realTei = realServers.tei;
  const qdrant = realQdrant
    ? undefined
    : await startQdrantServer({ ...options.qdrant, apiKey: options.qdrantApiKey ?? options.qdrant?.apiKey });
  const tei = realTei ? undefined : await startTeiServer(options.tei);
  return {
    qdrantUrl: realQdrant ?? qdrant!.url,
    teiUrl: realTei ?? tei!.url,
    qdrant,
    tei,
    real: { qdrant: realQdrant !== undefined, tei: realTei !== undefined },
    close: async () => {
      await Promise.all([qdrant?.close(), tei?.close()]);
    },
  };
}

/** A collection name no other test (or earlier run against a real server) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
}
