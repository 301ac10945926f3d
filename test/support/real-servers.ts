import { beforeEach, type TestContext } from 'vitest';

/**
 * The tests can run against real servers instead of the in-process test servers:
 * `TABOOT_TEST_QDRANT_URL` (Qdrant gRPC) and `TABOOT_TEST_TEI_URL`. Some tests cannot run there
 * (fault injection, server-side counters); they skip with a reason, which `npm run test:real`
 * lists after the run.
 */
export type RealService = 'qdrant' | 'tei';

export const realServers: Readonly<Record<RealService, string | undefined>> = {
  qdrant: process.env.TABOOT_TEST_QDRANT_URL || undefined,
  tei: process.env.TABOOT_TEST_TEI_URL || undefined,
};

/** Every skip note written by `skipOnReal` starts with this, so the real-server run can list them. */
export const realSkipPrefix = 'on a real';

/**
 * Skip the running test when any of `services` is a real server, with `reason` (why it cannot
 * run there) in the skip note, e.g. `on a real qdrant: fault injection exists only in the test server`.
 */
export function skipOnReal(
  context: Pick<TestContext, 'skip'>,
  services: RealService | readonly RealService[],
  reason: string,
): void {
  const real = (typeof services === 'string' ? [services] : services).filter((s) => realServers[s]);
  if (real.length > 0) context.skip(`${realSkipPrefix} ${real.join(' and ')}: ${reason}`);
}

/** `skipOnReal` for every test of the enclosing `describe` (or file). */
export function skipSuiteOnReal(services: RealService | readonly RealService[], reason: string): void {
  beforeEach((context) => skipOnReal(context, services, reason));
}
