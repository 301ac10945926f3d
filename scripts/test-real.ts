/**
 * `npm run test:real`: the integration and e2e suites against real servers, to check the test
 * servers against them. Set `TABOOT_TEST_QDRANT_URL` (Qdrant gRPC, e.g. http://127.0.0.1:6334)
 * and/or `TABOOT_TEST_TEI_URL`; whichever is unset stays an in-process test server. Extra
 * arguments replace the default test paths (`npm run test:real -- test/e2e/ingest.test.ts`).
 *
 * After the run it lists the tests that skipped and why: tests that need a test server (fault
 * injection, server-side counters) skip against a real one with a reason (see
 * test/support/real-servers.ts). A skipped test without a reason is listed as such. The exit code
 * is vitest's.
 */
import { type Reporter, startVitest, type TestCase } from 'vitest/node';

const variables = ['TABOOT_TEST_QDRANT_URL', 'TABOOT_TEST_TEI_URL'] as const;

function checkVariables(): void {
  const set = variables.filter((name) => process.env[name]);
  if (set.length === 0) {
    console.error(
      `test:real needs real servers: set ${variables.join(' and/or ')} (e.g. TABOOT_TEST_QDRANT_URL=http://127.0.0.1:6334)`,
    );
    process.exit(2);
  }
  for (const name of set) {
    const value = process.env[name] ?? '';
    if (!/^https?:\/\/[^/\s]+/.test(value)) {
      console.error(`Expected \`${name}\` to be a URL starting with http:// or https://, got \`${value}\``);
      process.exit(2);
    }
  }
  for (const name of variables) {
    const service = name === 'TABOOT_TEST_QDRANT_URL' ? 'Qdrant' : 'TEI';
    console.log(`${service}: ${process.env[name] ? `real, ${process.env[name]}` : 'in-process test server'}`);
  }
}

interface Skipped {
  name: string;
  note: string | undefined;
}

/** Collects every skipped test with its note (the reason given to `context.skip`). */
class SkipCollector implements Reporter {
  readonly skipped: Skipped[] = [];

  onTestCaseResult(testCase: TestCase): void {
    const result = testCase.result();
    if (result.state !== 'skipped') return;
    this.skipped.push({
      name: `${testCase.module.relativeModuleId} > ${testCase.fullName}`,
      note: result.note,
    });
  }
}

function printSkipped(skipped: readonly Skipped[]): void {
  const withReason = skipped.filter((s) => s.note);
  const without = skipped.filter((s) => !s.note);
  console.log(`\nSkipped against real servers: ${withReason.length}`);
  const byReason = new Map<string, string[]>();
  for (const s of withReason) byReason.set(s.note ?? '', [...(byReason.get(s.note ?? '') ?? []), s.name]);
  for (const [reason, names] of byReason) {
    console.log(`  ${reason} (${names.length})`);
    for (const name of names) console.log(`    - ${name}`);
  }
  if (without.length > 0) {
    console.log(
      `\nSkipped without a reason: ${without.length} (say why with skipOnReal, test/support/real-servers.ts)`,
    );
    for (const s of without) console.log(`    - ${s.name}`);
  }
}

checkVariables();
const paths = process.argv.slice(2);
const collector = new SkipCollector();
const vitest = await startVitest('test', paths.length > 0 ? paths : ['test/integration', 'test/e2e'], {
  run: true,
  watch: false,
  reporters: ['default', collector],
});
await vitest.close();
printSkipped(collector.skipped);
